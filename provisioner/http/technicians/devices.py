"""What the technicians' page shows about devices, built from the store's own records.

Discovered devices come from ``pairing.timeline.discovered`` (filtered to a site's networks),
the state of a paired phone from its credential, its timeline and the audit log. The shaping
functions are pure; the ``load_*`` functions read the store.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner.pairing.credentials import as_utc, find_credential
from provisioner.pairing.timeline import discovered, timeline
from provisioner.phones.identify import from_user_agent
from provisioner.phones.mac import colon_mac
from provisioner.phones.vendors import VENDORS, by_oui
from provisioner.store.models import AuditEvent, DeviceEvent
from provisioner.tenants.schema import TenantDocument
from provisioner.tenants.schema.extensions import Site


@dataclass(frozen=True, slots=True)
class SeenDevice:
    """An unpaired phone that asked for its files: what the MAC and User-Agent tell."""

    mac: str
    vendor: str
    vendor_name: str | None
    model: str | None
    firmware: str | None
    first_seen: datetime
    last_seen: datetime
    source: str
    file: str

    @property
    def colon(self) -> str:
        """The MAC as printed on most labels."""
        return colon_mac(self.mac)


def vendor_label(mac: str) -> tuple[str, str | None]:
    """The vendor's label and name from the MAC's OUI ("" and None when none knows it)."""
    vendors = by_oui(mac)
    if not vendors:
        return "", None
    name = vendors[0].name if len(vendors) == 1 else None
    return " / ".join(vendor.label for vendor in vendors), name


def oui_labels() -> dict[str, str]:
    """Every known OUI with its vendor label(s), for the page's check as one types."""
    labels: dict[str, list[str]] = {}
    for vendor in VENDORS:
        for oui in vendor.ouis:
            labels.setdefault(oui, []).append(vendor.label)
    return {oui: " / ".join(names) for oui, names in sorted(labels.items())}


def in_networks(source: str, networks: list[str]) -> bool:
    """True when ``source`` (an address, maybe with a port) lies in one of ``networks``."""
    address_text = source.rsplit(":", 1)[0] if source.count(":") == 1 else source
    try:
        address = ipaddress.ip_address(address_text.strip("[]"))
    except ValueError:
        return False
    for network in networks:
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


def seen_device(item: dict[str, Any], first_seen: datetime) -> SeenDevice:
    """One discovered item (as ``pairing.timeline.discovered`` gives it), identified."""
    label, name = vendor_label(item["mac"])
    agent = from_user_agent(item.get("user_agent") or "")
    return SeenDevice(
        mac=item["mac"],
        vendor=label or next((v.label for v in VENDORS if v.name == agent.vendor), ""),
        vendor_name=name or agent.vendor,
        model=agent.model,
        firmware=agent.firmware,
        first_seen=first_seen,
        last_seen=datetime.fromisoformat(item["at"]),
        source=item["source"],
        file=item["file"],
    )


def _first_seen(db: Session, macs: list[str]) -> dict[str, datetime]:
    rows = db.execute(
        select(DeviceEvent.mac, DeviceEvent.at)
        .where(DeviceEvent.mac.in_(macs), DeviceEvent.tenant_id.is_(None))
        .order_by(DeviceEvent.id)
    )
    first: dict[str, datetime] = {}
    for mac, at in rows:
        first.setdefault(mac, as_utc(at) or at)
    return first


def load_discovered(db: Session, site: Site) -> tuple[list[SeenDevice], list[SeenDevice]]:
    """Unpaired phones seen lately, newest first: those from the site's networks, and the
    rest (every one is "here" when the site has no networks)."""
    items = discovered(db)
    first = _first_seen(db, [item["mac"] for item in items])
    devices = [
        seen_device(item, first.get(item["mac"], datetime.fromisoformat(item["at"])))
        for item in items
    ]
    if not site.networks:
        return devices, []
    here = [device for device in devices if in_networks(device.source, site.networks)]
    return here, [device for device in devices if device not in here]


# The timeline kinds of a full fetch, each a way the phone proved itself.
FULL_PROOFS = ("full-certificate", "full-credentials", "full-first-use")


@dataclass(frozen=True, slots=True)
class DeviceState:
    """How far a paired phone has come since it was (last) paired."""

    paired: bool
    paired_at: datetime | None = None
    bootstrap_at: datetime | None = None
    full_at: datetime | None = None
    window_until: datetime | None = None
    window_open: bool = False
    conflict_source: str | None = None
    full_proof: str = ""  # how the newest full fetch was earned: a FULL_PROOFS kind

    @property
    def stage(self) -> str:
        """waiting, bootstrap or full: the furthest step reached."""
        if self.full_at is not None:
            return "full"
        return "bootstrap" if self.bootstrap_at is not None else "waiting"


def device_state(
    paired_at: datetime | None,
    window_until: datetime | None,
    events: list[dict[str, Any]],
    conflicts: list[str],
    now: datetime,
) -> DeviceState:
    """The state from the timeline (newest first) and the first-use alarms since pairing."""
    if paired_at is None:
        return DeviceState(paired=False)
    since = [event for event in events if datetime.fromisoformat(event["at"]) >= paired_at]
    full = [event for event in since if event["answer"] == "full"]
    bootstrap = [event for event in since if event["answer"] == "bootstrap"]
    return DeviceState(
        paired=True,
        paired_at=paired_at,
        bootstrap_at=datetime.fromisoformat(bootstrap[-1]["at"]) if bootstrap else None,
        full_at=datetime.fromisoformat(full[-1]["at"]) if full else None,
        window_until=window_until,
        window_open=window_until is not None and now <= window_until,
        conflict_source=conflicts[0] if conflicts else None,
        full_proof=full[0]["kind"] if full and full[0]["kind"] in FULL_PROOFS else "",
    )


def _paired_at(db: Session, tenant: str, mac: str) -> datetime | None:
    moment = db.scalar(
        select(AuditEvent.at)
        .where(
            AuditEvent.tenant == tenant,
            AuditEvent.object_type == "phones",
            AuditEvent.object_key == mac,
            AuditEvent.action.in_(("pair", "swap")),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return as_utc(moment)


def load_state(
    db: Session, tenant: str, tenant_id: int, mac: str
) -> tuple[DeviceState, list[dict[str, Any]]]:
    """The phone's state and its newest requests (ten)."""
    events = timeline(db, tenant_id, mac, limit=10)
    credential = find_credential(db, mac)
    paired_at = None
    window_until = None
    if credential is not None and credential.tenant_id == tenant_id:
        paired_at = _paired_at(db, tenant, mac) or as_utc(credential.created_at)
        window_until = as_utc(credential.window_until)
    conflicts: list[str] = []
    if paired_at is not None:
        rows = db.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.action == "first-use-conflict",
                AuditEvent.object_key == mac,
                AuditEvent.at >= paired_at,
            )
            .order_by(AuditEvent.id.desc())
            .limit(5)
        )
        conflicts = [str(row.changes.get("source", "")) for row in rows]
    return device_state(paired_at, window_until, events, conflicts, datetime.now(UTC)), events


@dataclass(frozen=True, slots=True)
class Deed:
    """One audited action on a phone: who, what, when."""

    at: datetime
    who: str
    action: str
    details: dict[str, Any]

    @property
    def lines(self) -> str:
        """The lines a pairing gave the phone ("242, 243"); older events name one extension."""
        lines = self.details.get("lines") or [self.details.get("extension") or ""]
        return ", ".join(str(line) for line in lines if line)

    @property
    def model(self) -> str:
        """The vendor and model a pairing or swap chose ("Yealink T46U"), or ""."""
        vendor, model = self.details.get("vendor"), self.details.get("model")
        labels = {item.name: item.label for item in VENDORS}
        return " ".join(filter(None, (labels.get(vendor or "", vendor), model)))


HISTORY_PAGES = 10  # at most this many reads of the audit log for one phone's history


def who_did_what(db: Session, tenant: str, mac: str, limit: int = 5) -> list[Deed]:
    """The newest people's actions on the phone (its own requests left out), a line each.

    The item changes a pairing, swap or unpair saved are folded into its line (its event
    names them in ``document_events``); the audit log keeps every one of them. The rows are
    read a page at a time until ``limit`` lines are found (or the log or HISTORY_PAGES ends).
    """
    query = (
        select(AuditEvent)
        .where(
            AuditEvent.tenant == tenant,
            AuditEvent.object_type == "phones",
            AuditEvent.object_key == mac,
            AuditEvent.actor.not_like("phone:%"),
        )
        .order_by(AuditEvent.id.desc())
    )
    page = limit * 3  # room for the folded ones, which come right after their deed
    rows: list[AuditEvent] = []
    deeds: list[Deed] = []
    for _ in range(HISTORY_PAGES):
        read = db.scalars(query.offset(len(rows)).limit(page)).all()
        rows += read
        deeds = _unfolded(rows)
        if len(deeds) >= limit or len(read) < page:
            break
    return deeds[:limit]


def _unfolded(rows: list[AuditEvent]) -> list[Deed]:
    """A line per row that no other row's deed folds in."""
    folded = {number for row in rows for number in row.changes.get("document_events", [])}
    return [
        Deed(as_utc(row.at) or row.at, row.actor.removeprefix("token:"), row.action, row.changes)
        for row in rows
        if row.id not in folded
    ]


def phone_sites(document: TenantDocument) -> dict[str, list[str]]:
    """Extension number -> the MACs of the phones carrying it."""
    carriers: dict[str, list[str]] = {}
    for phone in document.phones:
        for line in phone.lines:
            carriers.setdefault(line, []).append(phone.mac)
    return carriers
