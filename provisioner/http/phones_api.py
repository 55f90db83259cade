"""Admin API for phones beyond their CRUD (which is the tenant's ``phones`` collection):
pairing, unpairing and swapping (technicians may), keys, credentials, timeline, uploads, and
the phones the on-site agent reports."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request
from sqlalchemy import select

from provisioner.errors import FieldProblem, SharedLineRefused, ValidationFailed
from provisioner.http.auth import current_caller, flag_field, json_body, requires, text_field
from provisioner.pairing import flush_timeline, service
from provisioner.pairing.credentials import tenant_admin_password
from provisioner.pairing.discovery import parse_report, record_report
from provisioner.pairing.timeline import discovered, timeline
from provisioner.phones.keys import effective_keys, phone_book
from provisioner.security import audit
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store, models
from provisioner.tenants.repository import find_tenant, load_document, save_document
from provisioner.tenants.schema.devices import FunctionKey, Phone
from provisioner.tenants.validation import parse_model

bp = Blueprint("phones_api", __name__, url_prefix="/api/v1")

Json = dict[str, Any]


def _window_minutes(data: Any) -> int:
    value = data.get("window_minutes") if isinstance(data, dict) else None
    if value is None:
        return int(current_app.config["PHONE_PAIRING_WINDOW_MINUTES"])
    if not isinstance(value, int) or not 1 <= value <= 1440:
        raise ValidationFailed([FieldProblem("window_minutes", "a whole number 1-1440")])
    return value


@bp.post("/tenants/<tenant>/phones/<mac>/pairing")
@requires("pair")
def pair(tenant: str, mac: str) -> tuple[Json, int]:
    """Pair the phone with an extension: ``{"extension": "240", "model": "T46U"}``; a re-pair
    replaces its lines unless ``"add_line": true``; the answer lists the lines it now has."""
    data = json_body()
    add_line = flag_field(data, "add_line")
    caller = current_caller()
    try:
        with get_store().transaction() as session:
            pairing = service.pair(
                session,
                get_secret_box(),
                tenant,
                mac,
                text_field(data, "extension"),
                caller.actor,
                _window_minutes(data),
                data.get("vendor"),
                data.get("model"),
                add_line,
                may_read_secrets=caller.may("secrets"),
            )
    except SharedLineRefused as refusal:
        with get_store().transaction() as session:
            service.record_refusal(session, caller.actor, tenant, mac, refusal)
        raise
    return pairing.as_json(), 201


@bp.delete("/tenants/<tenant>/phones/<mac>/pairing")
@requires("pair")
def unpair(tenant: str, mac: str) -> tuple[str, int]:
    """Unpair: the phone leaves the tenant; credentials erased, its SIP passwords rotated."""
    with get_store().transaction() as session:
        service.unpair(session, get_secret_box(), tenant, mac, current_caller().actor)
    return "", 204


@bp.post("/tenants/<tenant>/phones/<mac>/swap")
@requires("pair")
def swap(tenant: str, mac: str) -> Json:
    """Replace the phone by ``{"new_mac": ...}``, which takes its lines and keys."""
    data = json_body()
    with get_store().transaction() as session:
        pairing = service.swap(
            session,
            get_secret_box(),
            tenant,
            mac,
            text_field(data, "new_mac"),
            current_caller().actor,
            _window_minutes(data),
        )
    return pairing.as_json()


def _keys_json(tenant: str, mac: str) -> Json:
    with get_store().reading() as session:
        tenant_row, normalized = service.phone_of(session, tenant, mac)
        document = load_document(session, tenant_row)
    phone = next(item for item in document.phones if item.mac == normalized)
    keys = [key.model_dump(mode="json") for key in effective_keys(phone_book(document), phone)]
    return {"default": phone.function_keys is None, "items": keys}


@bp.get("/tenants/<tenant>/phones/<mac>/keys")
@requires("read")
def get_keys(tenant: str, mac: str) -> Json:
    """The keys the phone gets, and whether they are the tenant's defaults."""
    return _keys_json(tenant, mac)


@bp.put("/tenants/<tenant>/phones/<mac>/keys")
@requires("write")
def put_keys(tenant: str, mac: str) -> Json:
    """Set the phone's keys (a list), or ``null`` for the tenant's defaults; checked for fit."""
    data = json_body()
    items = data.get("items") if isinstance(data, dict) else data
    keys = (
        None
        if items is None
        else [parse_model(FunctionKey, item, f"items[{index}]") for index, item in enumerate(items)]
    )
    with get_store().transaction() as session:
        tenant_row, normalized = service.phone_of(session, tenant, mac)
        document = load_document(session, tenant_row)
        phones = [
            Phone.model_validate({**phone.model_dump(), "function_keys": keys})
            if phone.mac == normalized
            else phone
            for phone in document.phones
        ]
        save_document(
            session,
            document.model_copy(update={"phones": phones}),
            current_caller().actor,
            get_secret_box(),
        )
    return _keys_json(tenant, mac)


@bp.get("/tenants/<tenant>/phones/<mac>/credentials")
@requires("secrets")
def credentials(tenant: str, mac: str) -> Json:
    """The phone's provisioning username and password (audited as a released secret)."""
    with get_store().transaction() as session:
        return service.reveal_credential(
            session, get_secret_box(), tenant, mac, current_caller().actor
        )


@bp.get("/tenants/<tenant>/phone-admin-password")
@requires("secrets")
def admin_password(tenant: str) -> Json:
    """The password of the phones' admin pages (generated on first need; audited)."""
    with get_store().transaction() as session:
        tenant_row = find_tenant(session, tenant)
        password = tenant_admin_password(session, get_secret_box(), tenant_row)
        audit.record(
            session,
            current_caller().actor,
            "release-secret",
            "tenant",
            tenant,
            tenant,
            {"fields": ["phone_admin_password"], "via": "api"},
        )
    return {"username": "admin", "password": password}


@bp.get("/tenants/<tenant>/phones/<mac>/timeline")
@requires("read")
def get_timeline(tenant: str, mac: str) -> Json:
    """The phone's recent requests, newest first."""
    flush_timeline(current_app._get_current_object())  # type: ignore[attr-defined]
    with get_store().reading() as session:
        tenant_row, normalized = service.phone_of(session, tenant, mac)
        return {"items": timeline(session, tenant_row.id, normalized)}


@bp.get("/tenants/<tenant>/phones/<mac>/uploads")
@requires("read")
def uploads(tenant: str, mac: str) -> Json:
    """The files the phone uploaded: name, size and when."""
    with get_store().reading() as session:
        tenant_row, normalized = service.phone_of(session, tenant, mac)
        rows = session.scalars(
            select(models.PhoneUpload)
            .where(
                models.PhoneUpload.tenant_id == tenant_row.id, models.PhoneUpload.mac == normalized
            )
            .order_by(models.PhoneUpload.name)
        )
        return {
            "items": [
                {"name": row.name, "size": row.size, "updated_at": row.updated_at.isoformat()}
                for row in rows
            ]
        }


@bp.get("/discovered")
@requires("read")
def discovered_phones() -> Json:
    """Phones that asked for their files lately but no tenant has: pair one of these."""
    flush_timeline(current_app._get_current_object())  # type: ignore[attr-defined]
    with get_store().reading() as session:
        return {"items": discovered(session)}


@bp.post("/discovered")
@requires("pair")
def report_discovered() -> tuple[Json, int]:
    """A phone the on-site agent saw booting (``zerotouch discover``); the same answer for
    every MAC, known to a tenant or not."""
    report = parse_report(json_body())
    with get_store().transaction() as session:
        record_report(
            session,
            report,
            request.remote_addr or "",
            current_app.config["PHONE_TIMELINE_LENGTH"],
        )
    return {"status": "recorded"}, 202
