"""Run every benchmark with small, bounded sizes and print one summary of their tables.

    .venv/bin/python bench/run_all.py            # each bench's own table, then the summary
    .venv/bin/python bench/run_all.py --only boot_storm phones_http

Each bench runs as its own process with the options below (they keep their own tables and
stay runnable alone); a bench whose tools are missing (nginx, tftpd-hpa, snmpd) is reported
as failed with its last line, and the others go on. Bounded: each has ``--timeout`` seconds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES: dict[str, list[str]] = {
    "boot_storm": ["--phones", "2000", "--tenants", "4", "--rounds", "1"],
    "slow_clients": ["--slow", "16", "500", "--idle", "0", "1000", "--boots", "2"],
    "phones_http": ["--requests", "1000"],
    "growth": ["--phones", "100", "1000", "--extensions", "10", "500", "--requests", "200"],
    "freeswitch_xml": ["--requests", "1000"],
    "tftp_serve": ["--runs", "1"],
    "snmp_poll": ["--devices", "50", "--rounds", "1"],
    "cli_startup": ["--runs", "10"],
}


def run(name: str, arguments: list[str], timeout: float) -> tuple[bool, list[str], float]:
    """Run one bench; (succeeded, its output lines, seconds)."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, str(HERE / f"{name}.py"), *arguments],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False, [f"stopped after {timeout:.0f} s"], time.monotonic() - started
    lines = (done.stdout + (done.stderr if done.returncode else "")).strip().splitlines()
    return done.returncode == 0, lines, time.monotonic() - started


def main() -> None:
    """Run the chosen benches and print each table, then the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHES))
    parser.add_argument("--timeout", type=float, default=900)
    options = parser.parse_args()
    summary: list[tuple[str, bool, str, float]] = []
    for name in options.only or list(BENCHES):
        print(f"== {name} {' '.join(BENCHES[name])}", flush=True)
        succeeded, lines, seconds = run(name, BENCHES[name], options.timeout)
        print("\n".join(lines), flush=True)
        summary.append((name, succeeded, lines[-1] if lines else "", seconds))
    print("\n== summary (the ratios are in each table above)")
    for name, succeeded, last, seconds in summary:
        state = "ok" if succeeded else "FAILED"
        print(f"{name:<16}{state:<8}{seconds:>6.0f} s  {last[:90]}")


if __name__ == "__main__":
    main()
