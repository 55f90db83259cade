"""A raw HTTP exchange over a socket, for requests no client library would send."""

from __future__ import annotations

import socket


def exchange(host: str, port: int, request: bytes) -> bytes:
    """Send ``request`` as it is and read the answer until the server closes or 5 s pass."""
    with socket.create_connection((host, port), timeout=5) as connection:
        connection.sendall(request)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
                if b"\r\n\r\n" in received and len(received) > 4096:
                    break
        except TimeoutError:
            pass
    return received


# Both framings at once: a front end that reads Content-Length and a back end that reads the
# chunks disagree on where this request ends (request smuggling).
SMUGGLING = (
    b"POST /api/v1/tenants HTTP/1.1\r\n"
    b"Host: 127.0.0.1\r\n"
    b"Content-Length: 4\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"\r\n"
    b"0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
)
