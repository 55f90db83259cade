"""A small WSGI app for the production command's tests (tests/http/test_production.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

HELLO = b"hello from the server\n"
BIG = b"0123456789abcdef" * 131072  # 2 MB: more than the socket buffers hold at once


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
    if method == "POST":
        body = environ["wsgi.input"].read()
    elif path == "/slow":
        time.sleep(1.0)
        body = HELLO
    elif path == "/big":
        body = BIG
    elif path == "/empty":
        start_response("204 No Content", [])
        return []
    else:
        body = HELLO
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [] if method == "HEAD" else [body]


def create_app() -> Any:
    """The app, as the production command's ``--app`` asks for it (a function making it),
    with the framing layer provisioner's own app has."""
    from provisioner.http.framing import DrainUnreadBody

    return DrainUnreadBody(app)
