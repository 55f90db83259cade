"""The TFTP service: one listener thread, and a worker thread per transfer in progress.

The listener only parses requests (a few microseconds) and never renders, reads files or waits
for a client, so a slow render or a slow client holds up nothing but its own transfer. Each
transfer renders, then sends from its own port (its TID), on a pooled daemon thread.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from provisioner.errors import MalformedPacket
from provisioner.metrics import TFTP_BYTES, TFTP_TRANSFERS
from provisioner.tftp.packets import (
    MAXIMUM_BLOCK_SIZE,
    ErrorCode,
    Opcode,
    Request,
    clean_name,
    encode_error,
    negotiate,
    opcode_of,
    parse_request,
    to_netascii,
)
from provisioner.tftp.sockets import (
    Address,
    ListeningSocket,
    StopSignal,
    Waiter,
    open_transfer_socket,
)
from provisioner.tftp.transfer import Outcome, RetransmitPolicy, send_content
from provisioner.tftp.workers import WorkerPool

RenderFunction = Callable[[str, str], bytes | None]
"""(requested file name, client IP) -> the file's bytes, or None when there is no such file.

The name arrives cleaned: UTF-8, relative, ``/``-separated, without a leading ``/`` (Cisco's
``/spa508G.cfg`` arrives as ``spa508G.cfg``) and without ``.`` or ``..`` segments. It is called
on a worker thread, one call per request, so it may be slow and must be thread-safe.
"""

logger = logging.getLogger(__name__)

STOP_WAIT_SECONDS = 2.0  # how long stop() waits for transfers (a stuck render cannot be ended)
STRAY_OPCODES = (
    Opcode.DATA,
    Opcode.ACKNOWLEDGEMENT,
    Opcode.ERROR,
    Opcode.OPTION_ACKNOWLEDGEMENT,
)


@dataclass(frozen=True, slots=True)
class Job:
    """One admitted read request: what to render, for whom, and from which local address."""

    request: Request
    name: str
    client: Address
    local_host: str
    stop: StopSignal


class RenderFailed:
    """The render function raised or returned something that is not a file."""


class TftpService:
    """Serves read requests by calling ``render``; refuses writes; survives any datagram.

    ``timeout_seconds`` and ``retries``: how long to wait for an ACK and how often to resend
    (a client's ``timeout`` option overrides the wait); ``max_transfers``: requests rendered or
    sent at once (more are dropped, and the clients' retransmissions get later slots);
    ``max_block_size``: the largest blksize granted.
    """

    def __init__(
        self,
        render: RenderFunction,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        timeout_seconds: float = 1.0,
        retries: int = 5,
        max_transfers: int = 128,
        max_block_size: int = MAXIMUM_BLOCK_SIZE,
    ) -> None:
        self.render = render
        self.host = host
        self.port = port
        self.policy = RetransmitPolicy(timeout_seconds, retries)
        self.max_transfers = max_transfers
        self.max_block_size = max_block_size
        self._stop: StopSignal | None = None
        self._lock = threading.Lock()
        self._rendering: set[Address] = set()
        self._active = 0
        self._workers: WorkerPool | None = None
        self._listening: ListeningSocket | None = None
        self._listener: threading.Thread | None = None

    def start(self) -> tuple[str, int]:
        """Bind, serve in background threads, and return the bound (host, port)."""
        if self._listening is not None:
            raise RuntimeError("this TFTP service is already started")
        self._listening = ListeningSocket.bind(self.host, self.port)
        stop = self._stop = StopSignal()
        self._workers = WorkerPool(self.max_transfers, "tftp-transfer")
        self._listener = threading.Thread(
            target=self._listen,
            args=(self._listening, Waiter(self._listening.connection, stop)),
            name="tftp-listener",
            daemon=True,
        )
        self._listener.start()
        return self._listening.address

    def stop(self) -> None:
        """Stop listening, end the transfers in progress, and wait (bounded) for their threads."""
        listening, self._listening = self._listening, None
        stop = self._stop
        if listening is None or stop is None:
            return
        stop.set()
        if self._listener is not None:
            self._listener.join(timeout=5)
        listening.close()
        if self._workers is None or self._workers.stop(STOP_WAIT_SECONDS):
            stop.close()
        else:  # a render stuck in user code cannot be interrupted; its daemon thread stays
            logger.warning("TFTP: stopped with a render still running")

    @property
    def active_transfers(self) -> int:
        """How many requests are being rendered or sent now."""
        with self._lock:
            return self._active

    def _listen(self, listening: ListeningSocket, waiter: Waiter) -> None:
        """The listener loop: one datagram at a time; nothing in it may end the loop."""
        while not waiter.stop.is_set():
            received = listening.receive(waiter)
            if received is None:
                continue
            datagram, client, local_host = received
            try:
                self._handle_datagram(datagram, client, local_host, waiter)
            except Exception:  # the last line of defence: log it and keep serving
                logger.exception("TFTP: unexpected failure on a datagram from %s", client)

    def _handle_datagram(
        self, datagram: bytes, client: Address, local_host: str, waiter: Waiter
    ) -> None:
        """Answer a request: refuse writes and malformed ones, hand reads to a transfer thread."""
        if opcode_of(datagram) in STRAY_OPCODES:
            return  # a late packet of an ended transfer; answering could start an error ping-pong
        try:
            request = parse_request(datagram)
        except MalformedPacket as exc:
            logger.info("TFTP: malformed request from %s: %s", client, exc)
            self._reply_error(client, ErrorCode.ILLEGAL_OPERATION, "Illegal TFTP operation")
            return
        if request.opcode == Opcode.WRITE_REQUEST:
            logger.info("TFTP: refused an upload from %s", client)
            self._reply_error(client, ErrorCode.ACCESS_VIOLATION, "Access violation")
            return
        try:
            name = clean_name(request.raw_name)
        except MalformedPacket as exc:
            # The same answer as for a missing file, so probing learns nothing about the rules.
            logger.info("TFTP: refused the name %r from %s: %s", request.raw_name, client, exc)
            self._reply_error(client, ErrorCode.FILE_NOT_FOUND, "File not found")
            return
        stop = waiter.stop
        if self._admit(client):
            self._start_transfer(Job(request, name, client, local_host, stop))

    def _admit(self, client: Address) -> bool:
        """Take a slot; no for a request repeated during its render, or when all are busy."""
        with self._lock:
            if client in self._rendering:
                return False  # the client resent its request while we render: one transfer only
            if self._active >= self.max_transfers:
                # Dropped, not refused: the client resends its request and gets a later slot.
                logger.warning(
                    "TFTP: %d transfers in progress; dropped %s", self.max_transfers, client
                )
                return False
            self._rendering.add(client)
            self._active += 1
            return True

    def _start_transfer(self, job: Job) -> None:
        """Run one transfer on a worker thread."""
        if self._workers is not None:
            self._workers.submit(lambda: self._transfer(job))

    def _transfer(self, job: Job) -> None:
        """Render, then send from a fresh port (the transfer ID); always free the slot."""
        try:
            try:
                rendered = self._render(job.name, client_host(job.client))
            finally:
                # From now on a request from this address is a new one (its port was reused).
                with self._lock:
                    self._rendering.discard(job.client)
            with open_transfer_socket(job.local_host, job.client) as connection:
                self._send(connection, job, rendered)
        except OSError as exc:
            TFTP_TRANSFERS.labels("failed").inc()
            logger.info("TFTP: transfer of %s to %s failed: %s", job.name, job.client, exc)
        except Exception:
            TFTP_TRANSFERS.labels("failed").inc()
            logger.exception("TFTP: transfer of %s to %s failed", job.name, job.client)
        finally:
            with self._lock:
                self._active -= 1

    def _render(self, name: str, client_host: str) -> bytes | None | RenderFailed:
        """Call the render function outside the listener; its failure is logged, not raised."""
        try:
            return as_bytes(self.render(name, client_host))
        except Exception:
            logger.exception("TFTP: rendering %s for %s failed", name, client_host)
            return RenderFailed()

    def _send(
        self, connection: socket.socket, job: Job, rendered: bytes | None | RenderFailed
    ) -> None:
        """Send the file, or the error that stands for its absence or failure."""
        if isinstance(rendered, RenderFailed):
            TFTP_TRANSFERS.labels("failed").inc()
            connection.send(encode_error(ErrorCode.NOT_DEFINED, "Internal error"))
            return
        if rendered is None:
            TFTP_TRANSFERS.labels("not_found").inc()
            connection.send(encode_error(ErrorCode.FILE_NOT_FOUND, "File not found"))
            return
        content = to_netascii(rendered) if job.request.mode == "netascii" else rendered
        options = negotiate(job.request.options, len(content), self.max_block_size)
        outcome = send_content(connection, content, options, self.policy, job.stop)
        if outcome is Outcome.COMPLETED:
            TFTP_TRANSFERS.labels("completed").inc()
            TFTP_BYTES.inc(len(content))
        else:
            TFTP_TRANSFERS.labels("failed").inc()
        level = logging.DEBUG if outcome is Outcome.COMPLETED else logging.INFO
        logger.log(level, "TFTP: %s to %s: %s", job.name, job.client, outcome.value)

    def _reply_error(self, client: Address, code: ErrorCode, message: str) -> None:
        """Answer a refused request from the listening port; a failing send is only logged."""
        listening = self._listening
        if listening is not None:
            listening.send(encode_error(code, message), client)


def client_host(client: Address) -> str:
    """The client's IP as text; an IPv4 client of a dual-stack socket as plain IPv4."""
    host = str(client[0])
    if host.startswith("::ffff:"):
        mapped = ipaddress.IPv6Address(host.split("%", 1)[0]).ipv4_mapped
        if mapped is not None:
            return str(mapped)
    return host


def as_bytes(result: object) -> bytes | None:
    """The render result as bytes; a file-like object (tftpy's contract) is read to the end."""
    if result is None:
        return None
    if isinstance(result, bytes | bytearray | memoryview):
        return bytes(result)
    read = getattr(result, "read", None)
    if callable(read):
        content = read()
        if isinstance(content, bytes | bytearray):
            return bytes(content)
    raise TypeError(f"the render function returned {type(result).__name__}, not bytes or None")
