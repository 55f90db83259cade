"""Pairing, unpairing and swapping phones; every change audited in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from provisioner.errors import (
    FieldProblem,
    NotFound,
    PairingConflict,
    SharedLineRefused,
    ValidationFailed,
)
from provisioner.pairing.credentials import as_utc, find_credential, issue_credential
from provisioner.pairing.timeline import announced_models
from provisioner.phones.mac import normalize_mac
from provisioner.phones.vendors import by_oui
from provisioner.security import audit
from provisioner.security.secrets import SecretBox, new_password
from provisioner.store import models
from provisioner.tenants.repository import find_tenant, load_document, save_document, touch
from provisioner.tenants.schema import TenantDocument
from provisioner.tenants.schema.devices import Phone
from provisioner.times import local_time


@dataclass(frozen=True, slots=True)
class Pairing:
    """The result of pairing: which phone, which tenant and line, until when first use is open."""

    mac: str
    tenant: str
    extension: str
    username: str
    window_until: datetime
    lines: tuple[str, ...] = ()
    removed_lines: tuple[str, ...] = ()  # lines the phone lost; their SIP passwords are new
    timezone: str | None = None  # the tenant's, for the times the command line shows

    def as_json(self) -> dict[str, Any]:
        """As the API shows it (the password only through the audited credentials call)."""
        return {
            "mac": self.mac,
            "tenant": self.tenant,
            "extension": self.extension,
            "lines": list(self.lines),
            "removed_lines": list(self.removed_lines),
            "username": self.username,
            "window_until": self.window_until.isoformat(),
        }

    def summary(self) -> str:
        """One sentence for the command line: the lines the phone now has, what it lost."""
        text = f"paired {self.mac} in {self.tenant}: its lines are now {', '.join(self.lines)}"
        if self.removed_lines:
            removed = ", ".join(self.removed_lines)
            text += f"; it no longer has {removed} (new SIP password for {removed})"
        # In the tenant's zone, to the second, as `phones list` shows the phone's requests.
        return text + f"; boot it before {local_time(self.window_until, self.timezone)}"


def parse_mac(text: str, field: str = "mac") -> str:
    """A MAC in any common notation, or a 422 naming ``field``."""
    try:
        return normalize_mac(text)
    except ValueError as exc:
        raise ValidationFailed([FieldProblem(field, str(exc))]) from exc


def tenant_holding(session: Session, mac: str) -> str | None:
    """The name of the tenant that has the phone ``mac``; None when no tenant has it."""
    return session.scalar(
        select(models.Tenant.name)
        .join(models.Phone, models.Phone.tenant_id == models.Tenant.id)
        .where(models.Phone.mac == mac)
    )


def _check_not_elsewhere(session: Session, tenant: models.Tenant, mac: str) -> None:
    if tenant_holding(session, mac) not in (None, tenant.name):
        raise PairingConflict(f"{mac} belongs to another tenant; unpair it there first")


def _guess_vendor(mac: str) -> str | None:
    vendors = by_oui(mac)
    return vendors[0].name if len(vendors) == 1 else None


def announced_model(session: Session, mac: str) -> tuple[str, str] | None:
    """The vendor and model the phone's latest request with a User-Agent announced, if any."""
    return announced_models(session, [mac]).get(mac)


@dataclass(frozen=True, slots=True)
class Replacement:
    """What a swap makes of the new phone: its vendor and model, and where they come from."""

    vendor: str | None
    model: str | None
    source: str  # "announced" (its own requests), "vendor" (its MAC; model unknown), "old"


def replacement_for(session: Session, old: Phone, new_mac: str) -> Replacement:
    """The new phone's own word first, then its MAC's vendor (another brand: the model is not
    the old one's), else like for like: the old phone's vendor and model."""
    announced = announced_model(session, new_mac)
    if announced is not None:
        return Replacement(*announced, "announced")
    vendor = _guess_vendor(new_mac)
    if vendor not in (None, old.vendor):
        return Replacement(vendor, None, "vendor")
    return Replacement(old.vendor, old.model, "old")


def pair(
    session: Session,
    box: SecretBox,
    tenant_name: str,
    mac_text: str,
    extension: str,
    actor: str,
    window_minutes: int,
    vendor: str | None = None,
    model: str | None = None,
    add_line: bool = False,
    *,
    more_lines: Sequence[str] = (),
    may_read_secrets: bool = False,
    site: str | None = None,
) -> Pairing:
    """Put ``extension`` (then ``more_lines``) on the phone's first lines, keep or issue
    credentials, open the window.

    A re-pair replaces the phone's lines unless ``add_line``; the lines it loses get new SIP
    passwords (they are in the file the phone had). The device keeps its credentials. A line
    that a paired phone already carries (a shared line) gives this device that extension's
    SIP password: only a caller who ``may_read_secrets`` may add one (SharedLineRefused).
    ``site`` puts the phone at that site in the same save (else it stays where it was).
    """
    mac = parse_mac(mac_text)
    tenant = find_tenant(session, tenant_name)
    _check_not_elsewhere(session, tenant, mac)
    document = load_document(session, tenant)
    known = {item.number for item in document.extensions}
    for number in (extension, *more_lines):
        if number not in known:
            raise ValidationFailed(
                [FieldProblem("extension", f"extension {number} does not exist")]
            )
    phones = [phone for phone in document.phones if phone.mac != mac]
    current = next((phone for phone in document.phones if phone.mac == mac), None)
    if current is None:
        current = Phone(mac=mac, vendor=vendor or _guess_vendor(mac), model=model)
    chosen = list(dict.fromkeys((extension, *more_lines)))
    kept = [line for line in current.lines if line not in chosen] if add_line else []
    lines = [*chosen, *kept]
    removed = [line for line in current.lines if line not in lines]
    added = [line for line in lines if line not in current.lines]
    shared = deployed_carriers(session, tenant.id, phones, added)
    if shared and not may_read_secrets:
        raise SharedLineRefused(_shared_refusal(shared), shared)
    changes: dict[str, Any] = {"lines": lines}
    changes |= {"vendor": vendor} if vendor else {}
    changes |= {"model": model} if model else {}
    changes |= {"site": site} if site else {}
    paired = Phone.model_validate({**current.model_dump(), **changes})
    phones.append(paired)
    saved = _save_phones(session, document.model_copy(update={"phones": phones}), actor, box)
    _rotate_sip_passwords(session, box, tenant, removed, actor)
    credential = issue_credential(session, box, tenant.id, mac, window_minutes)
    window_until = as_utc(credential.window_until)
    assert window_until is not None
    audit.record(
        session,
        actor,
        "pair",
        "phones",
        mac,
        tenant.name,
        {
            "extension": extension,
            "lines": lines,
            "window_until": window_until.isoformat(),
            **{name: getattr(paired, name) for name in ("vendor", "model", "site")},
            "document_events": saved,
            # The SIP passwords of these lines were already on a paired phone: this device
            # gets them too (only a caller with the secrets permission may do this).
            **({"shared_lines": shared} if shared else {}),
        },
    )
    return Pairing(
        mac,
        tenant.name,
        extension,
        credential.username,
        window_until,
        tuple(lines),
        tuple(removed),
        tenant.timezone,
    )


def deployed_carriers(
    session: Session, tenant_id: int, others: Sequence[Phone], numbers: Sequence[str]
) -> dict[str, list[str]]:
    """For each of ``numbers`` that one of ``others`` carries and that phone is paired
    (has provisioning credentials, so it gets, or got, that line's SIP password), the MACs of
    those phones."""
    carriers = {
        number: [phone.mac for phone in others if number in phone.lines] for number in numbers
    }
    macs = {mac for found in carriers.values() for mac in found}
    if not macs:
        return {}
    paired = set(
        session.scalars(
            select(models.DeviceCredential.mac).where(
                models.DeviceCredential.tenant_id == tenant_id,
                models.DeviceCredential.mac.in_(macs),
            )
        )
    )
    deployed = {
        number: [mac for mac in found if mac in paired] for number, found in carriers.items()
    }
    return {number: found for number, found in deployed.items() if found}


def _shared_refusal(shared: dict[str, list[str]]) -> str:
    number, macs = next(iter(shared.items()))
    return (
        f"extension {number} is already on the paired phone {macs[0]}: a second device on it "
        "would get its SIP password, which needs the secrets permission (an admin token); "
        "to replace that phone, swap it"
    )


def record_refusal(
    session: Session, actor: str, tenant_name: str, mac_text: str, refusal: SharedLineRefused
) -> None:
    """The audit event of a pairing refused for a shared line (in its own transaction: the
    caller's was rolled back with the refusal)."""
    audit.record(
        session,
        actor,
        "pair-refused",
        "phones",
        parse_mac(mac_text),
        tenant_name,
        {"reason": "shared line needs the secrets permission", "shared_lines": refusal.shared},
    )


def _save_phones(
    session: Session, document: TenantDocument, actor: str, box: SecretBox
) -> list[int]:
    """Save ``document``; the ids of the audit events it recorded for phones (each change,
    field by field). The pairing's, swap's or unpair's own event names them, so what a
    technician did reads as one deed while the audit log keeps every change."""
    with audit.collecting(session) as events:
        save_document(session, document, actor, box)
    session.flush()
    return [event.id for event in events if event.object_type == "phones"]


def _without_phone(document: TenantDocument, mac: str) -> tuple[TenantDocument, Phone]:
    phone = next((phone for phone in document.phones if phone.mac == mac), None)
    if phone is None:
        raise NotFound(f"no phone {mac} in tenant {document.name}")
    phones = [other for other in document.phones if other.mac != mac]
    return document.model_copy(update={"phones": phones}), phone


def _rotate_sip_passwords(
    session: Session, box: SecretBox, tenant: models.Tenant, numbers: list[str], actor: str
) -> None:
    """New SIP passwords for the extensions a departing phone carried: it keeps its file, so
    what is in it must stop working. Phones still carrying them get the new one on re-sync."""
    rows = session.scalars(
        select(models.Extension).where(
            models.Extension.tenant_id == tenant.id, models.Extension.number.in_(numbers)
        )
    )
    touch(tenant)
    for row in rows:
        row.sip_password_encrypted = box.encrypt(new_password())
        audit.record(
            session,
            actor,
            "rotate-secret",
            "extensions",
            row.number,
            tenant.name,
            {"fields": ["sip_password"]},
        )


def unpair(session: Session, box: SecretBox, tenant_name: str, mac_text: str, actor: str) -> None:
    """Remove the phone from the tenant; its credentials and uploads are erased, the SIP
    passwords it knew are rotated."""
    mac = parse_mac(mac_text)
    tenant = find_tenant(session, tenant_name)
    document, phone = _without_phone(load_document(session, tenant), mac)
    session.execute(delete(models.DeviceCredential).where(models.DeviceCredential.mac == mac))
    saved = _save_phones(session, document, actor, box)
    _rotate_sip_passwords(session, box, tenant, list(phone.lines), actor)
    session.execute(delete(models.PhoneUpload).where(models.PhoneUpload.mac == mac))
    audit.record(session, actor, "unpair", "phones", mac, tenant.name, {"document_events": saved})


def swap(
    session: Session,
    box: SecretBox,
    tenant_name: str,
    old_text: str,
    new_text: str,
    actor: str,
    window_minutes: int,
    vendor: str | None = None,
    model: str | None = None,
) -> Pairing:
    """Move a phone's lines and keys to a replacement; the old one's credentials die and the
    SIP passwords it knew are rotated. Without ``vendor``, the replacement's vendor and model
    are chosen by replacement_for; the old phone's vendor settings (overrides) go only to a
    phone of the same vendor."""
    old_mac, new_mac = parse_mac(old_text, "mac"), parse_mac(new_text, "new_mac")
    tenant = find_tenant(session, tenant_name)
    _check_not_elsewhere(session, tenant, new_mac)
    document, old = _without_phone(load_document(session, tenant), old_mac)
    if any(phone.mac == new_mac for phone in document.phones):
        raise PairingConflict(f"{new_mac} is already a phone of {tenant.name}; unpair it first")
    if vendor is None:
        chosen = replacement_for(session, old, new_mac)
        vendor, model = chosen.vendor, chosen.model
    changes: dict[str, Any] = {"mac": new_mac, "vendor": vendor, "model": model}
    if vendor != old.vendor:
        changes["overrides"] = {}
    replacement = Phone.model_validate({**old.model_dump(), **changes})
    session.execute(delete(models.DeviceCredential).where(models.DeviceCredential.mac == old_mac))
    saved = _save_phones(
        session, document.model_copy(update={"phones": [*document.phones, replacement]}), actor, box
    )
    _rotate_sip_passwords(session, box, tenant, list(old.lines), actor)
    credential = issue_credential(session, box, tenant.id, new_mac, window_minutes)
    window_until = as_utc(credential.window_until)
    assert window_until is not None
    audit.record(
        session,
        actor,
        "swap",
        "phones",
        new_mac,
        tenant.name,
        {"replaces": old_mac, "vendor": vendor, "model": model, "document_events": saved},
    )
    extension = replacement.lines[0] if replacement.lines else ""
    return Pairing(
        new_mac, tenant.name, extension, credential.username, window_until, tuple(replacement.lines)
    )


def reveal_credential(
    session: Session, box: SecretBox, tenant_name: str, mac_text: str, actor: str
) -> dict[str, str]:
    """A paired phone's provisioning username and password; the release is audited."""
    mac = parse_mac(mac_text)
    tenant = find_tenant(session, tenant_name)
    credential = find_credential(session, mac)
    if credential is None or credential.tenant_id != tenant.id:
        raise NotFound(f"no paired phone {mac} in tenant {tenant.name}")
    audit.record(
        session,
        actor,
        "release-secret",
        "phones",
        mac,
        tenant.name,
        {"fields": ["provisioning_password"], "via": "api"},
    )
    return {"username": credential.username, "password": box.decrypt(credential.password_encrypted)}


def phone_of(session: Session, tenant_name: str, mac_text: str) -> tuple[models.Tenant, str]:
    """The tenant and MAC of a phone the tenant has; NotFound otherwise."""
    mac = parse_mac(mac_text)
    tenant = find_tenant(session, tenant_name)
    found = session.scalar(
        select(models.Phone.id).where(models.Phone.mac == mac, models.Phone.tenant_id == tenant.id)
    )
    if found is None:
        raise NotFound(f"no phone {mac} in tenant {tenant.name}")
    return tenant, mac
