"""What the benchmarks share: free loopback ports, waiting for a server, and nginx as the reference.

Each bench runs as a script (`python bench/NAME.py`), so this folder is on its import path.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path


def free_port() -> int:
    """A loopback port nobody listens on now (nginx and the servers are told one)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int, seconds: float = 60) -> None:
    """Return once something accepts on ``port``; give up after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on port {port} after {seconds:.0f} s")


def write_files(root: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (relative name -> bytes) under ``root``, readable by nginx's workers."""
    for name, body in files.items():
        target = root / name.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        target.chmod(0o644)
        for folder in target.parents:
            if folder.is_relative_to(root.parent):
                folder.chmod(0o755)


def start_nginx(
    folder: Path,
    root: Path,
    workers: str = "1",
    connections: int = 256,
    backlog: int = 511,
    tls: tuple[Path, Path] | None = None,
    settings: tuple[str, str] = ("", ""),
) -> tuple[int, subprocess.Popen[bytes]]:
    """nginx serving the files under ``root`` on a free loopback port, its files in ``folder``:
    over TLS with ``tls`` (certificate, key), ``settings`` added to its http and server blocks."""
    folder.chmod(0o755)  # nginx workers run as another user and must read the files
    (folder / "tmp").mkdir(exist_ok=True)
    port = free_port()
    listen = f"listen 127.0.0.1:{port} backlog={backlog}"
    if tls is not None:
        listen += f" ssl; ssl_certificate {tls[0]}; ssl_certificate_key {tls[1]}"
    (folder / "nginx.conf").write_text(
        f"daemon off; worker_processes {workers}; pid {folder}/nginx.pid;"
        f" error_log {folder}/nginx-error.log crit;\n"
        f"events {{ worker_connections {connections}; }}\n"
        "http { access_log off; keepalive_requests 100000; default_type text/plain;\n"
        f"  client_body_temp_path {folder}/tmp; {settings[0]}\n"
        f"  server {{ {listen}; root {root}; {settings[1]} }} }}\n"
    )
    process = subprocess.Popen(["nginx", "-c", str(folder / "nginx.conf"), "-p", str(folder)])
    wait_for(port)
    return port, process


def per_second(client: Callable[[int], None], requests: int, threads: int) -> float:
    """Requests per second when ``threads`` threads each run ``client(requests // threads)``."""
    workers = [threading.Thread(target=client, args=(requests // threads,)) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return (requests // threads * threads) / (time.perf_counter() - started)


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user and system) used so far by process ``pid`` and the children it has now
    (the server's or nginx's workers): Linux's /proc; 0.0 where it cannot be read."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, ValueError, IndexError):
            continue
    return total


def named_cpu_seconds(names: frozenset[str]) -> float:
    """CPU time (user and system) used so far by every process whose command name is one of
    ``names`` (PostgreSQL's and Redis's on this machine, say): Linux's /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for folder in Path("/proc").iterdir():
        if not folder.name.isdigit():
            continue
        try:
            name, _, rest = (folder / "stat").read_text().partition(" (")[2].rpartition(")")
            if name in names:
                fields = rest.split()
                total += (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, ValueError, IndexError):
            continue
    return total


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key in ``folder``/tls, readable by nginx."""
    from tests.tls import certificate_files

    files = certificate_files()
    write_files(folder / "tls", files)
    return folder / "tls" / "cert.pem", folder / "tls" / "key.pem"
