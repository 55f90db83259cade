"""Phones the on-site agent (``zerotouch discover``) saw booting on a customer LAN.

Each report becomes an event on the device timeline, so the phone shows in the discovered
list the technicians' page reads (``GET /api/v1/discovered``) as if it had asked us already.
The answer is the same whether or not a tenant has the MAC: a report reveals nothing.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner.errors import FieldProblem, ValidationFailed
from provisioner.pairing.timeline import record_event
from provisioner.phones.mac import normalize_mac
from provisioner.phones.model import Answer, RequestInfo
from provisioner.store import models

SEEN_BY = ("dhcp", "lldp")
DETAIL_LENGTH = 200


@dataclass(frozen=True, slots=True)
class DiscoveredReport:
    """One phone the agent saw: its MAC, how it was seen, what it said about itself."""

    mac: str
    seen_by: str
    vendor: str = ""
    detail: str = ""
    address: str = ""


def _optional_text(data: dict[str, Any], name: str, limit: int) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationFailed([FieldProblem(name, f"a text of at most {limit} characters")])
    return value.strip()


def parse_report(data: dict[str, Any]) -> DiscoveredReport:
    """A report from the API body; a 422 naming the field otherwise."""
    problems = []
    mac = data.get("mac")
    try:
        mac = normalize_mac(mac) if isinstance(mac, str) else normalize_mac("")
    except ValueError as exc:
        problems.append(FieldProblem("mac", str(exc)))
    if data.get("seen_by") not in SEEN_BY:
        problems.append(FieldProblem("seen_by", f"one of {', '.join(SEEN_BY)}"))
    address = data.get("address", "")
    try:
        if address:
            ipaddress.ip_address(address)
    except (ValueError, TypeError):
        problems.append(FieldProblem("address", "an IP address"))
    unknown = set(data) - {"mac", "seen_by", "vendor", "detail", "address"}
    problems += [FieldProblem(name, "unknown field") for name in sorted(unknown)]
    if problems:
        raise ValidationFailed(problems)
    return DiscoveredReport(
        mac=str(mac),
        seen_by=str(data["seen_by"]),
        vendor=_optional_text(data, "vendor", 40),
        detail=_optional_text(data, "detail", DETAIL_LENGTH),
        address=str(address),
    )


def record_report(
    session: Session, report: DiscoveredReport, reporter_address: str, limit: int
) -> None:
    """Put the sighting on the device's timeline (its tenant's, when a tenant has it)."""
    tenant_id = session.scalar(select(models.Phone.tenant_id).where(models.Phone.mac == report.mac))
    said = " ".join(part for part in (report.vendor, report.detail) if part)
    request = RequestInfo(
        path="",
        source=report.address or reporter_address,
        protocol=report.seen_by,
        user_agent=said,
    )
    record_event(session, tenant_id, report.mac, request, "", Answer.REPORTED, limit)
