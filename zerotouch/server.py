"""The HTTP edge: fetch a vendor's first file as its phone would, report a discovered phone."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from zerotouch.verdict import FetchResult

BODY_START = 256
# Phones on the LAN do not use the laptop's proxy; neither do we.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def fetch_file(url: str, user_agent: str, timeout: float) -> FetchResult:
    """GET ``url`` with the phone's User-Agent: the status and the start of the body."""
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return FetchResult(url, response.status, response.read(BODY_START))
    except urllib.error.HTTPError as exc:
        return FetchResult(url, exc.code)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return FetchResult(url, None, error=str(reason))


def report_discovered(server: str, token: str, report: dict[str, Any], timeout: float) -> int:
    """POST one discovered phone to ``server``'s API; the HTTP status (0: no answer)."""
    url = server.rstrip("/") + "/api/v1/discovered"
    request = urllib.request.Request(
        url,
        data=json.dumps(report).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return 0
