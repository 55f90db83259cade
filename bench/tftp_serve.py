"""Benchmark: our TFTP service against tftpd-hpa (and tftpy) serving the same files, same run.

Run as root from the project folder (tftpd-hpa chroots into its root folder):

    .venv/bin/python bench/tftp_serve.py [--runs 7] [--placement free|same|split] [--no-tftpy]

Every server listens on its own ephemeral loopback port and is stopped at the end. curl is the
client. Each run times every case against every server, in an order that rotates per run;
the table shows the median per server and the ratio ours / tftpd-hpa (below 1: we are faster).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
CONFIG_FILES = 200
CONFIG_SIZE = 2048
FIRMWARE_FILES = 4
FIRMWARE_SIZE = 16 * 1024 * 1024


@dataclass(frozen=True)
class Case:
    """One client workload: a curl command line for a port, and the bytes it must fetch."""

    name: str
    arguments: Callable[[int, Path], list[str]]
    expected_sizes: list[int]


def free_port() -> int:
    """An ephemeral loopback UDP port, free at the time of asking."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_files(root: Path) -> None:
    """200 config files of 2 KiB and 4 firmware images of 16 MiB, readable by tftpd's user."""
    root.chmod(0o755)
    (root / "cfg").mkdir(mode=0o755)
    (root / "fw").mkdir(mode=0o755)
    for index in range(1, CONFIG_FILES + 1):
        line = f"# phone {index:03d}\naccount.1.user_name = {index:03d}\n".encode()
        (root / "cfg" / f"c{index:03d}.cfg").write_bytes((line * 64)[:CONFIG_SIZE])
    for index in range(1, FIRMWARE_FILES + 1):
        (root / "fw" / f"fw{index}.bin").write_bytes(os.urandom(FIRMWARE_SIZE))
    for path in root.rglob("*"):
        if path.is_file():
            path.chmod(0o644)


def curl_config(port: int, names: list[str], folder: Path) -> Path:
    """A curl -K file fetching ``names`` from ``port`` into /dev/null."""
    config = folder / f"urls-{port}-{len(names)}-{names[0].replace('/', '_')}.txt"
    config.write_text(
        "".join(f'url = "tftp://127.0.0.1:{port}/{name}"\noutput = "/dev/null"\n' for name in names)
    )
    return config


def cases() -> list[Case]:
    """The workloads: a boot storm of small files, and firmware-sized downloads."""
    configs = [f"cfg/c{index:03d}.cfg" for index in range(1, CONFIG_FILES + 1)]
    firmware = [f"fw/fw{index}.bin" for index in range(1, FIRMWARE_FILES + 1)]

    def storm(port: int, folder: Path) -> list[str]:
        return ["--parallel", "--parallel-max", "50", "-K", str(curl_config(port, configs, folder))]

    def one_firmware(block_size: int) -> Callable[[int, Path], list[str]]:
        def arguments(port: int, folder: Path) -> list[str]:
            config = curl_config(port, firmware[:1], folder)
            return ["--tftp-blksize", str(block_size), "-K", str(config)]

        return arguments

    def firmware_storm(port: int, folder: Path) -> list[str]:
        config = curl_config(port, firmware, folder)
        return ["--tftp-blksize", "1468", "--parallel", "--parallel-max", "4", "-K", str(config)]

    return [
        Case("boot storm: 200 x 2 KiB, 50 at once", storm, [CONFIG_SIZE] * CONFIG_FILES),
        Case("firmware: 1 x 16 MiB, blksize 512", one_firmware(512), [FIRMWARE_SIZE]),
        Case("firmware: 1 x 16 MiB, blksize 1468", one_firmware(1468), [FIRMWARE_SIZE]),
        Case("firmware: 4 x 16 MiB at once, blksize 1468", firmware_storm, [FIRMWARE_SIZE] * 4),
    ]


def run_case(case: Case, port: int, folder: Path, client_prefix: list[str]) -> float:
    """Time one workload against one server; fail loudly when a byte is missing."""
    command = [
        *client_prefix,
        *["curl", "-s", "--max-time", "300", "-w", "%{size_download}\\n"],
        *case.arguments(port, folder),
    ]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=400)
    elapsed = time.perf_counter() - started
    sizes = sorted(int(line) for line in result.stdout.split())
    if result.returncode != 0 or sizes != sorted(case.expected_sizes):
        raise SystemExit(f"{case.name} on port {port} failed: rc={result.returncode} {sizes[:5]}")
    return elapsed


def wait_until_serving(port: int) -> None:
    """Poll with curl until the server hands out a config file (at most ~10 s)."""
    for _attempt in range(100):
        probe = subprocess.run(
            ["curl", "-s", "--max-time", "1", "-o", "/dev/null", "-w", "%{size_download}",
             f"tftp://127.0.0.1:{port}/cfg/c001.cfg"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if probe.stdout.strip() == str(CONFIG_SIZE):
            return
        time.sleep(0.1)
    raise SystemExit(f"no TFTP server answered on 127.0.0.1:{port}")


@contextmanager
def server(command: list[str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server process for the duration of the block, then stop it."""
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        wait_until_serving(port)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve_ours(root: Path, port: int) -> None:
    """Child mode: our TftpService over ``root``, reading each file per request like tftpd."""
    sys.path.insert(0, str(PROJECT))
    from provisioner.tftp import TftpService

    def render(name: str, client_host: str) -> bytes | None:
        path = root / name  # names arrive clean: relative, no "..", no leading "/"
        return path.read_bytes() if path.is_file() else None

    service = TftpService(render, "127.0.0.1", port, max_transfers=256)
    service.start()
    try:
        sys.stdin.read()  # the parent closes stdin or terminates us
    finally:
        service.stop()


def serve_tftpy(root: Path, port: int) -> None:
    """Child mode: tftpy 0.8.7's own server over ``root`` (files only, uploads refused)."""
    import logging

    import tftpy

    logging.getLogger("tftpy").setLevel(logging.WARNING)
    server = tftpy.TftpServer(str(root), upload_open=lambda path, context: None)
    server.listen("127.0.0.1", port, timeout=1, retries=5)


def server_commands(
    root: Path, server_prefix: list[str], with_tftpy: bool
) -> dict[str, tuple[list[str], int]]:
    """Each server's command line on its own ephemeral port."""
    commands: dict[str, tuple[list[str], int]] = {}
    port = free_port()
    commands["tftpd-hpa"] = (
        [*server_prefix, "in.tftpd", "--foreground", "--address", f"127.0.0.1:{port}",
         "--secure", str(root)],
        port,
    )  # fmt: skip
    port = free_port()
    ours = [sys.executable, __file__, "--serve-ours", str(root), str(port)]
    commands["ours"] = ([*server_prefix, *ours], port)
    if with_tftpy:
        port = free_port()
        tftpy = [sys.executable, __file__, "--serve-tftpy", str(root), str(port)]
        commands["tftpy"] = ([*server_prefix, *tftpy], port)
    return commands


def placement_prefixes(placement: str) -> tuple[list[str], list[str]]:
    """taskset prefixes (server, client): free, both on CPU 0, or server 0 and client 1."""
    if placement == "same":
        return ["taskset", "-c", "0"], ["taskset", "-c", "0"]
    if placement == "split":
        return ["taskset", "-c", "0"], ["taskset", "-c", "1"]
    return [], []


def measure(runs: int, placement: str, with_tftpy: bool) -> dict[str, dict[str, list[float]]]:
    """Start every server, run every case ``runs`` times against each, stop the servers."""
    server_prefix, client_prefix = placement_prefixes(placement)
    timings: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="tftp-bench-") as folder:
        root = Path(folder) / "root"
        root.mkdir()
        make_files(root)
        commands = server_commands(root, server_prefix, with_tftpy)
        with (
            server(*commands["tftpd-hpa"]),
            server(*commands["ours"]),
            server(*commands["tftpy"]) if with_tftpy else nullcontext(),
        ):
            names = list(commands)
            for run in range(runs):
                order = names[run % len(names) :] + names[: run % len(names)]
                for case in cases():
                    for name in order:
                        elapsed = run_case(case, commands[name][1], Path(folder), client_prefix)
                        timings.setdefault(case.name, {}).setdefault(name, []).append(elapsed)
                print(f"run {run + 1}/{runs} done", file=sys.stderr)
    return timings


def report(timings: dict[str, dict[str, list[float]]], runs: int, placement: str) -> None:
    """Print medians and the ratios against tftpd-hpa."""
    with_tftpy = any("tftpy" in by_server for by_server in timings.values())
    print(f"\nTFTP on loopback, median of {runs} runs, placement {placement}; curl as client")
    header = f"{'case':44} {'tftpd-hpa':>10} {'ours':>10} {'ours/hpa':>9}"
    if with_tftpy:
        header += f" {'tftpy':>10} {'tftpy/hpa':>10}"
    print(header)
    for case, by_server in timings.items():
        reference = statistics.median(by_server["tftpd-hpa"])
        ours = statistics.median(by_server["ours"])
        line = f"{case:44} {reference:9.3f}s {ours:9.3f}s {ours / reference:8.2f}x"
        if with_tftpy:
            tftpy = statistics.median(by_server["tftpy"])
            line += f" {tftpy:9.3f}s {tftpy / reference:9.2f}x"
        print(line)


def main() -> None:
    """Parse the arguments; run a child server or the whole benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--placement", choices=["free", "same", "split"], default="free")
    parser.add_argument("--no-tftpy", action="store_true", help="leave tftpy's server out")
    parser.add_argument("--serve-ours", nargs=2, metavar=("ROOT", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--serve-tftpy", nargs=2, metavar=("ROOT", "PORT"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve_ours:
        serve_ours(Path(arguments.serve_ours[0]), int(arguments.serve_ours[1]))
        return
    if arguments.serve_tftpy:
        serve_tftpy(Path(arguments.serve_tftpy[0]), int(arguments.serve_tftpy[1]))
        return
    if shutil.which("in.tftpd") is None:
        raise SystemExit("tftpd-hpa is needed: apt-get install tftpd-hpa (as root)")
    if os.geteuid() != 0:
        raise SystemExit("run as root: tftpd-hpa --secure chroots into its root folder")
    timings = measure(arguments.runs, arguments.placement, not arguments.no_tftpy)
    report(timings, arguments.runs, arguments.placement)


if __name__ == "__main__":
    main()
