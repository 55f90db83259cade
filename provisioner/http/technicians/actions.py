"""Pairing, a phone's live page, swap and unpair: forms that call ``pairing.service``.

The service does the work (credentials, the first-use window, rotation, audit); these views
check the form, explain conflicts in the page's language, and ask before a swap or unpair.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from flask import current_app, flash, g, redirect, request, url_for
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
from provisioner.store import get_store
from provisioner.tenants.repository import find_tenant
from provisioner.tenants.schema import TenantDocument
from provisioner.tenants.schema.devices import Phone
from provisioner.tenants.schema.extensions import Site

Page = tuple[str, int]


@dataclass
class PairForm:
    """What the pairing form holds, and what is wrong with it."""

    mac: str = ""
    extensions: list[str] = field(default_factory=list)
    model: str = ""  # "vendor:model"
    model_source: str = ""  # where a pre-selected model is from
    shared: bool = False
    errors: list[str] = field(default_factory=list)
    conflict: str = ""


def _window_minutes() -> int:
    return int(current_app.config["PHONE_PAIRING_WINDOW_MINUTES"])


def _model_choices() -> list[tuple[str, str, list[str]]]:
    """(vendor name, label, model names) for the model list."""
    return [(vendor.name, vendor.label, sorted(vendor.models)) for vendor in VENDORS]


def _guess_model(tenant: str, mac: str) -> str:
    """The "vendor:model" the phone's own User-Agent told us; nothing about another
    customer's phone (a technician may be limited to some customers)."""
    with get_store().reading() as db:
        if service.tenant_holding(db, mac) not in (None, tenant):
            return ""
        announced = service.announced_model(db, mac)
    return ":".join(announced) if announced else ""


def _model_label(model: str) -> str:
    """How the model list shows a "vendor:model" such as yealink:T46U: Yealink T46U."""
    vendor, _, name = model.partition(":")
    return f"{by_name(vendor).label} {name}" if model else ""


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
    if _is_mac(form.mac):
        form.model = _guess_model(tenant, normalize_mac(form.mac))
    if form.model:
        form.model_source = t("pair.model.announced", model=_model_label(form.model))
    return _pair_page(document, site, form)


@bp.get("/site/<tenant>/<site_name>/pair/announced")
def announced(tenant: str, site_name: str) -> tuple[dict[str, object], int]:
    """For the form's script: the model the phone with ``?mac=`` announced at its boot."""
    load_site(tenant, site_name)
    try:
        mac = normalize_mac(request.args.get("mac", ""))
    except ValueError as error:
        return {"error": {"status": 422, "message": f"mac: {error}"}}, 422
    model = _guess_model(tenant, mac)
    return {"mac": mac, "model": model, "label": _model_label(model)}, 200


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
    if not _is_model(vendor, model):
        form.errors.append(t("error.model"))
    return form


def _is_model(vendor: str, model: str) -> bool:
    """Whether "vendor:model" names a model a vendor module knows."""
    return vendor in {item.name for item in VENDORS} and by_name(vendor).model(model) is not None


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
                site=site.name,
            )
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
    return _to_phone(tenant, site.name, mac)


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
    """First the confirmation with the new phone's model, then (``confirm=yes``) the swap."""
    refusal = require_change()
    if refusal:
        return refusal
    new_mac = request.form.get("new_mac", "").strip()
    if not _is_mac(new_mac):
        return _swap_page(tenant, site_name, mac, new_mac, t("error.mac"), 422)
    new_mac = normalize_mac(new_mac)
    document, site = load_site(tenant, site_name)
    old = _phone_or_none(document, mac)
    if old is None and _phone_or_none(document, new_mac) is not None:
        # The same confirmation again (a double tap, a resent form): the swap is done.
        flash(t("swap.already", new=colon_mac(new_mac), old=colon_mac(normalize_mac(mac))))
        return _to_phone(tenant, site.name, new_mac)
    if request.form.get("confirm") != "yes":
        return _swap_confirm_page(tenant, site_name, mac, new_mac, _chosen_model(old, new_mac))
    return _do_swap(tenant, site.name, _phone(document, mac), new_mac)


def _do_swap(tenant: str, site_name: str, old: Phone, new_mac: str) -> Page | WerkzeugResponse:
    """Swap to the model the form chose; a form without the field leaves it to the service."""
    chosen = request.form.get("model")
    vendor, _, model = (chosen or "").partition(":")
    if chosen is not None and not _is_model(vendor, model):
        return _swap_confirm_page(
            tenant, site_name, old.mac, new_mac, (chosen, ""), t("error.model")
        )
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
                vendor or None,
                model or None,
            )
    except PairingConflict as error:
        key = "conflict.same_tenant" if "already a phone" in str(error) else "conflict.other_tenant"
        return _swap_page(tenant, site_name, old.mac, new_mac, t(key, mac=colon_mac(new_mac)), 409)
    except ValidationFailed as error:
        problem = t("error.invalid", reason=str(error))
        return _swap_confirm_page(tenant, site_name, old.mac, new_mac, (chosen or "", ""), problem)
    flash(t("swap.done", new=colon_mac(result.mac), minutes=_window_minutes()))
    return _to_phone(tenant, site_name, result.mac)


def _swap_page(
    tenant: str, site_name: str, mac: str, new_mac: str, error: str, status: int
) -> Page:
    ouis = json.dumps(oui_labels())
    return _phone_page(
        "swap.html", tenant, site_name, mac, status, new_mac=new_mac, ouis=ouis, error=error
    )


def _chosen_model(old: Phone | None, new_mac: str) -> tuple[str, str]:
    """The new phone's "vendor:model" to preselect, and the sentence saying where it is from."""
    if old is None:
        return "", ""
    with get_store().reading() as db:
        chosen = service.replacement_for(db, old, new_mac)
    label = by_name(chosen.vendor).label if chosen.vendor else ""
    model = f"{chosen.vendor}:{chosen.model}" if chosen.vendor and chosen.model else ""
    sentence = t(f"swap.model.{chosen.source}", model=f"{label} {chosen.model}", vendor=label)
    return model, sentence


def _swap_confirm_page(
    tenant: str,
    site_name: str,
    mac: str,
    new_mac: str,
    chosen: tuple[str, str],
    error: str = "",
) -> Page:
    """The confirmation, ``chosen`` being the model to preselect and where it is from."""
    model, source = chosen
    return _phone_page(
        "swap_confirm.html",
        tenant,
        site_name,
        mac,
        422 if error else 200,
        new_mac=new_mac,
        model=model,
        model_source=source,
        model_choices=_model_choices(),
        error=error,
    )


def _phone_or_none(document: TenantDocument, mac: str) -> Phone | None:
    try:
        return _phone(document, mac)
    except NotFound:
        return None


def _to_phone(tenant: str, site_name: str, mac: str) -> WerkzeugResponse:
    return redirect(url_for("technicians.phone", tenant=tenant, site_name=site_name, mac=mac))


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
    old = _phone_or_none(document, mac)
    if old is None:  # the same confirmation again (a double tap): it is unpaired already
        flash(t("unpair.already", mac=colon_mac(normalize_mac(mac)) if _is_mac(mac) else mac))
        return redirect(url_for("technicians.site", tenant=tenant, site_name=site.name))
    with get_store().transaction() as db:
        service.unpair(db, get_secret_box(), tenant, old.mac, g.technician.actor)
    flash(t("unpair.done", mac=colon_mac(old.mac)))
    return redirect(url_for("technicians.site", tenant=tenant, site_name=site.name))
