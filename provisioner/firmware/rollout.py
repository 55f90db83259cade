"""Staged rollouts: which phones of a tenant's (or site's) model should run which version.

A phone is in a rollout when its MAC is on the canary list, or when its stable position
(SHA-256 of the rollout id and the MAC, 0-9999) falls below the percentage: the same phones
stay chosen for the life of a rollout, and widening only adds phones. A new rollout for the
same tenant, site and model supersedes the old one (and draws a new sample). Rolling back
points the chosen phones at the rollback version, or at nothing when none was named.

Over 400 lines on purpose: which phones a rollout chooses (``selects``, read on every phone
request) and the changes that start, widen and roll it back must agree on the same states
and the same sample, so they are kept in one module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from provisioner.errors import FieldProblem, FirmwareNotFound, UnsupportedVendor, ValidationFailed
from provisioner.firmware.catalogue import FirmwareEntry, for_target
from provisioner.pairing.timeline import announced_models
from provisioner.phones.mac import normalize_mac
from provisioner.security import audit
from provisioner.store import models
from provisioner.tenants.lookup import find_tenant, touch

SCALE = 10_000
ACTIVE, ROLLED_BACK, SUPERSEDED = "active", "rolled-back", "superseded"
PENDING, ATTEMPTED, UPGRADED, FAILED = "pending", "attempted", "upgraded", "failed"


def stable_position(rollout_id: int, mac: str) -> int:
    """The phone's place in this rollout's order, 0-9999; the same on every call."""
    digest = hashlib.sha256(f"{rollout_id}:{mac}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % SCALE


def is_selected(rollout_id: int, percentage: int, canary: Iterable[str], mac: str) -> bool:
    """True when ``mac`` is on the canary list or inside the rollout's share."""
    return mac in canary or stable_position(rollout_id, mac) < percentage * SCALE // 100


@dataclass(frozen=True, slots=True)
class RolloutRule:
    """A live rollout (active or rolled back) as phone files need it: kept with the tenant's
    view, which every change of a rollout makes stale (see ``_touch_tenant``)."""

    id: int
    site: str
    vendor: str
    model: str
    version: str
    rollback_version: str | None
    percentage: int
    canary: tuple[str, ...]
    state: str


Rollout: TypeAlias = models.FirmwareRollout | RolloutRule


def wanted_version(rollout: Rollout) -> str | None:
    """The version the rollout's chosen phones should run now."""
    if rollout.state == ACTIVE:
        return rollout.version
    if rollout.state == ROLLED_BACK:
        return rollout.rollback_version
    return None


def selects(rollout: Rollout, mac: str) -> bool:
    """True when the rollout has chosen the phone ``mac``."""
    return is_selected(rollout.id, rollout.percentage, rollout.canary or (), mac)


def live_rollouts(session: Session, tenant_id: int) -> tuple[RolloutRule, ...]:
    """The tenant's active and rolled-back rollouts, newest first."""
    rows = session.scalars(
        select(models.FirmwareRollout)
        .where(
            models.FirmwareRollout.tenant_id == tenant_id,
            models.FirmwareRollout.state.in_((ACTIVE, ROLLED_BACK)),
        )
        .order_by(models.FirmwareRollout.id.desc())
    )
    return tuple(
        RolloutRule(
            row.id,
            row.site,
            row.vendor,
            row.model,
            row.version,
            row.rollback_version,
            row.percentage,
            tuple(row.canary or ()),
            row.state,
        )
        for row in rows
    )


def governing_rollout(
    rules: Iterable[RolloutRule], site: str | None, vendor: str, model: str
) -> RolloutRule | None:
    """The rollout governing a phone: its site's, else the tenant-wide one (newest first)."""
    matching = [
        rule
        for rule in rules
        if rule.vendor == vendor
        and rule.model.upper() == model.upper()
        and rule.site in (site or "", "")
    ]
    for rule in matching:
        if rule.site and rule.site == site:
            return rule
    return next((rule for rule in matching if not rule.site), None)


def rollout_for(
    session: Session, tenant_id: int, site: str | None, vendor: str, model: str
) -> RolloutRule | None:
    """The rollout governing a phone, read from the store."""
    return governing_rollout(live_rollouts(session, tenant_id), site, vendor, model)


def _touch_tenant(session: Session, tenant_id: int) -> None:
    """A rollout changed: the tenant's phone files may name other firmware from the commit
    on, so every worker's view of the tenant is made stale."""
    tenant = session.get(models.Tenant, tenant_id)
    if tenant is not None:
        touch(tenant)


@dataclass(frozen=True, slots=True)
class RolloutRequest:
    """A new rollout as the CLI or the API describes it."""

    tenant: str
    vendor: str
    model: str
    version: str
    site: str = ""
    percentage: int = 0
    canary: tuple[str, ...] = ()
    rollback_version: str | None = None


def _canonical_model(vendor_name: str, model: str) -> str:
    # The vendor modules (lxml) are loaded by starting a rollout only, not by listing them.
    from provisioner.phones.vendors import by_name

    try:
        vendor = by_name(vendor_name)
    except UnsupportedVendor as exc:
        raise ValidationFailed([FieldProblem("vendor", str(exc))]) from exc
    found = vendor.model(model)
    if found is None:
        known = ", ".join(vendor.models)
        raise ValidationFailed([FieldProblem("model", f"{vendor.label} has no {model}: {known}")])
    return found.name


def _macs(texts: Iterable[str]) -> list[str]:
    macs = []
    for index, text in enumerate(texts):
        try:
            macs.append(normalize_mac(text))
        except ValueError as exc:
            raise ValidationFailed([FieldProblem(f"canary[{index}]", str(exc))]) from exc
    return sorted(set(macs))


def _check_percentage(percentage: int) -> None:
    if isinstance(percentage, bool) or not isinstance(percentage, int):
        raise ValidationFailed([FieldProblem("percentage", "a whole number 0-100")])
    if not 0 <= percentage <= 100:
        raise ValidationFailed([FieldProblem("percentage", "a whole number 0-100")])


def _in_catalogue(
    entries: Sequence[FirmwareEntry], field: str, vendor: str, model: str, version: str
) -> None:
    if for_target(entries, vendor, model, version) is None:
        raise ValidationFailed(
            [
                FieldProblem(
                    field,
                    f"the catalogue has no {vendor} {model} {version}; add it with "
                    "`provisioner firmware add`",
                )
            ]
        )


def start(
    session: Session, wanted: RolloutRequest, entries: Sequence[FirmwareEntry], actor: str
) -> models.FirmwareRollout:
    """Start a rollout (superseding the one for the same tenant, site and model); audited."""
    tenant = find_tenant(session, wanted.tenant)
    model = _canonical_model(wanted.vendor, wanted.model)
    _check_percentage(wanted.percentage)
    _in_catalogue(entries, "version", wanted.vendor, model, wanted.version)
    if wanted.rollback_version:
        _in_catalogue(entries, "rollback_version", wanted.vendor, model, wanted.rollback_version)
    if wanted.site and wanted.site not in _site_names(session, tenant.id):
        raise ValidationFailed([FieldProblem("site", f"{tenant.name} has no site {wanted.site}")])
    session.execute(
        update(models.FirmwareRollout)
        .where(
            models.FirmwareRollout.tenant_id == tenant.id,
            models.FirmwareRollout.site == wanted.site,
            models.FirmwareRollout.vendor == wanted.vendor,
            models.FirmwareRollout.model == model,
            models.FirmwareRollout.state.in_((ACTIVE, ROLLED_BACK)),
        )
        .values(state=SUPERSEDED)
    )
    rollout = models.FirmwareRollout(
        tenant_id=tenant.id,
        site=wanted.site,
        vendor=wanted.vendor,
        model=model,
        version=wanted.version,
        rollback_version=wanted.rollback_version or None,
        percentage=wanted.percentage,
        canary=_macs(wanted.canary),
        state=ACTIVE,
        created_by=actor,
    )
    session.add(rollout)
    session.flush()
    touch(tenant)
    audit.record(
        session, actor, "start", "firmware_rollout", str(rollout.id), tenant.name, _fields(rollout)
    )
    return rollout


def _site_names(session: Session, tenant_id: int) -> set[str]:
    return set(session.scalars(select(models.Site.name).where(models.Site.tenant_id == tenant_id)))


def _fields(rollout: models.FirmwareRollout) -> dict[str, Any]:
    return {
        "site": rollout.site,
        "vendor": rollout.vendor,
        "model": rollout.model,
        "version": rollout.version,
        "rollback_version": rollout.rollback_version,
        "percentage": rollout.percentage,
        "canary": list(rollout.canary or ()),
        "state": rollout.state,
    }


def find_rollout(session: Session, rollout_id: int) -> models.FirmwareRollout:
    """The rollout ``rollout_id``; FirmwareNotFound otherwise."""
    rollout = session.get(models.FirmwareRollout, rollout_id)
    if rollout is None:
        raise FirmwareNotFound(f"no rollout {rollout_id}; `provisioner firmware rollout list`")
    return rollout


def _tenant_name(session: Session, rollout: models.FirmwareRollout) -> str | None:
    return session.scalar(select(models.Tenant.name).where(models.Tenant.id == rollout.tenant_id))


def widen(
    session: Session,
    rollout_id: int,
    actor: str,
    percentage: int | None = None,
    canary: Iterable[str] = (),
) -> models.FirmwareRollout:
    """Change the share and add canary MACs; audited with the old and new values."""
    rollout = find_rollout(session, rollout_id)
    if rollout.state != ACTIVE:
        raise ValidationFailed(
            [FieldProblem("state", f"rollout {rollout_id} is {rollout.state}; start a new one")]
        )
    before = _fields(rollout)
    if percentage is not None:
        _check_percentage(percentage)
        rollout.percentage = percentage
    rollout.canary = sorted(set(rollout.canary or ()) | set(_macs(canary)))
    _touch_tenant(session, rollout.tenant_id)
    changes = audit.diff(before, _fields(rollout), ())
    audit.record(
        session,
        actor,
        "widen",
        "firmware_rollout",
        str(rollout.id),
        _tenant_name(session, rollout),
        changes,
    )
    return rollout


def roll_back(session: Session, rollout_id: int, actor: str) -> models.FirmwareRollout:
    """Point the chosen phones at the rollback version (or at nothing); audited."""
    rollout = find_rollout(session, rollout_id)
    if rollout.state != ACTIVE:
        raise ValidationFailed([FieldProblem("state", f"rollout {rollout_id} is {rollout.state}")])
    rollout.state = ROLLED_BACK
    _touch_tenant(session, rollout.tenant_id)
    # Progress now counts towards the rollback version.
    session.execute(
        update(models.FirmwareDeviceState)
        .where(models.FirmwareDeviceState.rollout_id == rollout.id)
        .values(status=PENDING, from_version=None, attempted_at=None, finished_at=None)
    )
    audit.record(
        session,
        actor,
        "roll-back",
        "firmware_rollout",
        str(rollout.id),
        _tenant_name(session, rollout),
        {"version": [rollout.version, rollout.rollback_version]},
    )
    return rollout


def targeted_macs(session: Session, rollout: models.FirmwareRollout) -> list[str]:
    """The tenant's phones of the rollout's model (and site) that it has chosen. A phone
    stored without a model (or vendor) counts with the one its own requests announce, as
    the firmware directive takes it."""
    query = select(
        models.Phone.mac, models.Phone.site, models.Phone.vendor, models.Phone.model
    ).where(
        models.Phone.tenant_id == rollout.tenant_id,
        or_(models.Phone.vendor == rollout.vendor, models.Phone.vendor.is_(None)),
        or_(func.upper(models.Phone.model) == rollout.model.upper(), models.Phone.model.is_(None)),
    )
    rows = session.execute(query).all()
    unnamed = [mac for mac, _, vendor, model in rows if vendor is None or model is None]
    announced = announced_models(session, unnamed) if unnamed else {}
    wanted = (rollout.vendor, rollout.model.upper())
    return sorted(
        mac
        for mac, site, vendor, model in rows
        if (not rollout.site or site == rollout.site)
        and _is_rollout_model(vendor, model, announced.get(mac), wanted)
        and selects(rollout, mac)
    )


def _is_rollout_model(
    vendor: str | None,
    model: str | None,
    announced: tuple[str, str] | None,
    wanted: tuple[str, str],
) -> bool:
    """The stored vendor and model, each completed from the announced ones, are ``wanted``."""
    vendor = vendor or (announced[0] if announced else None)
    model = model or (announced[1] if announced else None)
    return (vendor, (model or "").upper()) == wanted


def counts(session: Session, rollout: models.FirmwareRollout) -> dict[str, int]:
    """targeted, upgraded, pending and failed phones of the rollout."""
    targeted = targeted_macs(session, rollout)
    statuses = dict(
        session.execute(
            select(models.FirmwareDeviceState.mac, models.FirmwareDeviceState.status).where(
                models.FirmwareDeviceState.rollout_id == rollout.id
            )
        ).all()
    )
    upgraded = sum(1 for mac in targeted if statuses.get(mac) == UPGRADED)
    failed = sum(1 for mac in targeted if statuses.get(mac) == FAILED)
    return {
        "targeted": len(targeted),
        "upgraded": upgraded,
        "pending": len(targeted) - upgraded - failed,
        "failed": failed,
    }


def rollout_json(session: Session, rollout: models.FirmwareRollout) -> dict[str, Any]:
    """A rollout as the API and the CLI show it, with its counts."""
    return {
        "id": rollout.id,
        "tenant": _tenant_name(session, rollout),
        **_fields(rollout),
        "created_by": rollout.created_by,
        "created_at": rollout.created_at.isoformat(),
        "counts": counts(session, rollout),
    }


def rollouts(session: Session, tenant: str | None = None) -> list[models.FirmwareRollout]:
    """Every rollout, newest first (one tenant's when ``tenant`` is given)."""
    query = select(models.FirmwareRollout).order_by(models.FirmwareRollout.id.desc())
    if tenant:
        query = query.where(models.FirmwareRollout.tenant_id == find_tenant(session, tenant).id)
    return list(session.scalars(query))


def rollouts_wanting(session: Session, entry: FirmwareEntry) -> list[int]:
    """The live rollouts whose phones are sent to ``entry`` now."""
    rows = session.scalars(
        select(models.FirmwareRollout).where(
            models.FirmwareRollout.vendor == entry.vendor,
            models.FirmwareRollout.state.in_((ACTIVE, ROLLED_BACK)),
        )
    )
    return [
        row.id
        for row in rows
        if wanted_version(row) == entry.version and entry.serves(row.vendor, row.model)
    ]


def device_progress(session: Session, mac: str) -> dict[str, Any]:
    """The phone's place in its live rollouts, for diagnose: ``failed`` flags a phone that
    reported its old version again after fetching the image."""
    rows = session.execute(
        select(models.FirmwareDeviceState, models.FirmwareRollout)
        .join(models.FirmwareRollout)
        .where(
            models.FirmwareDeviceState.mac == mac,
            models.FirmwareRollout.state.in_((ACTIVE, ROLLED_BACK)),
        )
        .order_by(models.FirmwareRollout.id.desc())
    ).all()
    if not rows:
        return {"failed": False, "rollouts": [], "why": "in no firmware rollout (or not seen yet)"}
    items = [
        {
            "rollout": rollout.id,
            "version": wanted_version(rollout),
            "status": state.status,
            "from_version": state.from_version,
            "attempted_at": state.attempted_at.isoformat() if state.attempted_at else None,
        }
        for state, rollout in rows
    ]
    return {"failed": any(item["status"] == FAILED for item in items), "rollouts": items}
