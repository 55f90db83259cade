"""The production command (provisioner.http.production: granian) run for real on loopback:
whole answers on new and kept-alive connections, clients slow to send or idle hold no thread,
a stop finishes the answers begun, unread bytes never cut an answer short, TLS keeps its
connections, and both framings at once never let a smuggled request through."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from provisioner.http import production
from tests.http.raw import SMUGGLING
from tests.http.test_metrics import free_port
from tests.http.worker_app import BIG, HELLO
from tests.tls import self_signed

PROJECT = Path(__file__).resolve().parents[2]
GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def start_production(
    *options: str,
    app: str = "tests.http.worker_app:create_app",
    environment: dict[str, str] | None = None,
    wrap: Callable[[socket.socket], socket.socket] = lambda plain: plain,
) -> tuple[int, subprocess.Popen[bytes]]:
    """The production command on a free port, once it answers ``GET /``."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "provisioner.http.production",
            "--http", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4", "--quiet",
            "--app", app, *options,
        ],
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(PROJECT), **(environment or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its workers too are stopped by ``stop``
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with wrap(socket.create_connection(("127.0.0.1", port), timeout=5)) as connection:
                if answer(connection).startswith(b"HTTP/1.1 "):
                    return port, server
        except OSError:
            time.sleep(0.05)
    stop(server)
    raise AssertionError("the production command did not answer within 30 s")


def stop(server: subprocess.Popen[bytes]) -> None:
    """Kill the command and its workers (its own process group), if still there."""
    try:
        os.killpg(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.wait(timeout=10)


@pytest.fixture
def granian() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port, server = start_production()
    yield port, server
    stop(server)


def answer(connection: socket.socket, request: bytes = GET) -> bytes:
    """Send ``request`` and read one answer (its headers and Content-Length's bytes)."""
    if request:
        connection.sendall(request)
    received = b""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        head, ended, body = received.partition(b"\r\n\r\n")
        if ended and (request.startswith(b"HEAD") or len(body) >= content_length(head)):
            return received
        chunk = connection.recv(65536)
        if not chunk:
            return received
        received += chunk
    return received


def content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def test_a_new_connection_per_request_gets_each_whole_answer(granian: tuple[int, object]) -> None:
    port, _ = granian
    for _ in range(20):
        with connect(port) as connection:
            assert answer(connection).endswith(b"\r\n\r\n" + HELLO)


def test_a_kept_alive_connection_is_answered_again_after_a_pause_and_pipelined(
    granian: tuple[int, object],
) -> None:
    port, _ = granian
    with connect(port) as connection:
        assert answer(connection).endswith(HELLO)
        assert answer(connection).endswith(HELLO)
        time.sleep(0.5)
        assert answer(connection).endswith(HELLO)
        pipelined = answer(connection, GET + GET)  # two requests in one send
        rest = b"" if pipelined.count(HELLO) == 2 else answer(connection, b"")
        assert (pipelined + rest).count(HELLO) == 2


def test_a_client_slow_to_send_its_request_is_answered(granian: tuple[int, object]) -> None:
    port, _ = granian
    with connect(port) as connection:
        for position in range(0, len(GET), 4):
            connection.sendall(GET[position : position + 4])
            time.sleep(0.1)
        assert answer(connection, b"").endswith(HELLO)


def test_idle_connections_hold_no_serving_thread(granian: tuple[int, object]) -> None:
    port, _ = granian
    idle = [connect(port) for _ in range(40)]  # ten times the threads, saying nothing
    try:
        started = time.monotonic()
        with connect(port) as connection:
            assert answer(connection).endswith(HELLO)
        assert time.monotonic() - started < 1.0
    finally:
        for connection in idle:
            connection.close()


def test_a_client_that_sends_no_whole_request_is_closed_after_the_header_time(
    granian: tuple[int, object],
) -> None:
    port, _ = granian
    with connect(port) as connection:
        connection.sendall(GET[:10])  # then nothing more
        started = time.monotonic()
        connection.settimeout(production.HEADER_READ_SECONDS + 10)
        try:
            closed = connection.recv(4096)
        except ConnectionResetError:
            closed = b""
        waited = time.monotonic() - started
    assert b"hello" not in closed
    assert production.HEADER_READ_SECONDS - 1 < waited < production.HEADER_READ_SECONDS + 5


def test_answers_without_a_body_and_interim_answers(granian: tuple[int, object]) -> None:
    port, _ = granian
    with connect(port) as connection:
        head = answer(connection, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK") and head.endswith(b"\r\n\r\n")
        assert answer(connection, b"GET /empty HTTP/1.1\r\nHost: x\r\n\r\n").startswith(
            b"HTTP/1.1 204"
        )
    with connect(port) as connection:
        connection.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        assert connection.recv(4096).startswith(b"HTTP/1.1 100 Continue")  # before the body
        assert answer(connection, b"hello").endswith(b"\r\n\r\nhello")


def test_a_stopping_server_finishes_the_answer_it_began(
    granian: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, server = granian
    with connect(port) as connection:
        connection.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)  # the app is sleeping on it
        os.kill(server.pid, signal.SIGTERM)
        received = answer(connection, b"")
    assert received.startswith(b"HTTP/1.1 200 OK") and received.endswith(HELLO)
    assert server.wait(timeout=production.STOP_SECONDS + 10) == 0
    with pytest.raises(OSError):
        connect(port).close()  # stopped: nothing listens


def test_a_stopping_server_closes_idle_kept_alive_connections_cleanly(
    granian: tuple[int, subprocess.Popen[bytes]],
) -> None:
    # A connection between requests is closed with a FIN (a client's next request goes on a
    # new connection, as RFC 9112 section 9.3.1 has clients retry), never reset mid-answer.
    port, server = granian
    with connect(port) as connection:
        assert answer(connection).endswith(HELLO)
        os.kill(server.pid, signal.SIGTERM)
        assert connection.recv(1) == b""
    assert server.wait(timeout=production.STOP_SECONDS + 10) == 0


def test_a_last_request_is_closed_and_unread_bytes_never_cut_an_answer(
    granian: tuple[int, object],
) -> None:
    port, _ = granian
    with connect(port) as connection:
        received = answer(connection, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert received.endswith(HELLO)
        assert connection.recv(1) == b""  # closed by the server, no reset
    # A body the app never reads (a GET's) still coming while a long answer goes out: the
    # server must not reset the connection and throw away what the client has not read yet.
    body = b"x" * 60000
    request = b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    request += f"Content-Length: {len(body)}\r\n\r\n".encode()
    with connect(port) as connection:
        connection.sendall(request + body[:1000])
        time.sleep(0.3)  # answered while the rest of the body is still to come
        connection.sendall(body[1000:])
        time.sleep(0.3)
        assert answer(connection, b"").endswith(b"\r\n\r\n" + BIG)


def test_both_framings_at_once_never_let_a_smuggled_request_through(
    granian: tuple[int, object],
) -> None:
    # hyper, under granian, reads such a request by its Transfer-Encoding alone (RFC 9112
    # section 6.3 allows that or a 400) and closes the connection after the answer, so the
    # bytes behind it are never read as a request.
    port, _ = granian
    with connect(port) as connection:
        connection.sendall(SMUGGLING)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.") == 1
    assert b"connection: close" in received.lower()
    assert HELLO not in received.partition(b"\r\n\r\n")[2] or received.count(HELLO) == 1


@pytest.mark.parametrize(
    "newest", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls1.2", "tls1.3"]
)
def test_over_tls_a_kept_alive_connection_is_answered_again(
    tmp_path: Path, newest: ssl.TLSVersion
) -> None:
    certificate, key = self_signed(tmp_path)
    context = ssl.create_default_context(cafile=str(certificate))
    context.maximum_version = newest  # phones of today often speak TLS 1.2 at most

    def wrap(plain: socket.socket) -> socket.socket:
        return context.wrap_socket(plain, server_hostname="127.0.0.1")

    port, server = start_production("--certificate", str(certificate), "--key", str(key), wrap=wrap)
    try:
        with wrap(connect(port)) as connection:
            assert answer(connection).endswith(HELLO)
            assert answer(connection).endswith(HELLO)
            time.sleep(0.5)
            assert answer(connection).endswith(HELLO)
    finally:
        stop(server)


def test_the_descriptor_limit_is_raised_and_each_worker_takes_what_it_allows() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = production.raise_descriptor_limit(soft)  # asking for no more changes nothing
    assert limit == soft
    assert production.connections_per_worker(limit) == max(limit - production.DESCRIPTORS_KEPT, 64)
    options = production.server_options(("127.0.0.1", 8470), 2, 8, 20000)
    assert options["backpressure"] == 20000 - production.DESCRIPTORS_KEPT
    assert options["http1_settings"].header_read_timeout == production.HEADER_READ_SECONDS * 1000
    assert options["workers_kill_timeout"] == production.STOP_SECONDS
