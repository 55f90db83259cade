"""Admin API for routers beyond their CRUD (the tenant's ``routers`` collection): the rendered
configuration and the bootstrap (secrets: admin, audited), the TFTP window (technicians may
open it on site), the zero-touch timeline."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from provisioner.errors import FieldProblem, ValidationFailed
from provisioner.http.auth import current_caller, requires
from provisioner.network.routers import zerotouch
from provisioner.network.routers.bootstrap import bootstrap_commands
from provisioner.network.routers.refusals import flush_refusals
from provisioner.security import audit
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store
from provisioner.tenants.repository import find_tenant

bp = Blueprint("routers_api", __name__, url_prefix="/api/v1/tenants/<tenant>/routers/<name>")

Json = dict[str, Any]


@bp.get("/config")
@requires("secrets")
def config(tenant: str, name: str) -> Response:
    """The rendered configuration, as the router fetches it first (OpenWrt: the script, not
    the bare batch); ``?template=`` names another of the vendor's files. SNMP keys in it:
    audited as released (and the fetch secret, in its done URL)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    box = get_secret_box()
    with get_store().transaction() as session:
        row = zerotouch.find_router(session, tenant, name)
        template = request.args.get("template") or zerotouch.fetched_template(row.vendor)
        urls = zerotouch.router_urls(app, request.host_url)
        text = zerotouch.render_for(session, box, row, urls, template)
        find_tenant(session, tenant)
        audit.record(
            session,
            current_caller().actor,
            "release-secret",
            "routers",
            name,
            tenant,
            {"fields": list(zerotouch.RENDERED_SECRETS), "via": "api config"},
        )
    return Response(text, content_type="text/plain; charset=utf-8")


@bp.get("/bootstrap")
@requires("secrets")
def bootstrap(tenant: str, name: str) -> Json:
    """The commands that make the router fetch by itself (its fetch secret in them; audited)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    base = zerotouch.zerotouch_base_url(app, request.host_url)
    with get_store().transaction() as session:
        return bootstrap_commands(
            session, get_secret_box(), tenant, name, base, current_caller().actor
        )


@bp.post("/window")
@requires("pair")
def window(tenant: str, name: str) -> Json:
    """Open the one-time TFTP window (Cisco autoinstall): ``{"minutes": 30}``, default 30."""
    data = request.get_json(silent=True) or {}
    minutes = data.get("minutes", 30) if isinstance(data, dict) else None
    if not isinstance(minutes, int) or not 1 <= minutes <= 1440:
        raise ValidationFailed([FieldProblem("minutes", "a whole number 1-1440")])
    with get_store().transaction() as session:
        until = zerotouch.open_window(session, tenant, name, minutes, current_caller().actor)
    return {"window_until": until}


@bp.get("/timeline")
@requires("read")
def timeline(tenant: str, name: str) -> Json:
    """The router's zero-touch fetches and reports, newest first (refusals queued here written
    first)."""
    flush_refusals(current_app._get_current_object())  # type: ignore[attr-defined]
    with get_store().reading() as session:
        return {"items": zerotouch.timeline(session, tenant, name)}
