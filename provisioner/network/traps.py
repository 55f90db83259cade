"""The trap receiver (SNMP v2c and v3): stores traps per device and marks port state at once.

Senders are told apart by community (v2c) or user and engine ID (v3) from the inventory, and by
source address. v3 TRAPs are not discovered, so each v3 user is bound to the sender's engine
ID: the inventory's ``engine_id``, else the one the poller read from the device.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from pysnmp.carrier.asyncio.dgram import udp, udp6
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import ntfrcv
from pysnmp.proto.rfc1902 import OctetString

from provisioner.errors import ConfigError
from provisioner.metrics import TRAPS_RECEIVED
from provisioner.network import oids, parse, state
from provisioner.network.inventory import credentials_of
from provisioner.network.snmp import AUTH_PROTOCOLS, PRIV_PROTOCOLS, Credentials, plain_value
from provisioner.network.vendors import trap_name
from provisioner.security import audit
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store
from provisioner.store.models import NetworkDevice, NetworkDeviceState, NetworkTrap, utc_now

log = logging.getLogger(__name__)
IF_INDEX_COLUMNS = (oids.IF_INDEX, oids.IF_ADMIN_STATUS, oids.IF_OPER_STATUS)


@dataclass(frozen=True, slots=True)
class TrapContent:
    """What a notification says, independent of how it arrived."""

    trap_oid: str
    name: str
    if_index: int | None
    variables: dict[str, str]


def interpret(bindings: Sequence[tuple[oids.Oid, parse.Value]]) -> TrapContent:
    """Read snmpTrapOID, the interface (for link traps) and the other variables."""
    trap_oid: oids.Oid = ()
    if_index = None
    variables: dict[str, str] = {}
    for name, value in bindings:
        if name == oids.SNMP_TRAP_OID and isinstance(value, tuple):
            trap_oid = value
            continue
        for column in IF_INDEX_COLUMNS:
            if name[: len(column)] == column and len(name) == len(column) + 1:
                if_index = name[-1]
        secret = name == oids.SNMP_TRAP_COMMUNITY
        variables[oids.dotted(name)] = audit.REDACTED if secret else value_text(value)
    label = trap_name(trap_oid) or oids.dotted(trap_oid) or "unknown"
    return TrapContent(oids.dotted(trap_oid), label, if_index, variables)


def value_text(value: parse.Value) -> str:
    """A varbind value for the stored record."""
    if isinstance(value, bytes):
        shown = parse.text(value)
        return shown if shown.isprintable() else value.hex(":")
    return parse.text(value)


def choose_device(
    source_host: str,
    security_name: str,
    by_security_name: Mapping[str, set[int]],
    by_address: Mapping[str, set[int]],
) -> int | None:
    """The sender: by credential and address together, else by either alone if unambiguous."""
    credentialed = by_security_name.get(security_name, set())
    located = by_address.get(source_host, set())
    both = credentialed & located
    for candidates in (both, credentialed if not located else set(), located):
        if len(candidates) == 1:
            return next(iter(candidates))
    return None


@dataclass(frozen=True, slots=True)
class Sender:
    """One device that may send traps, as read from the inventory (plain data, no ORM row)."""

    device_id: int
    addresses: frozenset[str]
    credentials: Credentials
    engine_id: str | None


@dataclass
class Senders:
    """Who may send traps: security names and addresses, each to device ids."""

    by_security_name: dict[str, set[int]] = field(default_factory=dict)
    by_address: dict[str, set[int]] = field(default_factory=dict)
    configured: dict[tuple[str, ...], str] = field(default_factory=dict)


class TrapReceiver:
    """A pysnmp notification receiver bound to NETWORK_TRAP_ADDRESS:NETWORK_TRAP_PORT.

    Create and start it inside the running event loop: the UDP endpoint is scheduled on the
    loop that exists at creation, and would never bind otherwise.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.engine = engine.SnmpEngine()
        self.senders = Senders()
        self.keep = int(app.config["NETWORK_TRAPS_KEPT"])
        self._request: dict[str, Any] = {}
        self.port = 0

    def start(self) -> None:
        """Bind the socket, load the senders from the inventory, start receiving."""
        host = str(self.app.config["NETWORK_TRAP_ADDRESS"])
        sock = bind_trap_socket(host, int(self.app.config["NETWORK_TRAP_PORT"]))
        self.port = int(sock.getsockname()[1])
        domain, carrier = (
            (udp6.DOMAIN_NAME, udp6.Udp6Transport)
            if ":" in host
            else (
                udp.DOMAIN_NAME,
                udp.UdpTransport,
            )
        )
        config.add_transport(self.engine, domain, carrier().open_server_mode(sock=sock))
        self.engine.observer.register_observer(
            self._remember_request, "rfc3412.receiveMessage:request"
        )
        self.refresh()
        ntfrcv.NotificationReceiver(self.engine, self._received)

    def close(self) -> None:
        """Close the socket."""
        self.engine.close_dispatcher()

    def read_senders(self) -> list[Sender]:
        """The inventory's senders, decrypted and resolved (blocking: DNS; run it in a thread)."""
        box = get_secret_box(self.app)
        senders = []
        with get_store(self.app).reading() as session:
            for device in session.query(NetworkDevice).all():
                polled = session.get(NetworkDeviceState, device.id)
                engine_id = device.engine_id or (
                    (polled.data.get("system") or {}).get("engine_id") if polled else None
                )
                try:
                    credentials = credentials_of(device, box)
                except ConfigError:  # one undecryptable secret must not deafen us to the rest
                    log.warning("cannot accept traps from %s", device.name, exc_info=True)
                    continue
                addresses = frozenset(resolve(device.address))
                senders.append(Sender(device.id, addresses, credentials, engine_id))
        return senders

    def refresh(self, senders: list[Sender] | None = None) -> None:
        """Who may send (``senders`` read beforehand, else now): new devices heard, removed or
        moved ones no longer matched. In the loop: pysnmp engines are not thread-safe."""
        senders = self.read_senders() if senders is None else senders
        # The engine keeps what it was told (harmless); the maps that pick the device are new,
        # so a removed device's id or old address never claims (or blurs) another's trap.
        self.senders.by_security_name, self.senders.by_address = {}, {}
        for sender in senders:
            self.add_sender(sender)
        extra = self.app.config.get("NETWORK_TRAP_COMMUNITY")
        if extra and ("community", extra) not in self.senders.configured:
            config.add_v1_system(self.engine, "configured", extra, securityName="configured")
            self.senders.configured[("community", extra)] = "configured"

    async def refresh_in_background(self) -> None:
        """refresh(), with the inventory and DNS read in a worker thread: the loop never waits."""
        self.refresh(await asyncio.to_thread(self.read_senders))

    def add_sender(self, sender: Sender) -> None:
        """Accept traps from a device: its community, or its v3 user bound to its engine ID."""
        for address in sender.addresses:
            self.senders.by_address.setdefault(address, set()).add(sender.device_id)
        credentials, engine_id = sender.credentials, sender.engine_id
        if credentials.version == "2c" and credentials.community:
            key: tuple[str, ...] = ("community", credentials.community)
            security_name = self.senders.configured.get(
                key, f"community-{len(self.senders.configured)}"
            )
            if key not in self.senders.configured:
                config.add_v1_system(
                    self.engine, security_name, credentials.community, securityName=security_name
                )
                self.senders.configured[key] = security_name
        elif credentials.version == "3" and credentials.user and engine_id:
            # The security name stays the user name: pysnmp drops v3 traps whose user was
            # given another one (measured). Devices sharing a user are told apart by address.
            security_name = credentials.user
            key = ("v3", credentials.user, engine_id)
            if key not in self.senders.configured:
                config.add_v3_user(
                    self.engine,
                    credentials.user,
                    AUTH_PROTOCOLS[str(credentials.auth_protocol)],
                    credentials.auth_key,
                    PRIV_PROTOCOLS[str(credentials.priv_protocol)],
                    credentials.priv_key,
                    securityEngineId=OctetString(hexValue=engine_id),
                )
                self.senders.configured[key] = security_name
        else:
            return
        self.senders.by_security_name.setdefault(security_name, set()).add(sender.device_id)

    def _remember_request(self, _engine: Any, _point: str, variables: Any, _context: Any) -> None:
        # Called just before the notification callback for the same message.
        self._request = {
            "address": variables.get("transportAddress"),
            "security_name": str(variables.get("securityName", "")),
        }

    def _received(
        self,
        _engine: Any,
        _reference: Any,
        _engine_id: Any,
        _context: Any,
        bindings: Any,
        _ctx: Any,
    ) -> None:
        TRAPS_RECEIVED.inc()
        try:
            plain = [(tuple(name), plain_value(value)) for name, value in bindings]
            self.store(interpret(plain), self._request)
        except Exception:  # noqa: BLE001 - a strange trap must never stop the receiver
            log.warning("could not store a trap", exc_info=True)

    def store(self, content: TrapContent, request: Mapping[str, Any]) -> None:
        """Store one trap for the device that sent it (or for no device, with its source)."""
        address = request.get("address")
        host = str(address[0]) if address else ""
        security_name = request.get("security_name", "")
        device_id = choose_device(
            host, security_name, self.senders.by_security_name, self.senders.by_address
        )
        trap = NetworkTrap(
            device_id=device_id,
            received_at=utc_now(),
            source=f"{host}:{address[1]}" if address else "",
            security_name=security_name,
            trap_oid=content.trap_oid,
            name=content.name,
            if_index=content.if_index,
            variables=content.variables,
        )
        with get_store(self.app).transaction() as session:
            state.store_trap(session, trap, self.keep)


def bind_trap_socket(host: str, port: int) -> socket.socket:
    """The receiver's UDP socket, bound here so that a busy port is an error, not silence."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot receive traps on udp {host}:{port} ({exc.strerror}); set "
            "NETWORK_TRAP_ADDRESS/NETWORK_TRAP_PORT to a free address (ports below 1024 need root)"
        ) from exc
    sock.setblocking(False)
    return sock


def resolve(address: str) -> Iterable[str]:
    """The IP addresses of a device's address (a name is resolved once, at refresh)."""
    try:
        found = socket.getaddrinfo(address, None, type=socket.SOCK_DGRAM)
        return {str(info[4][0]) for info in found}
    except OSError:
        return {address}
