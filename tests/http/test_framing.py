"""A request with both Content-Length and Transfer-Encoding is refused with 400 (RFC 9112
section 6.3), by the WSGI middleware under any server (here Werkzeug's, over a real socket);
`provisioner serve` (waitress) is checked in tests/test_cli.py."""

from __future__ import annotations

import socket
from typing import Any

from flask import Flask

from tests.http.raw import SMUGGLING, exchange
from tests.phones.conftest import serve


def test_both_framings_are_refused_and_nothing_behind_them_is_answered(demo_app: Flask) -> None:
    url, thread, server = serve(demo_app)
    host, port = url.removeprefix("http://").split(":")
    try:
        answer = exchange(host, int(port), SMUGGLING)
        plain = exchange(host, int(port), b"GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n")
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        thread.join(timeout=10)
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.endswith(b"400 BAD REQUEST"), answer[:300]
    assert b"Transfer-Encoding" in answer  # the message says why
    assert answer.count(b"HTTP/1.") == 1  # the smuggled GET got no answer
    assert plain.split(b"\r\n", 1)[0].endswith(b"200 OK")


def test_chunked_alone_is_still_taken(demo_app: Flask) -> None:
    url, thread, server = serve(demo_app)
    host, port = url.removeprefix("http://").split(":")
    body = b'{"name": "acme"}'
    request = (
        b"POST /api/v1/tenants HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n"
    )
    try:
        answer = exchange(host, int(port), request)
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        thread.join(timeout=10)
    assert answer.split(b"\r\n", 1)[0].endswith(b"401 UNAUTHORIZED")  # reached the API


def test_serve_takes_a_burst_of_connections_in_one_turn_of_its_loop() -> None:
    """Thousands of connections opened at once must not queue phones behind a connection a
    turn (the kernel then drops their SYNs and the phones retry after a second)."""
    from waitress import wasyncore

    from provisioner.http.framing import ACCEPTS_PER_TURN, create_waitress_server

    def application(environ: object, start_response: Any) -> list[bytes]:
        start_response("204 No Content", [])
        return []

    server = create_waitress_server(application, "127.0.0.1", 0, threads=1)
    address = ("127.0.0.1", server.effective_port)
    waiting = [socket.create_connection(address, timeout=5) for _ in range(ACCEPTS_PER_TURN + 10)]
    try:
        open_before = len(server._map)
        wasyncore.loop(timeout=1, map=server._map, use_poll=True, count=1)
        accepted = len(server._map) - open_before
    finally:
        for connection in waiting:
            connection.close()
        wasyncore.close_all(server._map)  # the listener and every accepted connection
        server.task_dispatcher.shutdown()
    assert accepted == ACCEPTS_PER_TURN
