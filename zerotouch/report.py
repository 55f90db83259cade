"""What ``check`` prints, without I/O: the offers per vendor, the voice VLAN, the verdicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zerotouch.dhcp import ProvisioningOffer
from zerotouch.lldp import LldpInfo
from zerotouch.vendors import PhoneVendorProbe
from zerotouch.verdict import PhoneVerdict, summary


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Everything one ``check`` found."""

    interface: str
    server: str | None
    offers: dict[str, ProvisioningOffer | None]
    lldp: list[LldpInfo]
    verdicts: list[PhoneVerdict]
    lldp_seconds: float

    @property
    def passed(self) -> bool:
        """True when every vendor's phones will find the server."""
        return all(item.finds for item in self.verdicts)


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


def _offer_lines(probe: PhoneVendorProbe, offer: ProvisioningOffer | None) -> list[str]:
    if offer is None:
        return [f"{probe.label}: no offer"]
    lines = [f"{probe.label}: offered {offer.offered_address or 'no address'}"]
    for option, value in offer.as_json().items():
        if value in (None, [], {}) or option == "offered_address":
            continue
        name = "Poly VLAN-A" if option == "poly_vlan" else f"option {option}"
        lines.append(f"  {name}: {value}")
    return lines


def render_text(result: CheckResult, probes: tuple[PhoneVendorProbe, ...]) -> str:
    """The report a technician reads."""
    header = f"zerotouch check on {result.interface}"
    if result.server:
        header += f", expecting {result.server}"
    lines = [header, "", "DHCP, asked as each phone vendor asks:"]
    for probe in probes:
        lines += ["  " + line for line in _offer_lines(probe, result.offers.get(probe.name))]
    lines += ["", _voice_vlan_line(result.lldp, result.lldp_seconds), "", "Verdict:"]
    lines += [f"  {item.sentence}" for item in result.verdicts]
    outcome = "PASS" if result.passed else "FAIL"
    lines += ["", f"{outcome}: {summary(result.verdicts)}"]
    return "\n".join(lines) + "\n"


def render_json(result: CheckResult) -> dict[str, Any]:
    """The same for scripts."""
    voice = next((info.voice_policy() for info in result.lldp if info.voice_policy()), None)
    return {
        "interface": result.interface,
        "server": result.server,
        "passed": result.passed,
        "offers": {
            name: offer.as_json() if offer else None for name, offer in result.offers.items()
        },
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
                "sentence": item.sentence,
                "option": item.choice.option if item.choice else None,
                "url": item.choice.file_url if item.choice else None,
            }
            for item in result.verdicts
        ],
        "summary": summary(result.verdicts),
    }
