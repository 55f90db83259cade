"""Routers fetching their own configuration, by each vendor's mechanism.

- HTTP, every vendor: ``/z/<serial>/<secret>/<file>``. The secret is the router's own
  (generated, encrypted at rest, compared in constant time). An unknown serial, a wrong
  secret and a file the vendor does not fetch get the very same answer, so serials cannot be
  enumerated; misses count against the source address's rate limit.
- TFTP, Cisco autoinstall: ``<name>-confg`` or ``<serial>-confg``. TFTP carries no secret, so
  the file is served only inside a window an operator opens, once, as a phone's first use is.

A delivered configuration holds the SNMP keys: each delivery is audited as a released secret,
put on the router's timeline, and enrols the router in the SNMP inventory with that user.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner.errors import NotFound, ProvisionerError
from provisioner.network import inventory
from provisioner.network.device_input import parse_device
from provisioner.network.routers import refusals
from provisioner.network.routers.context import router_context
from provisioner.network.routers.refusals import Refusal, queue_refusal
from provisioner.network.routers.render import checked_value, render_router
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
FIRST_FILE = {"mikrotik": "config.rsc", "openwrt": "uci-defaults.sh", "cisco_ios": "config.cfg"}
TIMELINE_LENGTH = refusals.TIMELINE_LENGTH
NOBODY_SECRET_KEY = "provisioner.zerotouch.nobody_secret"
# OpenWrt runs /etc/uci-defaults/ from its boot script (START=10), before the network (START=20)
# is up: the bootstrap only installs a service that starts last (START=99), fetches with retries
# and runs what it fetched; the service removes itself once that applied (exit 0), and stays for
# the next boot when it did not. A fetch is tried every 30 s for 30 minutes per boot.
OPENWRT_BOOTSTRAP = """#!/bin/sh
# /etc/uci-defaults/99-provisioner: installs the provisioner fetch service (runs after network).
cat > /etc/init.d/provisioner <<'PROVISIONER_SERVICE'
#!/bin/sh /etc/rc.common
START=99
URL='@URL@'
fetch_and_apply() {
\ttries=0
\twhile [ "$tries" -lt 60 ]; do
\t\ttries=$((tries + 1))
\t\tif wget -q -O /tmp/provisioner.sh "$URL"; then
\t\t\tsh /tmp/provisioner.sh || return 1
\t\t\t/etc/init.d/provisioner disable
\t\t\trm -f /etc/init.d/provisioner
\t\t\treturn 0
\t\tfi
\t\tsleep 30
\tdone
\treturn 1
}
start() {
\tfetch_and_apply </dev/null >/dev/null 2>&1 &
}
PROVISIONER_SERVICE
chmod +x /etc/init.d/provisioner
/etc/init.d/provisioner enable
exit 0
"""


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
    session: Session, box: SecretBox, row: models.Router, url: str, template: str | None
) -> str:
    """The router's configuration text (secrets in it: the caller audits the release)."""
    document, router = _router_item(session, box, row)
    return render_router(router_context(document, router, url), template)


def _deliver(
    session: Session,
    box: SecretBox,
    row: models.Router,
    delivery: tuple[str, str, str],
    url: str,
    template: str | None,
) -> bytes | None:
    """Render, audit the release, enrol in the inventory, record; None if rendering failed."""
    source, protocol, file = delivery
    try:
        text = render_for(session, box, row, url, template)
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
        {"fields": ["snmp_auth_key", "snmp_priv_key"], "via": f"zerotouch {protocol} {file}"},
    )
    enrol(session, box, tenant.name, row, source, actor)
    _record(session, row, source, protocol, file, "full")
    return text.encode()


def answer_http_fetch(
    app: Flask, serial: str, secret: str, file: str, source: str, provisioning_url: str
) -> ZeroTouchAnswer:
    """The answer to ``GET /z/<serial>/<secret>/<file>``. A real serial and a made-up one
    cost the same: one lookup, one decryption, one comparison, and a refusal is queued for
    the timeline rather than written while the router waits."""
    limiter = get_router_rate_limiter(app)
    key = source_key(source)
    if is_throttled(limiter, key):
        queue_refusal(app, Refusal(serial, source, "http", file, "throttled"))
        return NOT_FOUND
    box = get_secret_box(app)
    with get_store(app).transaction() as session:
        row = session.scalar(select(models.Router).where(models.Router.serial == serial))
        stored = row.fetch_secret_encrypted if row else _nobody_secret(app, box)
        proven = hmac.compare_digest(secret.encode(), box.decrypt(stored).encode())
        files = HTTP_FILES.get(row.vendor, {}) if row else {}
        if row is None or not proven or file not in files:
            answer = "denied" if not proven else "not found"
            if over_limit(limiter, limiter.hit(key)):
                answer = "throttled"
            queue_refusal(app, Refusal(serial, source, "http", file, answer))
            return NOT_FOUND
        body = _deliver(session, box, row, (source, "http", file), provisioning_url, files[file])
    if body is None:
        return FAILED
    return ZeroTouchAnswer(200, body, router_vendor(row.vendor).content_type)


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


def tftp_file(app: Flask, name: str, client: str, provisioning_url: str) -> bytes | None:
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
        return _deliver(session, box, row, (client, "tftp", name), provisioning_url, None)


def with_router_files(app: Flask, render: RenderFunction) -> RenderFunction:
    """Wrap the TFTP service's render callback: Cisco autoinstall names first, then phones."""

    def answer(name: str, client: str) -> bytes | None:
        if name.lower().endswith("-confg"):
            return tftp_file(app, name, client, phone_base_url(app))
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


def bootstrap(
    session: Session, box: SecretBox, tenant_name: str, name: str, base_url: str, actor: str
) -> dict[str, str]:
    """What the provider puts on the router once so it fetches by itself; the secret in it
    is released, so this is audited."""
    row = find_router(session, tenant_name, name)
    secret = box.decrypt(row.fetch_secret_encrypted)
    vendor = router_vendor(row.vendor)
    url = checked_value(
        vendor, f"{base_url.rstrip('/')}/z/{row.serial}/{secret}/{FIRST_FILE[row.vendor]}"
    )
    commands = {
        "mikrotik": (
            f'/tool fetch url="{url}" dst-path=provisioner.rsc\n'
            ":delay 3s\n/import file-name=provisioner.rsc\n"
        ),
        "openwrt": OPENWRT_BOOTSTRAP.replace("@URL@", url),
        "cisco_ios": f"copy {url} running-config\n",
    }
    audit.record(
        session, actor, "release-secret", "routers", name, tenant_name,
        {"fields": ["fetch_secret"], "via": "api bootstrap"},
    )  # fmt: skip
    return {"vendor": row.vendor, "url": url, "bootstrap": commands[row.vendor]}


def timeline(session: Session, tenant_name: str, name: str) -> list[dict[str, Any]]:
    """The router's fetches, newest first."""
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
        }
        for event in events
    ]
