"""What DHCP servers answered each probe, without I/O: who answered (option 54, source address,
MAC), what, and when; the servers seen over all probes."""

from __future__ import annotations

from dataclasses import dataclass, field

from zerotouch.dhcp import ACK, NAK, DhcpMessage


@dataclass(frozen=True, slots=True)
class DhcpServer:
    """A DHCP server as the LAN shows it: its identifier (option 54), source address and MAC."""

    identifier: str | None
    address: str
    mac: str

    @property
    def description(self) -> str:
        """``10.99.0.1 (server id 10.99.0.1, MAC 02:00:00:00:00:01)``."""
        mac = ":".join(self.mac[i : i + 2] for i in range(0, len(self.mac), 2))
        return f"{self.address} (server id {self.identifier or 'none'}, MAC {mac})"


@dataclass(frozen=True, slots=True)
class ServerReply:
    """One message a server sent to one probe, and how long after the first DISCOVER."""

    message: DhcpMessage
    server: DhcpServer
    seconds: float


@dataclass(frozen=True, slots=True)
class ProbeAnswers:
    """Everything the servers answered one vendor's probe.

    ``offers`` holds one offer per server, in the order they came (a phone takes the first);
    ``answer`` is the ACK or NAK to the REQUEST the check sent for the first offer, as a phone
    does; ``other_refusals`` are NAKs other servers sent to that REQUEST (a phone that hears
    one first starts over)."""

    offers: tuple[ServerReply, ...] = ()
    answer: ServerReply | None = None
    seconds_waited: float = 0.0
    other_refusals: tuple[ServerReply, ...] = ()

    @property
    def first_offer(self) -> ServerReply | None:
        """The offer a phone would take (it takes the first that arrives)."""
        return self.offers[0] if self.offers else None

    @property
    def refused(self) -> bool:
        """Whether the server said no (NAK) to the REQUEST for its own offer."""
        return self.answer is not None and self.answer.message.message_type == NAK

    @property
    def acknowledged(self) -> bool:
        """Whether the server granted the REQUEST (ACK)."""
        return self.answer is not None and self.answer.message.message_type == ACK


@dataclass(frozen=True, slots=True)
class Servers:
    """The DHCP servers heard over all probes, first heard first."""

    found: tuple[DhcpServer, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, answers: dict[str, ProbeAnswers]) -> Servers:
        """Every distinct server among the offers and answers."""
        seen: dict[DhcpServer, float] = {}
        for item in answers.values():
            replies = [*item.offers, *([item.answer] if item.answer else []), *item.other_refusals]
            for reply in replies:
                seen[reply.server] = min(seen.get(reply.server, reply.seconds), reply.seconds)
        return cls(tuple(sorted(seen, key=lambda server: seen[server])))

    @property
    def rogue_suspected(self) -> bool:
        """More than one server answers: phones take whichever is first, run by run."""
        return len(self.found) > 1
