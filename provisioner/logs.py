"""Log lines as text, or as one JSON object per line (``LOG_FORMAT=json``) for log shippers.

In JSON mode every phone file request is logged by ``provisioner.requests`` with the device's
MAC, its tenant, the file, how it was answered, the status and the time it took.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from provisioner.app_core import AppCore

REQUEST_LOG = logging.getLogger("provisioner.requests")
# The fields a request line carries beside the message (LogRecord attributes by ``extra``).
REQUEST_FIELDS = ("mac", "tenant", "file", "answer", "status", "protocol", "source", "ms")
_MARK = "_provisioner_json"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the request fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a line of JSON."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def json_logs(app: AppCore) -> bool:
    """True when LOG_FORMAT asks for JSON lines."""
    return str(app.config.get("LOG_FORMAT") or "").lower() == "json"


def init_app(app: AppCore) -> None:
    """With LOG_FORMAT=json, give the root logger one JSON handler (once per process)."""
    if not json_logs(app):
        return
    root = logging.getLogger()
    if not any(getattr(handler, _MARK, False) for handler in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def log_request(fields: dict[str, Any]) -> None:
    """One phone request as a log line (its fields become the JSON object's)."""
    REQUEST_LOG.info("phone request", extra=fields)
