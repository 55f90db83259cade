"""A small real HTTP client for the phone tests (http.client, optional source address)."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit


def fetch(
    base_url: str,
    path: str,
    user_agent: str = "",
    source: str = "127.0.0.1",
    headers: dict[str, str] | None = None,
    method: str = "GET",
    body: bytes | None = None,
) -> tuple[int, bytes, http.client.HTTPMessage]:
    """One request from ``source`` (a loopback address); returns status, body, headers."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(
        parts.hostname, parts.port, timeout=10, source_address=(source, 0)
    )
    try:
        sent = {"User-Agent": user_agent} if user_agent else {}
        connection.request(method, path, body=body, headers={**sent, **(headers or {})})
        response = connection.getresponse()
        return response.status, response.read(), response.headers
    finally:
        connection.close()
