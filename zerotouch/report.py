"""What ``check`` prints, without I/O: the DHCP servers heard (and a loud warning when more than
one answers), the offers per vendor, the voice VLAN, the verdicts. Plain text only: lists and
sub-options are written out, never as Python values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zerotouch.answers import ProbeAnswers, ServerReply, Servers
from zerotouch.dhcp import read_offer
from zerotouch.lldp import LldpInfo
from zerotouch.vendors import PhoneVendorProbe
from zerotouch.verdict import Outcome, PhoneVerdict, overall, summary


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Everything one ``check`` found."""

    interface: str
    server: str | None
    answers: dict[str, ProbeAnswers]
    lldp: list[LldpInfo]
    verdicts: list[PhoneVerdict]
    lldp_seconds: float
    laptop_mac: str = ""

    @property
    def outcome(self) -> Outcome:
        """The worst vendor's outcome."""
        return overall(self.verdicts)

    @property
    def passed(self) -> bool:
        """True when every vendor's phones will find the server."""
        return self.outcome is Outcome.FINDS

    @property
    def servers(self) -> Servers:
        """The DHCP servers heard over all probes."""
        return Servers.of(self.answers)


def _voice_vlan_line(lldp: list[LldpInfo], seconds: float) -> str:
    for info in lldp:
        policy = info.voice_policy()
        if policy is not None:
            sender = info.system_name or info.chassis_mac or "a switch"
            tagging = "tagged" if policy.tagged else "untagged"
            return (
                f"LLDP-MED voice VLAN: {policy.vlan} ({tagging}, priority {policy.priority}, "
                f"DSCP {policy.dscp}) from {sender}"
            )
    if lldp:
        return f"LLDP-MED voice VLAN: none announced ({len(lldp)} LLDP frame(s) without one)"
    return f"LLDP-MED voice VLAN: no LLDP heard in {seconds:g} s"


def plain(value: object) -> str:
    """An option's value as a technician reads it: lists joined, sub-options numbered."""
    if isinstance(value, list | tuple):
        return ", ".join(plain(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"sub-option {code}: {plain(item)}" for code, item in value.items())
    return str(value)


def _option_lines(reply: ServerReply) -> list[str]:
    lines = []
    for option, value in read_offer(reply.message).as_json().items():
        if value in (None, [], {}) or option == "offered_address":
            continue
        name = "Poly VLAN-A" if option == "poly_vlan" else f"option {option}"
        lines.append(f"  {name}: {plain(value)}")
    return lines


def _answer_words(answers: ProbeAnswers) -> str:
    if answers.refused and answers.answer is not None:
        said = answers.answer.message.server_message
        return f", then REFUSED it (DHCPNAK{': ' + said if said else ''})"
    if answers.acknowledged:
        return ", then granted it (DHCPACK; released again)"
    return ", but did not answer the REQUEST for it"


def _offer_lines(probe: PhoneVendorProbe, answers: ProbeAnswers | None) -> list[str]:
    if answers is None or not answers.offers:
        return [f"{probe.label}: no offer"]
    lines = []
    for reply in answers.offers:
        address = reply.message.your_address
        first = reply is answers.first_offer
        after = _answer_words(answers) if first else " (not first: phones take the first)"
        lines.append(
            f"{probe.label}: {reply.server.address} offered {address} "
            f"after {reply.seconds:.1f} s{after}"
        )
        lines += _option_lines(reply)
    for refusal in answers.other_refusals:
        said = refusal.message.server_message
        lines.append(
            f"{probe.label}: {refusal.server.address} REFUSED that REQUEST too "
            f"(DHCPNAK{': ' + said if said else ''}); a phone that hears it first starts over"
        )
    return lines


def _server_lines(result: CheckResult) -> list[str]:
    servers = result.servers.found
    if not servers:
        waited = max((item.seconds_waited for item in result.answers.values()), default=0.0)
        return [
            f"No DHCP server answered any probe in {waited:.0f} s.",
            "If the switch port does DHCP snooping with MAC verification, it drops these",
            "DISCOVERs: their client MAC is a phone vendor's, not the laptop's own Ethernet",
            f"address ({result.laptop_mac or 'this interface'}). Try a port without it, or",
            "ask for the port's snooping settings.",
        ]
    lines = ["DHCP servers that answered:"]
    lines += [f"  {server.description}" for server in servers]
    if result.servers.rogue_suspected:
        lines += [
            "",
            f"WARNING: {len(servers)} DHCP SERVERS ANSWERED ON THIS LAN.",
            "Phones take whichever offer comes first, which can change at every boot. A second",
            "DHCP server is one of the most common reasons phones do not provision: find the",
            "one that should not be there and switch it off.",
        ]
    return lines


def render_text(result: CheckResult, probes: tuple[PhoneVendorProbe, ...]) -> str:
    """The report a technician reads."""
    header = f"zerotouch check on {result.interface}"
    if result.server:
        header += f", expecting {result.server}"
    lines = [header, "", *_server_lines(result), "", "DHCP, asked as each phone vendor asks:"]
    for probe in probes:
        lines += ["  " + line for line in _offer_lines(probe, result.answers.get(probe.name))]
    lines += ["", _voice_vlan_line(result.lldp, result.lldp_seconds), "", "Verdict:"]
    lines += [f"  {item.sentence}" for item in result.verdicts]
    word = {Outcome.FINDS: "PASS", Outcome.WILL_NOT_FIND: "FAIL"}.get(result.outcome, "UNSURE")
    lines += ["", f"{word}: {summary(result.verdicts)}"]
    return "\n".join(lines) + "\n"


def _reply_json(reply: ServerReply) -> dict[str, Any]:
    return {
        "server": {
            "id": reply.server.identifier,
            "address": reply.server.address,
            "mac": reply.server.mac,
        },
        "seconds": round(reply.seconds, 2),
        "options": read_offer(reply.message).as_json(),
    }


def _answers_json(answers: ProbeAnswers) -> dict[str, Any]:
    answer = "nak" if answers.refused else "ack" if answers.acknowledged else None
    said = answers.answer.message.server_message if answers.answer and answers.refused else None
    return {
        "offers": [_reply_json(reply) for reply in answers.offers],
        "request": answer,
        "nak_message": said,
    }


def render_json(result: CheckResult) -> dict[str, Any]:
    """The same for scripts."""
    voice = next((info.voice_policy() for info in result.lldp if info.voice_policy()), None)
    first = {name: item.first_offer for name, item in result.answers.items()}
    return {
        "interface": result.interface,
        "server": result.server,
        "passed": result.passed,
        "outcome": result.outcome.name.lower(),
        "dhcp_servers": [
            {"id": server.identifier, "address": server.address, "mac": server.mac}
            for server in result.servers.found
        ],
        "several_dhcp_servers": result.servers.rogue_suspected,
        "offers": {
            name: read_offer(reply.message).as_json() if reply else None
            for name, reply in first.items()
        },
        "answers": {name: _answers_json(item) for name, item in result.answers.items()},
        "lldp_voice_vlan": None
        if voice is None
        else {
            "vlan": voice.vlan,
            "tagged": voice.tagged,
            "priority": voice.priority,
            "dscp": voice.dscp,
        },
        "verdicts": [
            {
                "vendor": item.vendor,
                "finds": item.finds,
                "outcome": item.outcome.name.lower(),
                "sentence": item.sentence,
                "option": item.choice.option if item.choice else None,
                "url": item.choice.file_url if item.choice else None,
            }
            for item in result.verdicts
        ],
        "summary": summary(result.verdicts),
    }
