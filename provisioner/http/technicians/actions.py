"""Pairing, a phone's live page, swap and unpair: forms that call ``pairing.service``.

The service does the work (credentials, the first-use window, rotation, audit); these views
check the form, explain conflicts in the page's language, and ask before a swap or unpair.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from flask import current_app, flash, g, redirect, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from provisioner.errors import NotFound, PairingConflict, SharedLineRefused, ValidationFailed
from provisioner.http.technicians.blueprint import bp, page, require_change, t
from provisioner.http.technicians.devices import load_state, oui_labels, phone_sites, who_did_what
from provisioner.http.technicians.pages import load_site
from provisioner.pairing import service
from provisioner.phones.identify import from_user_agent
from provisioner.phones.mac import colon_mac, normalize_mac
from provisioner.phones.vendors import VENDORS, by_name, by_oui
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store, models
from provisioner.tenants.repository import find_tenant, load_document, save_document
from provisioner.tenants.schema import Phone, Site, TenantDocument

Page = tuple[str, int]


@dataclass
class PairForm:
    """What the pairing form holds, and what is wrong with it."""

    mac: str = ""
    extensions: list[str] = field(default_factory=list)
    model: str = ""  # "vendor:model"
    shared: bool = False
    errors: list[str] = field(default_factory=list)
    conflict: str = ""


def _window_minutes() -> int:
    return int(current_app.config["PHONE_PAIRING_WINDOW_MINUTES"])


def _model_choices() -> list[tuple[str, str, list[str]]]:
    """(vendor name, label, model names) for the model list."""
    return [(vendor.name, vendor.label, sorted(vendor.models)) for vendor in VENDORS]


def _guess_model(mac: str) -> str:
    """The "vendor:model" the phone's own User-Agent told us, when it booted unpaired."""
    with get_store().reading() as db:
        agent = db.scalar(
            select(models.DeviceEvent.user_agent)
            .where(models.DeviceEvent.mac == mac, models.DeviceEvent.user_agent != "")
            .order_by(models.DeviceEvent.id.desc())
            .limit(1)
        )
    info = from_user_agent(agent or "")
    if info.vendor and info.model:
        known = by_name(info.vendor).model(info.model)
        return f"{info.vendor}:{known.name}" if known else ""
    return ""


def _pair_page(document: TenantDocument, site: Site, form: PairForm, status: int = 200) -> Page:
    return page(
        "pair.html",
        status,
        document=document,
        site=site,
        form=form,
        carriers=phone_sites(document),
        model_choices=_model_choices(),
        ouis=json.dumps(oui_labels()),
        window=_window_minutes(),
    )


@bp.get("/site/<tenant>/<site_name>/pair")
def pair_form(tenant: str, site_name: str) -> Page:
    """The pairing form, the MAC filled in when the technician tapped a discovered phone."""
    document, site = load_site(tenant, site_name)
    form = PairForm(mac=request.args.get("mac", ""))
    try:
        form.model = _guess_model(normalize_mac(form.mac)) if form.mac else ""
    except ValueError:
        form.model = ""
    return _pair_page(document, site, form)


def _read_pair_form(document: TenantDocument) -> PairForm:
    form = PairForm(
        mac=request.form.get("mac", "").strip(),
        extensions=[number for number in request.form.getlist("extension") if number],
        model=request.form.get("model", ""),
        shared=request.form.get("shared") == "yes",
    )
    if not _is_mac(form.mac):
        form.errors.append(t("error.mac"))
    known = {item.number for item in document.extensions}
    if not form.extensions:
        form.errors.append(t("error.extensions"))
    for number in form.extensions:
        if number not in known:
            form.errors.append(t("error.extension_unknown", number=number))
    vendor, _, model = form.model.partition(":")
    if vendor not in {item.name for item in VENDORS} or by_name(vendor).model(model) is None:
        form.errors.append(t("error.model"))
    return form


def _is_mac(text: str) -> bool:
    try:
        normalize_mac(text)
    except ValueError:
        return False
    return True


def _extension_conflict(document: TenantDocument, form: PairForm) -> str:
    """The sentence for an extension already on another phone (unless both should ring)."""
    if form.shared:
        return ""
    mac = normalize_mac(form.mac)
    names = {item.number: item.name for item in document.extensions}
    carriers = phone_sites(document)
    for number in form.extensions:
        others = [other for other in carriers.get(number, []) if other != mac]
        if others:
            return t(
                "conflict.extension",
                number=number,
                name=names.get(number, ""),
                mac=colon_mac(others[0]),
            )
    return ""


def _place_phone(tenant: str, mac: str, site: str) -> None:
    """Put the just-paired phone at the site (one audited save)."""
    with get_store().transaction() as db:
        document = load_document(db, find_tenant(db, tenant))
        phones = [
            Phone.model_validate({**phone.model_dump(), "site": site})
            if phone.mac == mac
            else phone
            for phone in document.phones
        ]
        save_document(
            db, document.model_copy(update={"phones": phones}), g.technician.actor, get_secret_box()
        )


@bp.post("/site/<tenant>/<site_name>/pair")
def pair(tenant: str, site_name: str) -> Page | WerkzeugResponse:
    """Pair the MAC with the extension(s) and model; conflicts explained, nothing changed."""
    refusal = require_change()
    if refusal:
        return refusal
    document, site = load_site(tenant, site_name)
    form = _read_pair_form(document)
    if form.errors:
        return _pair_page(document, site, form, 422)
    form.conflict = _extension_conflict(document, form)
    if form.conflict:
        return _pair_page(document, site, form, 409)
    mac = normalize_mac(form.mac)
    vendor, _, model = form.model.partition(":")
    try:
        with get_store().transaction() as db:
            service.pair(
                db,
                get_secret_box(),
                tenant,
                mac,
                form.extensions[0],
                g.technician.actor,
                _window_minutes(),
                vendor,
                model,
                more_lines=form.extensions[1:],
                may_read_secrets=g.technician.may("secrets"),
            )
        _place_phone(tenant, mac, site.name)
    except SharedLineRefused as shared_line:
        with get_store().transaction() as db:
            service.record_refusal(db, g.technician.actor, tenant, mac, shared_line)
        number, macs = next(iter(shared_line.shared.items()))
        form.conflict = t("conflict.deployed", number=number, mac=colon_mac(macs[0]))
        return _pair_page(document, site, form, 403)
    except PairingConflict:
        form.conflict = t("conflict.other_tenant")
        return _pair_page(document, site, form, 409)
    except ValidationFailed as error:
        form.errors.append(t("error.invalid", reason=str(error)))
        return _pair_page(document, site, form, 422)
    flash(t("pair.done", minutes=_window_minutes()))
    return redirect(url_for("technicians.phone", tenant=tenant, site_name=site.name, mac=mac))


def _phone(document: TenantDocument, mac: str) -> Phone:
    try:
        normalized = normalize_mac(mac)
    except ValueError as exc:
        raise NotFound(f"no phone {mac}") from exc
    phone = next((item for item in document.phones if item.mac == normalized), None)
    if phone is None:
        raise NotFound(f"no phone {mac} in tenant {document.name}")
    return phone


def _live_context(document: TenantDocument, phone: Phone) -> dict[str, object]:
    with get_store().reading() as db:
        tenant_row = find_tenant(db, document.name)
        state, events = load_state(db, document.name, tenant_row.id, phone.mac)
        deeds = who_did_what(db, document.name, phone.mac)
    for event in events:
        agent = from_user_agent(event.get("user_agent") or "")
        event["model"] = " ".join(filter(None, (agent.model, agent.firmware)))
    return {"state": state, "events": events, "deeds": deeds}


def _phone_page(
    template: str, tenant: str, site_name: str, mac: str, status: int = 200, **extra: object
) -> Page:
    document, site = load_site(tenant, site_name)
    phone = _phone(document, mac)
    names = {item.number: item.name for item in document.extensions}
    vendors = by_oui(phone.mac)
    return page(
        template,
        status,
        document=document,
        site=site,
        phone=phone,
        names=names,
        vendor=" / ".join(v.label for v in vendors),
        lines=_lines_text(phone, names),
        **_live_context(document, phone),
        **extra,
    )


@bp.get("/site/<tenant>/<site_name>/phones/<mac>")
def phone(tenant: str, site_name: str, mac: str) -> Page:
    """A paired phone: its state (live), last requests, who did what; swap and unpair."""
    return _phone_page("phone.html", tenant, site_name, mac)


@bp.get("/site/<tenant>/<site_name>/phones/<mac>/live")
def phone_live(tenant: str, site_name: str, mac: str) -> Page:
    """The live part alone, for the page's polling."""
    return _phone_page("_live.html", tenant, site_name, mac)


def _lines_text(phone: Phone, names: dict[str, str]) -> str:
    return ", ".join(f"{line} ({names.get(line, '')})" for line in phone.lines) or "-"


@bp.get("/site/<tenant>/<site_name>/phones/<mac>/swap")
def swap_form(tenant: str, site_name: str, mac: str) -> Page:
    """Ask for the replacement's MAC (typed or scanned)."""
    return _phone_page(
        "swap.html", tenant, site_name, mac, new_mac="", ouis=json.dumps(oui_labels())
    )


@bp.post("/site/<tenant>/<site_name>/phones/<mac>/swap")
def swap(tenant: str, site_name: str, mac: str) -> Page | WerkzeugResponse:
    """First the confirmation, then (``confirm=yes``) the swap itself."""
    refusal = require_change()
    if refusal:
        return refusal
    new_mac = request.form.get("new_mac", "").strip()
    ouis = json.dumps(oui_labels())
    if not _is_mac(new_mac):
        return _phone_page(
            "swap.html",
            tenant,
            site_name,
            mac,
            422,
            new_mac=new_mac,
            ouis=ouis,
            error=t("error.mac"),
        )
    if request.form.get("confirm") != "yes":
        return _phone_page(
            "swap_confirm.html", tenant, site_name, mac, new_mac=normalize_mac(new_mac)
        )
    document, site = load_site(tenant, site_name)
    old = _phone(document, mac)
    try:
        with get_store().transaction() as db:
            result = service.swap(
                db,
                get_secret_box(),
                tenant,
                old.mac,
                new_mac,
                g.technician.actor,
                _window_minutes(),
            )
    except PairingConflict as error:
        key = "conflict.same_tenant" if "already a phone" in str(error) else "conflict.other_tenant"
        return _phone_page(
            "swap.html",
            tenant,
            site_name,
            mac,
            409,
            new_mac=new_mac,
            ouis=ouis,
            error=t(key, mac=colon_mac(new_mac)),
        )
    flash(t("swap.done", new=colon_mac(result.mac), minutes=_window_minutes()))
    return redirect(
        url_for("technicians.phone", tenant=tenant, site_name=site.name, mac=result.mac)
    )


@bp.get("/site/<tenant>/<site_name>/phones/<mac>/unpair")
def unpair_form(tenant: str, site_name: str, mac: str) -> Page:
    """Ask before unpairing."""
    return _phone_page("unpair.html", tenant, site_name, mac)


@bp.post("/site/<tenant>/<site_name>/phones/<mac>/unpair")
def unpair(tenant: str, site_name: str, mac: str) -> Page | WerkzeugResponse:
    """Unpair (after the confirmation page's ``confirm=yes``)."""
    refusal = require_change()
    if refusal:
        return refusal
    if request.form.get("confirm") != "yes":
        return _phone_page("unpair.html", tenant, site_name, mac)
    document, site = load_site(tenant, site_name)
    old = _phone(document, mac)
    with get_store().transaction() as db:
        service.unpair(db, get_secret_box(), tenant, old.mac, g.technician.actor)
    flash(t("unpair.done", mac=colon_mac(old.mac)))
    return redirect(url_for("technicians.site", tenant=tenant, site_name=site.name))
