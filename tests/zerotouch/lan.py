"""A customer LAN for tests: network namespaces joined by a bridge, a real dnsmasq on the
"router" side, the provisioner server beside it, the agent on the "laptop" side, and a "rogue"
namespace where a second DHCP server can be started.

    laptop ──veth── [bridge in router, 10.99.0.1] ──veth── rogue (10.99.0.3)

Everything is named with a random tag, removed on stop (also after a failure), and every wait
is bounded. Traffic never leaves the two namespaces.
"""

from __future__ import annotations

import os
import secrets
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

DNSMASQ = "/usr/sbin/dnsmasq"
PROJECT = Path(__file__).resolve().parents[2]
ROUTER_ADDRESS = "10.99.0.1"
LAPTOP_ADDRESS = "10.99.0.2"
ROGUE_ADDRESS = "10.99.0.3"
SERVER_PORT = 8470


def namespaces_problem() -> str | None:
    """None when this machine lets us make network namespaces and run dnsmasq, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add); run the tests as root"
    if not Path(DNSMASQ).exists():
        return f"{DNSMASQ} is missing; run `bash scripts/setup --test` (Debian dnsmasq-base)"
    probe = f"ztprobe{secrets.token_hex(3)}"
    try:
        made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    except FileNotFoundError:
        return "the ip command (iproute2) is missing; run `bash scripts/setup --test`"
    if made.returncode != 0:
        return f"this machine cannot create network namespaces: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, check=False)
    return None


def _ip(*arguments: str) -> None:
    subprocess.run(["ip", *arguments], check=True, capture_output=True, timeout=10)


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """Terminate a process we started and wait for it (bounded); close its pipe."""
    if process is None:
        return
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    if process.stdout is not None:
        process.stdout.close()


def wait_for_line(process: subprocess.Popen[bytes], text: str, seconds: float) -> str:
    """Read the process's stdout until a line holds ``text``; RuntimeError after ``seconds``."""
    assert process.stdout is not None
    deadline = time.monotonic() + seconds
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
            if text.encode() in seen:
                return seen.decode(errors="replace")
    raise RuntimeError(f"no line with {text!r} within {seconds} s; output: {seen!r}")


@dataclass
class Lan:
    """Two namespaces ("router" and "laptop") and the veth between them."""

    tag: str = field(default_factory=lambda: secrets.token_hex(3))
    created: list[str] = field(default_factory=list)

    @property
    def router(self) -> str:
        return f"ztr{self.tag}"

    @property
    def laptop(self) -> str:
        return f"ztl{self.tag}"

    @property
    def rogue(self) -> str:
        return f"ztx{self.tag}"

    @property
    def router_interface(self) -> str:
        """The router's port towards the laptop (frames sent here reach only the laptop)."""
        return f"ztr{self.tag}v"

    @property
    def router_bridge(self) -> str:
        """The LAN inside the router namespace; 10.99.0.1 and dnsmasq live on it."""
        return f"ztr{self.tag}b"

    @property
    def rogue_interface(self) -> str:
        return f"ztx{self.tag}v"

    @property
    def laptop_interface(self) -> str:
        return f"ztl{self.tag}v"

    def create(self) -> Lan:
        """Make the namespaces, the bridge, the veth pairs and the addresses."""
        for namespace in (self.router, self.laptop, self.rogue):
            _ip("netns", "add", namespace)
            self.created.append(namespace)
            _ip("-n", namespace, "link", "set", "lo", "up")
        _ip("-n", self.router, "link", "add", self.router_bridge, "type", "bridge")
        _ip("-n", self.router, "link", "set", self.router_bridge, "up")
        rogue_port = f"ztr{self.tag}x"
        for port, namespace, end in (
            (self.router_interface, self.laptop, self.laptop_interface),
            (rogue_port, self.rogue, self.rogue_interface),
        ):
            _ip(
                "link", "add", port, "netns", self.router, "type", "veth",
                "peer", "name", end, "netns", namespace,
            )  # fmt: skip
            _ip("-n", self.router, "link", "set", port, "master", self.router_bridge)
            _ip("-n", self.router, "link", "set", port, "up")
            _ip("-n", namespace, "link", "set", end, "up")
        _ip("-n", self.router, "addr", "add", f"{ROUTER_ADDRESS}/24", "dev", self.router_bridge)
        _ip("-n", self.laptop, "addr", "add", f"{LAPTOP_ADDRESS}/24", "dev", self.laptop_interface)
        _ip("-n", self.rogue, "addr", "add", f"{ROGUE_ADDRESS}/24", "dev", self.rogue_interface)
        return self

    def destroy(self) -> None:
        """Remove the namespaces (the veth pair goes with them)."""
        for namespace in reversed(self.created):
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True, check=False)
        self.created.clear()

    def popen(
        self, namespace: str, command: list[str], **options: object
    ) -> subprocess.Popen[bytes]:
        """Start ``command`` inside ``namespace``."""
        return subprocess.Popen(["ip", "netns", "exec", namespace, *command], **options)  # type: ignore[call-overload]

    def run(
        self, namespace: str, command: list[str], timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` inside ``namespace`` to its end (bounded) and capture its output."""
        return subprocess.run(
            ["ip", "netns", "exec", namespace, *command],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@dataclass
class Dnsmasq:
    """A real dnsmasq, DHCP only, on the router side of the LAN (or in the rogue namespace),
    with the options of one case.

    ``stock``: dnsmasq's own default of pinging an address before offering it (about 3 s per
    DISCOVER, one at a time), instead of ``no-ping``. ``settings``: more dnsmasq lines.
    ``leases``: lines written into the lease file before it starts. ``pool``: the first and last
    address it gives (default: its usual range)."""

    lan: Lan
    folder: Path
    options: list[str]
    process: subprocess.Popen[bytes] | None = None
    stock: bool = False
    rogue: bool = False
    settings: list[str] = field(default_factory=list)
    leases: list[str] = field(default_factory=list)
    pool: str | None = None

    def config_text(self) -> str:
        interface = self.lan.rogue_interface if self.rogue else self.lan.router_bridge
        usual = "10.99.0.160,10.99.0.190" if self.rogue else "10.99.0.100,10.99.0.150"
        pool = self.pool or usual
        lines = [
            "port=0",  # no DNS
            f"interface={interface}",
            "bind-interfaces",
            f"dhcp-range={pool},255.255.255.0,5m",
            "dhcp-authoritative",
            f"dhcp-leasefile={self.folder / 'leases'}",
            "user=root",
            "log-dhcp",
            *self.settings,
        ]
        if not self.stock:
            lines.append("no-ping")  # offer at once (dnsmasq otherwise pings the address first)
        # dnsmasq sends an option only when the client's option 55 asks for it, as servers
        # do; "force:" sends it regardless (dhcp-option-force).
        for option in self.options:
            forced = option.startswith("force:")
            key = "dhcp-option-force" if forced else "dhcp-option"
            lines.append(f"{key}={option.removeprefix('force:')}")
        return "\n".join(lines) + "\n"

    def start(self) -> Dnsmasq:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "dnsmasq.conf"
        config.write_text(self.config_text())
        (self.folder / "leases").write_text("".join(line + "\n" for line in self.leases))
        log = self.folder / "dnsmasq.log"
        command = [
            DNSMASQ,
            "--keep-in-foreground",
            f"--conf-file={config}",
            f"--log-facility={log}",
        ]
        namespace = self.lan.rogue if self.rogue else self.lan.router
        self.process = self.lan.popen(namespace, command)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if log.exists() and "DHCP, sockets bound" in log.read_text():
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dnsmasq did not start: {log.read_text() if log.exists() else ''}")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


def server_environment(database_url: str, secrets_key: str, instance: Path) -> dict[str, str]:
    """The environment of a provisioner server process on a prepared database."""
    return {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "PYTHONUNBUFFERED": "1",
        "PROVISIONER_DATABASE_URL": database_url,
        "PROVISIONER_SECRETS_KEY": secrets_key,
        "PROVISIONER_INSTANCE": str(instance),
        "PROVISIONER_LOAD_DEMO_ON_EMPTY": "false",
    }


def start_server(lan: Lan, environment: dict[str, str]) -> subprocess.Popen[bytes]:
    """``provisioner serve`` on the router side, answering on the veth address."""
    process = lan.popen(
        lan.router,
        [sys.executable, "-m", "provisioner", "serve", "--http", f"{ROUTER_ADDRESS}:{SERVER_PORT}"]
        + ["--tftp", f"{ROUTER_ADDRESS}:69"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_line(process, "provisioner: HTTP on", 30)
    except RuntimeError:
        stop_process(process)
        raise
    return process


def agent(lan: Lan, *arguments: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m zerotouch ...`` on the laptop side, run to its end."""
    return lan.run(
        lan.laptop,
        ["env", f"PYTHONPATH={PROJECT}", sys.executable, "-m", "zerotouch", *arguments],
        timeout=timeout,
    )
