"""Routers fetching their own configuration, by each vendor's mechanism.

- HTTP, every vendor: ``/z/<serial>/<secret>/<file>``. The secret is the router's own
  (generated, encrypted at rest, compared in constant time). An unknown serial, a wrong
  secret and a file the vendor does not fetch get the very same answer, so serials cannot be
  enumerated; misses count against the source address's rate limit.
- TFTP, Cisco autoinstall: ``<name>-confg`` or ``<serial>-confg``. TFTP carries no secret, so
  the file is served only inside a window an operator opens, once, as a phone's first use is.

A delivered configuration holds the SNMP keys: each delivery is audited as a released secret,
put on the router's timeline, and enrols the router in the SNMP inventory with that user; it
is polled once it reports how applying went (``POST /z/<serial>/<secret>/done``, proven and
refused as a fetch is; reports.py), or when the grace period for that ends.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner.errors import NotFound, ProvisionerError, ValidationFailed
from provisioner.network import inventory
from provisioner.network.device_input import parse_device
from provisioner.network.routers import refusals, reports
from provisioner.network.routers.context import RouterUrls, router_context
from provisioner.network.routers.refusals import Refusal, queue_refusal
from provisioner.network.routers.render import render_router
from provisioner.network.routers.vendors import router_vendor
from provisioner.pairing.credentials import as_utc
from provisioner.phones.render import RenderFunction, phone_base_url
from provisioner.security import audit
from provisioner.security.ratelimit import (
    get_router_rate_limiter,
    is_throttled,
    over_limit,
    source_key,
)
from provisioner.security.secrets import SecretBox, get_secret_box
from provisioner.store import get_store, models
from provisioner.store.models import utc_now
from provisioner.tenants.repository import find_tenant, load_document
from provisioner.tenants.schema.devices import Router

log = logging.getLogger(__name__)

# The files each vendor's mechanism fetches over HTTP, and the template that renders each
# (None: the vendor's base template for the model).
HTTP_FILES: dict[str, dict[str, str | None]] = {
    "mikrotik": {"config.rsc": None},
    "openwrt": {"uci-defaults.sh": "uci-defaults.sh.j2", "config.uci": None},
    "cisco_ios": {"config.cfg": None},
}
# A router's report (reports.py): every vendor's configuration sends it but Cisco IOS's, which
# an operator may still make send it.
REPORT_FILES = {vendor: (reports.REPORT_FILE,) for vendor in HTTP_FILES}
FIRST_FILE = {"mikrotik": "config.rsc", "openwrt": "uci-defaults.sh", "cisco_ios": "config.cfg"}
# The secrets a rendered configuration holds (the fetch secret is in its done URL).
RENDERED_SECRETS = ("snmp_auth_key", "snmp_priv_key", "fetch_secret")
TIMELINE_LENGTH = refusals.TIMELINE_LENGTH
NOBODY_SECRET_KEY = "provisioner.zerotouch.nobody_secret"


@dataclass(frozen=True, slots=True)
class ZeroTouchAnswer:
    """What a router's fetch gets."""

    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


NOT_FOUND = ZeroTouchAnswer(404, b"not found\n")
FAILED = ZeroTouchAnswer(500, b"the configuration could not be rendered; see the server log\n")


def fetched_template(vendor: str) -> str | None:
    """The template of the file ``vendor``'s router fetches first (None: its base template)."""
    return HTTP_FILES[vendor][FIRST_FILE[vendor]]


def _record(
    session: Session, row: models.Router, source: str, protocol: str, what: str, answer: str
) -> None:
    refusals.record(session, row, (source, protocol, what), answer)


def _router_item(session: Session, box: SecretBox, row: models.Router) -> tuple[Any, Router]:
    tenant = session.get(models.Tenant, row.tenant_id)
    assert tenant is not None
    document = load_document(session, tenant, box)
    return document, next(item for item in document.routers if item.name == row.name)


def render_for(
    session: Session, box: SecretBox, row: models.Router, urls: RouterUrls, template: str | None
) -> str:
    """The router's configuration text (secrets in it: the caller audits the release)."""
    document, router = _router_item(session, box, row)
    return render_router(router_context(document, router, urls), template)


def zerotouch_base_url(app: Flask, host_url: str | None = None) -> str:
    """Where routers reach us: ZEROTOUCH_BASE_URL, else the request's host, else HTTP_HOST:PORT."""
    configured = app.config.get("ZEROTOUCH_BASE_URL")
    if configured:
        return str(configured)
    if host_url:
        return host_url
    return f"http://{app.config['HTTP_HOST']}:{app.config['HTTP_PORT']}/"


def router_urls(app: Flask, host_url: str | None = None) -> RouterUrls:
    """The URLs a router's configuration names, as seen from a request to ``host_url``."""
    return RouterUrls(phone_base_url(app, host_url), zerotouch_base_url(app, host_url))


@dataclass(frozen=True, slots=True)
class Delivery:
    """One fetch to answer: who asked, how, for which file (and which template renders it),
    the URLs its configuration names, and how long polling waits for the router's report."""

    source: str
    protocol: str
    file: str
    template: str | None
    urls: RouterUrls
    report_grace: timedelta


def _deliver(
    session: Session, box: SecretBox, row: models.Router, delivery: Delivery
) -> bytes | None:
    """Render, audit the release, enrol in the inventory (polled once the router reports),
    record; None if rendering failed."""
    source, protocol, file = delivery.source, delivery.protocol, delivery.file
    try:
        text = render_for(session, box, row, delivery.urls, delivery.template)
    except (ProvisionerError, ValueError):
        log.exception("router %s: configuration %s could not be rendered", row.name, file)
        _record(session, row, source, protocol, file, "error")
        return None
    tenant = session.get(models.Tenant, row.tenant_id)
    assert tenant is not None
    actor = f"zerotouch:{row.serial}"
    audit.record(
        session,
        actor,
        "release-secret",
        "routers",
        row.name,
        tenant.name,
        {"fields": list(RENDERED_SECRETS), "via": f"zerotouch {protocol} {file}"},
    )
    device = enrol(session, box, tenant.name, row, source, actor)
    session.flush()
    reports.await_report(session, row, device.id, delivery.report_grace)
    _record(session, row, source, protocol, file, "full")
    return text.encode()


def report_grace(app: Flask) -> timedelta:
    """How long polling waits for a router's report after its fetch."""
    return timedelta(seconds=float(app.config["ZEROTOUCH_DONE_GRACE_SECONDS"]))


@dataclass(frozen=True, slots=True)
class Ask:
    """A request on ``/z/<serial>/<secret>/<file>`` and the address it came from."""

    serial: str
    secret: str
    file: str
    source: str


def _proven(
    app: Flask, session: Session, box: SecretBox, ask: Ask, files: Mapping[str, Collection[str]]
) -> models.Router | None:
    """The router ``ask`` names, when its secret is right and ``files`` has the file for its
    vendor; else None, the refusal queued for its timeline and counted against the address.
    A real serial and a made-up one cost the same: one lookup, one decryption, one
    comparison, and the refusal is written after the answer, not while the router waits."""
    limiter = get_router_rate_limiter(app)
    key = source_key(ask.source)
    if is_throttled(limiter, key):
        queue_refusal(app, Refusal(ask.serial, ask.source, "http", ask.file, "throttled"))
        return None
    row = session.scalar(select(models.Router).where(models.Router.serial == ask.serial))
    stored = row.fetch_secret_encrypted if row else _nobody_secret(app, box)
    proven = hmac.compare_digest(ask.secret.encode(), box.decrypt(stored).encode())
    if row is not None and proven and ask.file in files.get(row.vendor, ()):
        return row
    answer = "denied" if not proven else "not found"
    if over_limit(limiter, limiter.hit(key)):
        answer = "throttled"
    queue_refusal(app, Refusal(ask.serial, ask.source, "http", ask.file, answer))
    return None


def answer_http_fetch(app: Flask, ask: Ask, urls: RouterUrls) -> ZeroTouchAnswer:
    """The answer to ``GET /z/<serial>/<secret>/<file>``: the configuration, or the same
    404 for an unknown serial, a wrong secret and a file the vendor does not fetch."""
    box = get_secret_box(app)
    with get_store(app).transaction() as session:
        row = _proven(app, session, box, ask, HTTP_FILES)
        if row is None:
            return NOT_FOUND
        template = HTTP_FILES[row.vendor][ask.file]
        delivery = Delivery(ask.source, "http", ask.file, template, urls, report_grace(app))
        body = _deliver(session, box, row, delivery)
    if body is None:
        return FAILED
    return ZeroTouchAnswer(200, body, router_vendor(row.vendor).content_type)


def answer_report(app: Flask, ask: Ask, body: bytes) -> ZeroTouchAnswer:
    """The answer to ``POST /z/<serial>/<secret>/done`` (reports.py): refused exactly as a
    fetch is; then a body that cannot be read gets 400 naming the field."""
    box = get_secret_box(app)
    with get_store(app).transaction() as session:
        row = _proven(app, session, box, ask, REPORT_FILES)
        if row is None:
            return NOT_FOUND
        try:
            report = reports.parse_report(body)
        except ValidationFailed as refusal:
            reports.record_invalid(session, row, ask.source, str(refusal))
            return ZeroTouchAnswer(400, f"{refusal}\n".encode())
        tenant = session.get(models.Tenant, row.tenant_id)
        assert tenant is not None
        reports.record_report(session, row, report, ask.source, tenant.name)
    return ZeroTouchAnswer(200, b"recorded\n")


def _nobody_secret(app: Flask, box: SecretBox) -> str:
    """A ciphertext decrypted when the serial is unknown, so both cases do the same work."""
    stored: str | None = app.extensions.get(NOBODY_SECRET_KEY)
    if stored is None:
        stored = app.extensions.setdefault(NOBODY_SECRET_KEY, box.encrypt(secrets.token_hex(10)))
    return stored


def _tftp_router(session: Session, name: str) -> models.Router | None:
    """The Cisco router a TFTP autoinstall name asks for: ``<name>-confg`` or ``<serial>-confg``."""
    if not name.lower().endswith("-confg"):
        return None
    wanted = name[: -len("-confg")].lstrip("/")
    rows = session.scalars(
        select(models.Router).where(
            models.Router.vendor == "cisco_ios",
            (models.Router.name == wanted.lower()) | (models.Router.serial == wanted),
        )
    )
    return next(iter(rows), None)


def tftp_file(app: Flask, name: str, client: str, urls: RouterUrls) -> bytes | None:
    """A Cisco autoinstall file, once, while the router's window is open; else None."""
    box = get_secret_box(app)
    with get_store(app).transaction() as session:
        row = _tftp_router(session, name)
        if row is None:
            return None
        window = as_utc(row.window_until)
        if window is None or window < utc_now():
            queue_refusal(app, Refusal(row.serial, client, "tftp", name, "denied"))
            return None
        row.window_until = None  # once only
        delivery = Delivery(client, "tftp", name, None, urls, report_grace(app))
        return _deliver(session, box, row, delivery)


def with_router_files(app: Flask, render: RenderFunction) -> RenderFunction:
    """Wrap the TFTP service's render callback: Cisco autoinstall names first, then phones."""

    def answer(name: str, client: str) -> bytes | None:
        if name.lower().endswith("-confg"):
            return tftp_file(app, name, client, router_urls(app))
        return render(name, client)

    return answer


def enrol(
    session: Session, box: SecretBox, tenant: str, row: models.Router, source: str, actor: str
) -> models.NetworkDevice:
    """Put the router in the SNMP inventory with the v3 user its configuration gave it."""
    fields = {
        "name": row.name,
        "role": "router",
        "site": row.site,
        "address": row.management_address or source,
        "port": row.snmp_port,
        "vendor": row.vendor,
        "model": row.model,
        "serial": row.serial,
        "snmp_version": "3",
        "v3_user": row.snmp_user,
        "auth_protocol": "SHA",
        "auth_key": box.decrypt(row.snmp_auth_key_encrypted),
        "priv_protocol": "AES",
        "priv_key": box.decrypt(row.snmp_priv_key_encrypted),
    }
    try:
        existing = inventory.find_device(session, tenant, row.name)
    except NotFound:
        return inventory.add_device(session, tenant, parse_device(fields), box, actor)
    current = inventory.current_input(existing, box)
    changes = {key: value for key, value in fields.items() if current.get(key) != value}
    if not changes:
        return existing
    return inventory.update_device(session, tenant, row.name, changes, box, actor)


def find_router(session: Session, tenant_name: str, name: str) -> models.Router:
    """The tenant's router called ``name``; NotFound otherwise."""
    tenant = find_tenant(session, tenant_name)
    row = session.scalar(
        select(models.Router).where(
            models.Router.tenant_id == tenant.id, models.Router.name == name
        )
    )
    if row is None:
        raise NotFound(f"tenant {tenant_name} has no router {name!r}")
    return row


def open_window(session: Session, tenant_name: str, name: str, minutes: int, actor: str) -> str:
    """Let the router fetch its configuration once over TFTP within ``minutes``; audited."""
    row = find_router(session, tenant_name, name)
    row.window_until = utc_now() + timedelta(minutes=minutes)
    until = row.window_until.isoformat()
    audit.record(session, actor, "open-window", "routers", name, tenant_name, {"until": until})
    return until


def timeline(session: Session, tenant_name: str, name: str) -> list[dict[str, Any]]:
    """The router's fetches and reports, newest first."""
    row = find_router(session, tenant_name, name)
    events = session.scalars(
        select(models.RouterEvent)
        .where(models.RouterEvent.router_id == row.id)
        .order_by(*refusals.NEWEST_FIRST)
        .limit(TIMELINE_LENGTH)
    )
    return [
        {
            "at": event.at.isoformat() if event.at.tzinfo else event.at.isoformat() + "+00:00",
            "source": event.source,
            "protocol": event.protocol,
            "file": event.mechanism,
            "answer": event.answer,
            "detail": event.detail,
        }
        for event in events
    ]
