"""Our gunicorn worker (provisioner.http.worker), run by a real gunicorn on loopback: new
connections are answered by the thread that accepts them, kept-alive and slow ones still
are, idle ones hold no serving thread, and a stopping worker finishes what it began."""

from __future__ import annotations

import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from provisioner.http import worker
from provisioner.http.worker import HeldHeaders
from tests.http.test_metrics import free_port
from tests.http.worker_app import BIG, HELLO

PROJECT = Path(__file__).resolve().parents[2]
GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def start_gunicorn(
    *options: str, wrap: Callable[[socket.socket], socket.socket] = lambda plain: plain
) -> tuple[int, subprocess.Popen[bytes]]:
    """gunicorn with our worker on a free port, once its worker answers (it listens before)."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn",
            "--bind", f"127.0.0.1:{port}",
            "--workers", "1", "--threads", "4", "--graceful-timeout", "5",
            "--worker-class", "provisioner.http.worker.ThreadWorker",
            *options,
            "tests.http.worker_app:app",
        ],
        cwd=PROJECT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with wrap(socket.create_connection(("127.0.0.1", port), timeout=5)) as connection:
                if answer(connection).endswith(HELLO):
                    break
        except OSError:
            time.sleep(0.05)
    return port, server


@pytest.fixture
def gunicorn() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port, server = start_gunicorn()
    yield port, server
    server.kill()
    server.wait(timeout=10)


def answer(connection: socket.socket, request: bytes = GET) -> bytes:
    """Send ``request`` and read one answer (its headers and Content-Length's bytes)."""
    if request:
        connection.sendall(request)
    received = b""
    deadline = time.monotonic() + 5
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
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def test_a_new_connection_per_request_gets_each_whole_answer(gunicorn: tuple[int, object]) -> None:
    port, _ = gunicorn
    for _ in range(20):
        with connect(port) as connection:
            assert answer(connection).endswith(b"\r\n\r\n" + HELLO)


def test_a_kept_alive_connection_is_answered_soon_after_and_after_a_pause(
    gunicorn: tuple[int, object],
) -> None:
    port, _ = gunicorn
    with connect(port) as connection:
        assert answer(connection).endswith(HELLO)
        assert answer(connection).endswith(HELLO)  # at once: the same serving thread
        time.sleep(3 * worker.NEXT_REQUEST_SECONDS)  # idle: it waits in the main loop's poller
        assert answer(connection).endswith(HELLO)
        pipelined = answer(connection, GET + GET)  # two requests in one send
        assert pipelined.count(b"HTTP/1.1 200 OK") >= 1
        rest = b"" if pipelined.count(HELLO) == 2 else answer(connection, b"")
        assert (pipelined + rest).count(HELLO) == 2


def test_a_client_slow_to_send_its_request_is_answered(gunicorn: tuple[int, object]) -> None:
    port, _ = gunicorn
    with connect(port) as connection:
        time.sleep(3 * worker.FIRST_DATA_SECONDS)
        assert answer(connection).endswith(HELLO)


def test_idle_connections_hold_no_serving_thread(gunicorn: tuple[int, object]) -> None:
    port, _ = gunicorn
    idle = [connect(port) for _ in range(40)]  # ten times the threads, saying nothing
    try:
        time.sleep(0.2)
        started = time.monotonic()
        with connect(port) as connection:
            assert answer(connection).endswith(HELLO)
        # Each thread gives an idle connection FIRST_DATA_SECONDS, then hands it over.
        assert time.monotonic() - started < 40 / 4 * worker.FIRST_DATA_SECONDS + 1.0
    finally:
        for connection in idle:
            connection.close()


def test_answers_without_a_body_and_interim_answers_are_not_held(
    gunicorn: tuple[int, object],
) -> None:
    port, _ = gunicorn
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


def test_a_stopping_worker_finishes_the_answer_it_began(
    gunicorn: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, server = gunicorn
    with connect(port) as connection:
        connection.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)  # the app is sleeping on it
        os.kill(server.pid, signal.SIGTERM)
        received = answer(connection, b"")
    assert received.startswith(b"HTTP/1.1 200 OK") and received.endswith(HELLO)
    assert server.wait(timeout=15) == 0


def test_held_headers_go_out_with_the_first_body_bytes() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        held = HeldHeaders(ours)
        held.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
        assert not select.select([theirs], [], [], 0.05)[0]  # nothing sent yet
        held.sendall(b"ok")
        assert theirs.recv(4096) == b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        held.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
        held.fileno()  # any other use of the socket sends what is held
        assert theirs.recv(4096) == b"HTTP/1.1 204 No Content\r\n\r\n"
        held.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")  # interim: never held
        assert theirs.recv(4096) == b"HTTP/1.1 100 Continue\r\n\r\n"


def test_a_last_request_is_closed_at_once_and_unread_bytes_never_cut_an_answer(
    gunicorn: tuple[int, object],
) -> None:
    port, _ = gunicorn
    with connect(port) as connection:
        received = answer(connection, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert received.endswith(HELLO)
        assert connection.recv(1) == b""  # closed by the server, no reset
    # A body the app never reads (a GET's) still coming while a long answer goes out: the
    # server lingers, so no reset throws away what the client has not read yet.
    body = b"x" * (worker.DRAIN_BYTES - 5000)  # what a closing server drains at most
    request = b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    request += f"Content-Length: {len(body)}\r\n\r\n".encode()
    with connect(port) as connection:
        connection.sendall(request + body[:1000])
        time.sleep(0.3)  # answered while the rest of the body is still to come
        connection.sendall(body[1000:])
        time.sleep(0.3)
        assert answer(connection, b"").endswith(b"\r\n\r\n" + BIG)


def test_a_kept_alive_connection_is_still_answered_when_the_worker_stops(
    gunicorn: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, server = gunicorn
    with connect(port) as connection:
        assert b"Connection: keep-alive" in answer(connection)
        os.kill(server.pid, signal.SIGTERM)
        time.sleep(0.3)  # the worker is stopping; the client's next request is on its way
        last = answer(connection)
        assert last.startswith(b"HTTP/1.1 200 OK") and last.endswith(HELLO)
        assert b"Connection: close" in last
    assert server.wait(timeout=15) == 0


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files in ``folder``."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "cert.pem", folder / "key.pem"


def test_over_tls_a_kept_alive_connection_is_answered_again(tmp_path: Path) -> None:
    certificate, key = self_signed(tmp_path)
    context = ssl.create_default_context(cafile=str(certificate))

    def wrap(plain: socket.socket) -> socket.socket:
        return context.wrap_socket(plain, server_hostname="127.0.0.1")

    port, server = start_gunicorn("--certfile", str(certificate), "--keyfile", str(key), wrap=wrap)
    try:
        with wrap(connect(port)) as connection:
            assert answer(connection).endswith(HELLO)
            assert answer(connection).endswith(HELLO)  # at once, on the same thread
            time.sleep(3 * worker.NEXT_REQUEST_SECONDS)  # idle: the main loop's poller
            assert answer(connection).endswith(HELLO)
    finally:
        server.kill()
        server.wait(timeout=10)
