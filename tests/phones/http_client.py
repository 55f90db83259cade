"""A small real HTTP client for the phone tests (http.client, optional source address)."""

from __future__ import annotations

import hashlib
import http.client
import re
import urllib.request
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


def digest_authorization(
    challenge: str,
    method: str,
    path: str,
    username: str,
    password: str,
    count: int = 1,
    client_nonce: str = "0a4f113b",
) -> str:
    """The Authorization header a Digest client (qop=auth, MD5) sends in answer to
    ``challenge`` (a WWW-Authenticate value), computed here from RFC 7616, not by the server."""
    nonce = re.search(r'nonce="([^"]+)"', challenge)
    assert nonce is not None, challenge
    return digest_for_nonce(nonce[1], method, path, username, password, count, client_nonce)


def digest_for_nonce(
    nonce: str,
    method: str,
    path: str,
    username: str,
    password: str,
    count: int = 1,
    client_nonce: str = "0a4f113b",
    realm: str = "provisioner",
) -> str:
    """A Digest Authorization header for a given nonce."""

    def md5(text: str) -> str:
        return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()

    first, second = md5(f"{username}:{realm}:{password}"), md5(f"{method}:{path}")
    response = md5(f"{first}:{nonce}:{count:08x}:{client_nonce}:auth:{second}")
    return (
        f'Digest username="{username}", realm="{realm}", nonce="{nonce}", uri="{path}", '
        f'qop=auth, nc={count:08x}, cnonce="{client_nonce}", response="{response}", '
        "algorithm=MD5"
    )


def digest_challenge(headers: http.client.HTTPMessage) -> str:
    """The Digest challenge among an answer's WWW-Authenticate headers."""
    return next(value for value in headers.get_all("WWW-Authenticate") or [] if "Digest" in value)


class SourceAddressHandler(urllib.request.HTTPHandler):
    """A urllib handler whose connections leave from ``source`` (a loopback address)."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self._source = source

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        def connect(host: str, **options: object) -> http.client.HTTPConnection:
            return http.client.HTTPConnection(host, source_address=(self._source, 0), **options)  # type: ignore[arg-type]

        return self.do_open(connect, req)  # type: ignore[arg-type]
