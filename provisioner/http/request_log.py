"""One line per request for `provisioner serve` (waitress writes none): when, who, what was
asked, the status, and for a phone's file its MAC and what it got (``full-credentials``,
``challenge``, ``throttled``...). `serve --quiet` leaves it off."""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, Response, current_app, g, request

from provisioner.phones.identify import identify
from provisioner.phones.model import RequestInfo
from provisioner.times import local_time

log = logging.getLogger("provisioner.requests")
EXTENSION_KEY = "provisioner.request_log"
REDACTED = "[redacted]"
# Paths that carry a secret: a router's zero-touch fetch secret (/z/<serial>/<secret>/<file>)
# and the per-phone token of a firmware download (/p/firmware/<mac>/<token>/<file>).
SECRET_IN_PATH = (
    re.compile(r"^(/z/[^/]*/)[^/]+"),
    re.compile(r"^(/p/firmware/[^/]*/)[^/]+"),
)


class RequestLineFormatter(logging.Formatter):
    """``<when> <request line>``, when in UTC in the form every command shows times
    (provisioner.times): a request belongs to no tenant until it is identified."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        """The record's time, ``2026-12-03 10:02:03+00:00 UTC``."""
        return local_time(datetime.fromtimestamp(record.created, UTC), None)


def init_app(app: Flask) -> None:
    """Log every request of ``app`` to standard output, one line each."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(RequestLineFormatter())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    app.extensions[EXTENSION_KEY] = True
    app.before_request(_start)
    app.after_request(_log)


def _start() -> None:
    g.request_started = time.perf_counter()


def _log(response: Response) -> Response:
    started = g.get("request_started", time.perf_counter())
    milliseconds = (time.perf_counter() - started) * 1000
    log.info("%s", request_line(response, milliseconds))
    return response


def request_line(response: Response, milliseconds: float) -> str:
    """``127.0.0.1 GET /p/805ec0aa0001.cfg 200 mac=805ec0aa0001 full-first-use 3 ms``."""
    path = redacted_path(request.path)
    line = f"{request.remote_addr} {request.method} {path} {response.status_code}"
    phone = g.get("phone_answer")
    if phone is not None:
        mac, kind = phone
        line += f" mac={mac or '-'} {kind}"
    return f"{line} {milliseconds:.0f} ms"


def redacted_path(path: str) -> str:
    """``path`` with any secret it carries replaced: the log is read by more people than may
    fetch a router's configuration."""
    for pattern in SECRET_IN_PATH:
        path = pattern.sub(rf"\g<1>{REDACTED}", path)
    return path


def note_phone_answer(file: str, kind: str) -> None:
    """Let the request's log line name the phone's MAC (from the file name or User-Agent) and
    what it got; called by the phones' view. Nothing to do while requests are not logged."""
    if not current_app.extensions.get(EXTENSION_KEY):
        return
    file_request = identify(
        RequestInfo(file, request.remote_addr or "", "http", request.headers.get("User-Agent", ""))
    )
    g.phone_answer = (file_request.mac if file_request else None, kind)


TftpRender = Callable[[str, str], bytes | None]


def logging_tftp(render: TftpRender) -> TftpRender:
    """The TFTP service's render function, logging one line per read request like HTTP's:
    ``127.0.0.1 TFTP 805ec0aa0001.cfg 200 mac=805ec0aa0001 2 ms`` (404: nothing to send)."""

    def logged(name: str, client: str) -> bytes | None:
        started = time.perf_counter()
        body = render(name, client)
        milliseconds = (time.perf_counter() - started) * 1000
        file_request = identify(RequestInfo(name, client, "tftp"))
        mac = f" mac={file_request.mac or '-'}" if file_request else ""
        status = 404 if body is None else 200
        log.info("%s TFTP %s %s%s %.0f ms", client, name, status, mac, milliseconds)
        return body

    return logged
