"""Behind a real nginx (Debian's) as the reverse proxy, with PROXY_HOPS=1, the server sees
each client's own address: `provisioner serve` (waitress) and the production command
(granian) alike. /metrics, open only to 127.0.0.5 here, proves it: through nginx every
client would otherwise be nginx's 127.0.0.1, and a client's own X-Forwarded-For is not
believed (the last address, the one nginx added, is)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.http.conftest import start_serve, stop_serve
from tests.http.test_metrics import free_port
from tests.http.test_production import start_production, stop

ALLOWED = "127.0.0.5"
OTHER = "127.0.0.9"

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="needs nginx (nginx-light)")


def settings(tmp_path: Path) -> dict[str, str]:
    """The environment both servers are configured from: behind one proxy, metrics for one."""
    return {
        "PROVISIONER_INSTANCE": str(tmp_path / "instance"),
        "PROVISIONER_DATABASE_URL": f"sqlite:///{tmp_path / 'provisioner.sqlite3'}",
        "PROVISIONER_SECRETS_KEY": Fernet.generate_key().decode(),
        "PROVISIONER_PROXY_HOPS": "1",
        "PROVISIONER_METRICS_ALLOWED_NETWORKS": f"{ALLOWED}/32",
    }


def start_serving(tmp_path: Path) -> tuple[int, subprocess.Popen[str]]:
    """`provisioner serve` on a free loopback port (it migrates and loads the demo first)."""
    return start_serve(settings(tmp_path))


def start_granian(tmp_path: Path) -> tuple[int, subprocess.Popen[bytes]]:
    """The production command on the store `provisioner serve` made (migrated, demo)."""
    _, serving = start_serving(tmp_path)
    serving.terminate()
    serving.communicate(timeout=10)
    return start_production(app="provisioner:create_app", environment=settings(tmp_path))


def start_nginx_proxy(folder: Path, upstream: int) -> tuple[int, subprocess.Popen[bytes]]:
    """nginx on a free loopback port passing every request to ``upstream``, as docs/ say."""
    folder.chmod(0o755)
    port = free_port()
    (folder / "nginx.conf").write_text(
        f"daemon off; worker_processes 1; pid {folder}/nginx.pid;"
        f" error_log {folder}/error.log error;\n"
        "events { worker_connections 64; }\n"
        f"http {{ access_log off; client_body_temp_path {folder}/body;"
        f" proxy_temp_path {folder}/proxy;\n"
        f"  server {{ listen 127.0.0.1:{port};\n"
        f"    location / {{ proxy_pass http://127.0.0.1:{upstream};\n"
        "      proxy_set_header Host $host;\n"
        "      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
        "      proxy_set_header X-Forwarded-Proto $scheme; } } }\n"
    )
    nginx = subprocess.Popen(["nginx", "-c", str(folder / "nginx.conf"), "-p", str(folder)])
    wait_for_nginx(port, nginx)
    return port, nginx


def wait_for_nginx(port: int, nginx: subprocess.Popen[bytes]) -> None:
    """Return once nginx listens on ``port`` (20 s at most)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    nginx.kill()
    raise AssertionError("nginx did not listen within 20 s")


def status_from(source: str, port: int, headers: str = "") -> int:
    """The status of ``GET /metrics`` sent from loopback address ``source``."""
    request = f"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n"
    with socket.create_connection(("127.0.0.1", port), 10, (source, 0)) as connection:
        connection.sendall(request.encode())
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return int(received[9:12])


@pytest.fixture(params=["serve", "production"])
def behind_nginx(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[int]:
    """nginx's port, in front of `provisioner serve` or the production command."""
    if request.param == "serve":
        upstream, serving = start_serving(tmp_path)
        stop_server: Callable[[], None] = partial(stop_serve, serving)
    else:
        upstream, production = start_granian(tmp_path)
        stop_server = partial(stop, production)
    (tmp_path / "nginx").mkdir()
    port, nginx = start_nginx_proxy(tmp_path / "nginx", upstream)
    try:
        yield port
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        stop_server()


def test_each_client_is_seen_by_its_own_address_through_the_proxy(behind_nginx: int) -> None:
    assert status_from(ALLOWED, behind_nginx) == 200
    assert status_from(OTHER, behind_nginx) == 403


def test_a_clients_own_forwarded_header_is_not_believed(behind_nginx: int) -> None:
    assert status_from(OTHER, behind_nginx, f"X-Forwarded-For: {ALLOWED}\r\n") == 403
