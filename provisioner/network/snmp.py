"""The SNMP edge: GETs and multi-column GETBULK walks, error kinds.

v2c goes through one UDP socket with our own BER codec (`udp.py`, `ber.py`: pysnmp's generic
decoding was most of a poll's CPU); v3 through one long-lived pysnmp engine. Only this module
(and `traps.py`) imports pysnmp. Values reach the pure parsers as plain Python (`int`, `bytes`,
OID tuples), and every failure becomes a `SnmpFailure` whose ``kind`` tells a timeout
(silence), an authentication failure (the agent said no) and an unreachable device (the network
said no) apart.

Over 400 lines on purpose: it is the one place (with ``traps.py``) that knows pysnmp's API, so
a pysnmp upgrade touches this file only.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.hlapi.v3arch import asyncio as hlapi
from pysnmp.hlapi.v3arch.asyncio.cmdgen import LCD
from pysnmp.proto import errind
from pysnmp.proto.rfc1902 import Null, ObjectName
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

from provisioner.errors import SnmpFailure
from provisioner.network import ber, parse
from provisioner.network.ber import END_OF_MIB_VIEW
from provisioner.network.oids import Oid
from provisioner.network.udp import RECEIVE_BUFFER_BYTES, V2cChannel

AUTH_PROTOCOLS: dict[str, Any] = {
    "SHA": hlapi.USM_AUTH_HMAC96_SHA,
    "SHA-224": hlapi.USM_AUTH_HMAC128_SHA224,
    "SHA-256": hlapi.USM_AUTH_HMAC192_SHA256,
    "SHA-384": hlapi.USM_AUTH_HMAC256_SHA384,
    "SHA-512": hlapi.USM_AUTH_HMAC384_SHA512,
}
# AES-192/256 key extension differs by vendor: net-snmp uses Blumenthal, Cisco uses Reeder.
PRIV_PROTOCOLS: dict[str, Any] = {
    "AES": hlapi.USM_PRIV_CFB128_AES,
    "AES-192": hlapi.USM_PRIV_CFB192_AES_BLUMENTHAL,
    "AES-256": hlapi.USM_PRIV_CFB256_AES_BLUMENTHAL,
    "AES-192-Cisco": hlapi.USM_PRIV_CFB192_AES,
    "AES-256-Cisco": hlapi.USM_PRIV_CFB256_AES,
}
AUTHENTICATION_ERRORS = (
    errind.UnknownUserName,
    errind.WrongDigest,
    errind.AuthenticationError,
    errind.AuthenticationFailure,
    errind.UnknownSecurityName,
    errind.DecryptionError,
    errind.UnsupportedSecurityLevel,
    errind.UnknownCommunityName,
    errind.NotInTimeWindow,
)
# Agents drop these requests silently, so on the wire they are timeouts; the reason says so.
TIMEOUT_HINTS = {
    "2c": " (v2c: a wrong community also looks like this)",
    "3": " (v3: a wrong privacy key also looks like this)",
}
# A walk of one group asks at most this many times (a broken agent cannot keep us forever).
REQUEST_LIMIT = 100_000
UNREACHABLE_ERRNOS = frozenset(
    {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN}
)


@dataclass(frozen=True, slots=True)
class Credentials:
    """How to talk to one agent (secrets already decrypted, kept in memory only)."""

    version: str
    # Secrets stay out of repr(), so a job or target in a log line or traceback shows none.
    community: str | None = field(default=None, repr=False)
    user: str | None = None
    auth_protocol: str | None = None
    auth_key: str | None = field(default=None, repr=False)
    priv_protocol: str | None = None
    priv_key: str | None = field(default=None, repr=False)
    context: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """An agent's address, credentials and request options."""

    host: str
    port: int
    credentials: Credentials
    timeout: float = 2.0
    retries: int = 1
    max_repetitions: int = 25
    # The loop guard's second half (the first: an OID seen twice): no column grows past this.
    max_rows: int = 100_000


@dataclass(frozen=True, slots=True)
class WalkResult:
    """The rows of each walked column, and why a column may be incomplete (none: complete)."""

    rows: dict[Oid, dict[Oid, parse.Value]]
    problems: dict[Oid, str] = field(default_factory=dict)


@dataclass(slots=True)
class ColumnWalk:
    """One column being walked: its rows so far, where to ask next, what went wrong."""

    column: Oid
    cursor: Oid
    rows: dict[Oid, parse.Value] = field(default_factory=dict)
    out_of_order: int = 0
    stopped: str = ""  # why the walk was cut short; "" when it reached the column's end

    def problem(self) -> str:
        """Why this column may be incomplete, in words; "" when it is not."""
        reasons = []
        if self.out_of_order:
            reasons.append(
                f"the agent returned OIDs out of order ({self.out_of_order} times; "
                "walked on past them, as net-snmp's -Cc does, but rows may be missing)"
            )
        if self.stopped:
            reasons.append(self.stopped)
        return "; ".join(reasons)


def plain_value(value: Any) -> parse.Value:
    """A pyasn1 value as int, bytes or an OID tuple; None for noSuch*/endOfMibView."""
    if isinstance(value, NoSuchObject | NoSuchInstance | EndOfMibView):
        return None
    type_name = type(value).__name__
    if type_name == "ObjectIdentifier" or type_name == "ObjectName":
        return tuple(value)
    if type_name == "IpAddress":
        return bytes(value.asOctets())
    if hasattr(value, "asOctets"):
        return bytes(value.asOctets())
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value).encode()


class SnmpReader(Protocol):
    """What the poller needs from an SNMP library; another (e.g. gufo_snmp) could serve it."""

    async def get(self, target: Target, names: Sequence[Oid]) -> dict[Oid, parse.Value]:
        """GET scalars; missing ones as None."""
        ...

    async def walk(self, target: Target, columns: Sequence[Oid]) -> WalkResult:
        """Rows of several columns, keyed by index, with why a column may be incomplete."""
        ...

    async def bulk_has_rows(self, target: Target, column: Oid) -> bool:
        """Whether a column has at least one row."""
        ...

    def close(self) -> None:
        """Release sockets."""
        ...


class SnmpClient:
    """One pysnmp engine for the whole process; create it inside the running event loop."""

    def __init__(self) -> None:
        self.engine = hlapi.SnmpEngine()
        self._transports: dict[tuple[str, int, float, int], Any] = {}
        self._authentications: dict[Credentials, Any] = {}
        self._buffer_enlarged = False
        self._channel: V2cChannel | None = None
        self._opening = asyncio.Lock()  # the first polls all ask for the channel at once

    def close(self) -> None:
        """Close the engine's sockets and the v2c socket."""
        self.engine.close_dispatcher()
        if self._channel is not None:
            self._channel.close()

    async def channel(self) -> V2cChannel:
        """The v2c socket, opened on first use (inside the running loop)."""
        async with self._opening:
            if self._channel is None:
                self._channel = await V2cChannel().open()
        return self._channel

    async def transport(self, target: Target) -> Any:
        """The transport for ``target``, created once (its address is resolved once)."""
        key = (target.host, target.port, target.timeout, target.retries)
        if key not in self._transports:
            try:
                self._transports[key] = await hlapi.UdpTransportTarget.create(
                    (target.host, target.port), timeout=target.timeout, retries=target.retries
                )
            except Exception as exc:  # noqa: BLE001 - pysnmp raises its own error on DNS failure
                raise SnmpFailure("unreachable", f"cannot resolve {target.host}: {exc}") from exc
        return self._transports[key]

    def authentication(self, credentials: Credentials) -> Any:
        """CommunityData for v2c, UsmUserData for v3 (made once per set of credentials)."""
        if credentials not in self._authentications:
            self._authentications[credentials] = make_authentication(credentials)
        return self._authentications[credentials]

    def context(self, credentials: Credentials) -> Any:
        """The v3 context (snmpsim selects a recording by it); empty for v2c."""
        if credentials.version == "3" and credentials.context:
            return hlapi.ContextData(contextName=credentials.context)
        return hlapi.ContextData()

    async def get(self, target: Target, names: Sequence[Oid]) -> dict[Oid, parse.Value]:
        """GET ``names``; values the agent lacks come back as None."""
        bindings = await self.request(target, names)
        return {
            name: None if isinstance(value, ber.EndOfMibView) else value for name, value in bindings
        }

    async def walk(self, target: Target, columns: Sequence[Oid]) -> WalkResult:
        """Walk several table columns at once with GETBULK; rows keyed by index per column.

        An agent that answers out of order is followed on while it stays inside the column
        (net-snmp's ``-Cc``); an OID seen twice or ``target.max_rows`` rows end the column.
        Either way the column's problem says so: a walk never ends early in silence.
        """
        walks = {column: ColumnWalk(column, column) for column in columns}
        active = list(columns)
        for _ in range(REQUEST_LIMIT):  # bounded: a broken agent cannot loop us forever
            if not active:
                break
            repetitions = max(1, target.max_repetitions // len(active))
            starts = [walks[column].cursor for column in active]
            bindings = await self.bulk(target, starts, repetitions)
            active = advance([walks[column] for column in active], bindings, target.max_rows)
        for column in active:
            walks[column].stopped = f"stopped after {REQUEST_LIMIT} requests"
        return WalkResult(
            {column: walk.rows for column, walk in walks.items()},
            {column: walk.problem() for column, walk in walks.items() if walk.problem()},
        )

    async def bulk_has_rows(self, target: Target, column: Oid) -> bool:
        """True when the agent has at least one row in ``column`` (one GETBULK of one row)."""
        [(name, value)] = (await self.bulk(target, [column], 1))[:1] or [((), None)]
        return name[: len(column)] == column and value is not END_OF_MIB_VIEW

    async def bulk(
        self, target: Target, starts: Sequence[Oid], repetitions: int
    ) -> Sequence[tuple[Oid, parse.Value | ber.EndOfMibView]]:
        """One GETBULK; the answer as (OID, value) in wire order."""
        return await self.request(target, starts, repetitions)

    async def request(
        self, target: Target, names: Sequence[Oid], repetitions: int | None = None
    ) -> Sequence[tuple[Oid, parse.Value | ber.EndOfMibView]]:
        """One GET (or GETBULK with ``repetitions``); plain (OID, value) pairs back, with
        END_OF_MIB_VIEW where the agent had nothing further."""
        if target.credentials.version == "2c":
            return await self.request_v2c(target, names, repetitions)
        bindings = await self.request_pysnmp(target, names, repetitions)
        return [(tuple(name), bulk_value(value)) for name, value in bindings]

    async def request_v2c(
        self, target: Target, names: Sequence[Oid], repetitions: int | None
    ) -> list[tuple[Oid, parse.Value | ber.EndOfMibView]]:
        """One v2c request through our own socket and codec."""
        channel = await self.channel()
        try:
            address = await channel.resolve(target.host, target.port)
        except OSError as exc:
            raise SnmpFailure("unreachable", f"cannot resolve {target.host}: {exc}") from exc
        community = (target.credentials.community or "").encode()
        response = await channel.request(
            address, community, names, repetitions, target.timeout, target.retries
        )
        if response is None:
            raise await timeout_failure(target)
        if response.error_status:
            status = ber.error_status_name(response.error_status)
            raise SnmpFailure("error", f"agent error status {status}")
        return response.bindings

    async def request_pysnmp(
        self, target: Target, names: Sequence[Oid], repetitions: int | None = None
    ) -> Sequence[tuple[Any, Any]]:
        """One GET (or GETBULK with ``repetitions``) of numeric OIDs; raw varbinds back.

        This is pysnmp's command generator without the hlapi's MIB resolution of every
        request and response varbind, which cost about half the CPU of a poll (profiled).
        """
        transport = await self.transport(target)
        context = self.context(target.credentials)
        address_name, _ = LCD.configure(
            self.engine, self.authentication(target.credentials), transport, context.contextName
        )
        answer: asyncio.Future[tuple[Any, Any, Any]] = asyncio.get_running_loop().create_future()

        def done(*arguments: Any) -> None:
            _engine, _handle, error, status, _index, bindings, _context = arguments
            if not answer.done():
                answer.set_result((error, status, bindings))

        request = [(ObjectName(name), Null("")) for name in names]
        engine_id, context_name = context.contextEngineId, context.contextName
        if repetitions is None:
            cmdgen.GetCommandGenerator().send_varbinds(
                self.engine, address_name, engine_id, context_name, request, done
            )
        else:
            cmdgen.BulkCommandGenerator().send_varbinds(
                self.engine, address_name, engine_id, context_name, 0, repetitions, request, done
            )
        error, status, bindings = await answer
        if not self._buffer_enlarged:
            self._buffer_enlarged = enlarge_receive_buffer(self.engine)
        await self.raise_for(target, error, status)
        return bindings or ()

    async def raise_for(self, target: Target, error: Any, status: Any) -> None:
        """Turn pysnmp's error indication or error status into a SnmpFailure."""
        if error is None and not status:
            return
        if isinstance(error, errind.RequestTimedOut):
            raise await timeout_failure(target)
        if isinstance(error, AUTHENTICATION_ERRORS):
            raise SnmpFailure("authentication", f"the agent refused our credentials ({error})")
        if error is not None:
            raise SnmpFailure("error", str(error))
        raise SnmpFailure("error", f"agent error status {status.prettyPrint()}")


async def timeout_failure(target: Target) -> SnmpFailure:
    """No answer: unreachable when the network refuses (ICMP), else a timeout."""
    refusal = await probe_refusal(target.host, target.port)
    if refusal:
        return SnmpFailure("unreachable", refusal)
    seconds = target.timeout * (target.retries + 1)
    hint = TIMEOUT_HINTS.get(target.credentials.version, "")
    return SnmpFailure("timeout", f"no answer within {seconds:g} s{hint}")


def enlarge_receive_buffer(engine: Any) -> bool:
    """Give the engine's one UDP socket a large receive buffer; True once done.

    Answers to many requests in flight arrive in bursts while the loop is busy decoding
    (v3 decryption above all); with the default buffer the kernel dropped some (measured:
    RcvbufErrors, then 5 s timeouts), so polls of 50 v3 devices at once stalled.
    """
    try:
        carrier = engine.transport_dispatcher.get_transport(udp.DOMAIN_NAME)
        sock = carrier.transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
    except (AttributeError, KeyError, OSError, TypeError):
        return False
    return True


def make_authentication(credentials: Credentials) -> Any:
    """pysnmp's CommunityData (v2c) or UsmUserData (v3 authPriv) for ``credentials``."""
    if credentials.version == "2c":
        return hlapi.CommunityData(credentials.community or "", mpModel=1)
    return hlapi.UsmUserData(
        credentials.user or "",
        credentials.auth_key,
        credentials.priv_key,
        authProtocol=AUTH_PROTOCOLS.get(credentials.auth_protocol or "", hlapi.USM_AUTH_NONE),
        privProtocol=PRIV_PROTOCOLS.get(credentials.priv_protocol or "", hlapi.USM_PRIV_NONE),
    )


def bulk_value(value: Any) -> parse.Value | ber.EndOfMibView:
    """Like plain_value, but endOfMibView becomes END_OF_MIB_VIEW, so a walk knows where to
    stop."""
    if isinstance(value, EndOfMibView):
        return END_OF_MIB_VIEW
    return plain_value(value)


def advance(
    walks: Sequence[ColumnWalk], bindings: Sequence[tuple[Oid, Any]], max_rows: int
) -> list[Oid]:
    """Sort one GETBULK answer into its columns; the columns still to walk.

    A column ends at endOfMibView, at the first OID outside it, at an OID it already
    returned (a loop: asking again would bring the same answer) and at ``max_rows`` rows.
    An OID not after the previous one is kept and counted: such agents (seen on BDCOM)
    skip back and forth, and stopping there lost all but one row of 721.
    """
    finished: set[Oid] = set()
    for position, (name, value) in enumerate(bindings):
        walk = walks[position % len(walks)]
        if walk.column in finished:
            continue
        if not step(walk, name, value, max_rows):
            finished.add(walk.column)
    if not bindings:
        return []
    return [walk.column for walk in walks if walk.column not in finished]


def step(walk: ColumnWalk, name: Oid, value: Any, max_rows: int) -> bool:
    """Take one varbind into ``walk``; False when the column ends here."""
    column = walk.column
    if value is END_OF_MIB_VIEW or name[: len(column)] != column or len(name) <= len(column):
        return False
    index = name[len(column) :]
    if index in walk.rows:
        walk.stopped = f"the agent returned an OID twice (a loop), stopped at {len(walk.rows)} rows"
        return False
    if name <= walk.cursor:
        walk.out_of_order += 1
    walk.rows[index] = value
    walk.cursor = name
    if len(walk.rows) >= max_rows:
        walk.stopped = f"stopped at the limit of {max_rows} rows"
        return False
    return True


async def probe_refusal(host: str, port: int, seconds: float = 0.3) -> str | None:
    """After a timeout: did the network refuse (ICMP unreachable)? Its reason, else None."""
    loop = asyncio.get_running_loop()
    refused: asyncio.Future[str] = loop.create_future()

    class Probe(asyncio.DatagramProtocol):
        def error_received(self, exc: Exception) -> None:
            if isinstance(exc, OSError) and exc.errno in UNREACHABLE_ERRNOS:
                if not refused.done():
                    refused.set_result(describe_refusal(exc, host, port))

    try:
        transport, _ = await loop.create_datagram_endpoint(
            Probe, remote_addr=(host, port), family=socket.AF_UNSPEC
        )
    except OSError as exc:
        return describe_refusal(exc, host, port)
    try:
        # A zero byte: an agent drops it as unparsable; a closed port draws ICMP unreachable.
        # (asyncio silently skips sending an empty datagram.)
        transport.sendto(b"\x00")
        return await asyncio.wait_for(refused, seconds)
    except (TimeoutError, OSError):
        return None
    finally:
        transport.close()


def describe_refusal(exc: OSError, host: str, port: int) -> str:
    """Words for a refusal: nothing listens, or no route to the host."""
    if exc.errno == errno.ECONNREFUSED:
        return f"nothing answers on {host} udp/{port} (ICMP port unreachable)"
    return f"{host}: {exc.strerror or exc}"
