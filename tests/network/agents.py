"""Real SNMP agents for tests and the benchmark: net-snmp snmpd and snmpsim, on loopback.

Each agent binds an ephemeral UDP port on 127.0.0.1 (found free just before start) in a
temporary folder, and stops when the test is done.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SNMPD = shutil.which("snmpd") or "/usr/sbin/snmpd"
SNMPSIM_VENV = Path(os.environ.get("PROVISIONER_SNMPSIM_VENV", "/opt/provisioner-snmpsim"))
SNMPSIM_USER = os.environ.get("PROVISIONER_SNMPSIM_USER", "snmpsim")
COMMUNITY = "public"
V3_USERS = {
    # user: (auth protocol, auth key, priv protocol, priv key), as net-snmp names them
    "monsha": ("SHA", "authpass-123", "AES", "privpass-123"),
    "monsha256": ("SHA-256", "authpass-256", "AES-256", "privpass-256"),
    "monsha1aes256": ("SHA", "authpass-123", "AES-256", "privpass-123"),
}


def free_udp_port() -> int:
    """An ephemeral UDP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_agent(port: int, community: str, seconds: float = 10.0) -> None:
    """Block until the agent on ``port`` answers a GET of sysUpTime (bounded in time)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = subprocess.run(
            [
                "snmpget",
                "-v2c",
                "-c",
                community,
                "-t",
                "0.3",
                "-r",
                "0",
                "-On",
                f"127.0.0.1:{port}",
                "1.3.6.1.2.1.1.3.0",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"the SNMP agent on port {port} did not answer within {seconds} s")


@dataclass
class Snmpd:
    """A net-snmp snmpd in the foreground with a generated configuration."""

    folder: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    extra_config: list[str] = field(default_factory=list)
    # Each loopback address is one "device" to a poller (the benchmark uses many).
    addresses: list[str] = field(default_factory=lambda: ["127.0.0.1"])

    def config_text(self) -> str:
        """snmpd.conf: v2c community and v3 authPriv users, loopback only."""
        listen = ",".join(f"udp:{address}:{self.port}" for address in self.addresses)
        lines = [
            f"agentAddress {listen}",
            f"rocommunity {COMMUNITY} 127.0.0.0/8",
            "sysName provisioner-test-router",
            "sysLocation Kantoor Amsterdam",
            "sysContact support@example.net",
        ]
        for user, (auth, auth_key, priv, priv_key) in V3_USERS.items():
            lines.append(f"createUser {user} {auth} {auth_key} {priv} {priv_key}")
            lines.append(f"rouser {user} priv")
        return "\n".join(lines + self.extra_config) + "\n"

    def start(self) -> Snmpd:
        """Start (or restart on the same port) and wait until it answers."""
        if not self.port:
            self.port = free_udp_port()
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "snmpd.conf").write_text(self.config_text())
        environment = {**os.environ, "SNMP_PERSISTENT_DIR": str(self.folder / "persist")}
        # -I -smux: no SMUX on privileged port 199; -C: only our config file.
        command = [
            SNMPD,
            "-f",
            "-C",
            "-c",
            str(self.folder / "snmpd.conf"),
            "-I",
            "-smux",
            "-Lf",
            str(self.folder / "snmpd.log"),
            "-p",
            str(self.folder / "snmpd.pid"),
        ]
        self.process = subprocess.Popen(command, env=environment)
        wait_for_agent(self.port, COMMUNITY)
        return self

    def stop(self) -> None:
        """Stop the agent and wait for it (bounded)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


def snmpsim_available() -> str | None:
    """None when snmpsim can run here, else why not."""
    if not (SNMPSIM_VENV / "bin" / "snmpsim-command-responder").exists():
        return f"snmpsim is not installed in {SNMPSIM_VENV}; run `bash scripts/setup --test`"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SNMPSIM_USER)
        except KeyError:
            return f"user {SNMPSIM_USER} is missing; run `bash scripts/setup --test`"
    return None


@dataclass
class Snmpsim:
    """snmpsim serving ``.snmprec`` recordings; community = file name without extension."""

    recordings: dict[str, str]
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    folder: Path | None = None

    def start(self) -> Snmpsim:
        """Write the recordings where the unprivileged process user can read them, then start."""
        # pytest's tmp folders are private to root, so the agent's data lives in its own folder.
        self.folder = Path(tempfile.mkdtemp(prefix="provisioner-snmpsim-"))
        data = self.folder / "data"
        data.mkdir()
        for name, content in self.recordings.items():
            (data / f"{name}.snmprec").write_text(content)
        (self.folder / "cache").mkdir()
        self.port = free_udp_port()
        command = [
            str(SNMPSIM_VENV / "bin" / "snmpsim-command-responder"),
            f"--data-dir={data}",
            f"--cache-dir={self.folder / 'cache'}",
            f"--agent-udpv4-endpoint=127.0.0.1:{self.port}",
            "--v3-user=simulator",
            "--v3-auth-key=auctoritas",
            "--v3-auth-proto=SHA",
            "--v3-priv-key=privatus",
            "--v3-priv-proto=AES",
            f"--logging-method=file:{self.folder / 'snmpsim.log'}",
        ]
        if os.geteuid() == 0:
            # snmpsim refuses to serve as root; it drops to this user (see scripts/setup).
            command += [f"--process-user={SNMPSIM_USER}", f"--process-group={SNMPSIM_USER}"]
            shutil.chown(self.folder / "cache", SNMPSIM_USER, SNMPSIM_USER)
            shutil.chown(self.folder, SNMPSIM_USER, SNMPSIM_USER)
        os.chmod(self.folder, 0o755)
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for_agent(self.port, next(iter(self.recordings)), seconds=30)
        return self

    def stop(self) -> None:
        """Stop the simulator and remove its folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
