"""Signing in and out, the language switch, the customer and site list, a site's page."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, g, redirect, request, session, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from provisioner.http.technicians import signin
from provisioner.http.technicians.blueprint import bp, message_page, page, t
from provisioner.http.technicians.devices import load_discovered, phone_sites
from provisioner.http.technicians.texts import LANGUAGES
from provisioner.security.ratelimit import counted_within_limit, is_throttled
from provisioner.store import get_store
from provisioner.tenants.repository import find_tenant, load_document, tenant_names
from provisioner.tenants.schema import TenantDocument
from provisioner.tenants.schema.extensions import Site


def _safe_next(target: str | None) -> str:
    """Only our own pages as a place to return to (no open redirect)."""
    if target and target.startswith("/t/") and not target.startswith("//"):
        return target
    return url_for("technicians.index")


@bp.get("/sign-in")
def sign_in_form() -> tuple[str, int]:
    """The token form."""
    ended = request.args.get("ended") == "1"
    return page("sign_in.html", next=request.args.get("next", ""), ended=ended)


@bp.post("/sign-in")
def sign_in() -> tuple[str, int] | WerkzeugResponse:
    """Check the token; a wrong one (unknown or revoked, alike) counts against the address."""
    limiter = signin.sign_in_limiter(current_app)
    key = signin.client_key(request)
    # The try is counted before the token is checked, in one atomic step: however many
    # workers take one address's tries at once, no more than the limit are checked.
    if is_throttled(limiter, key) or not counted_within_limit(limiter, key):
        return message_page("sign_in.throttled", 429)
    with get_store().transaction() as db:
        technician = signin.check_token(db, request.form.get("token", ""), key)
        if technician is not None:
            signin.start_session(db, technician, signin.SessionLimits.of(current_app))
    if technician is None:
        return page("sign_in.html", 401, next=request.form.get("next", ""), refused=True)
    limiter.forgive(key)  # only failed tries count
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/sign-out")
def sign_out() -> WerkzeugResponse:
    """End the session, on the server too: a copy of the cookie opens nothing after."""
    with get_store().transaction() as db:
        signin.sign_out(db)
    flash(t("sign_out.done"))  # kept in the cookie, which keeps only this and the language
    return redirect(url_for("technicians.sign_in_form"))


@bp.get("/language/<language>")
def language(language: str) -> WerkzeugResponse:
    """Switch the page's language (kept in the session, also before signing in)."""
    if language in LANGUAGES:
        session["language"] = language
    return redirect(_safe_next(request.args.get("next")))


@bp.get("/")
def index() -> tuple[str, int]:
    """Every customer and its sites, searchable on the page (and by ``?q=`` without script)."""
    query = request.args.get("q", "").strip().lower()
    entries: list[dict[str, Any]] = []
    with get_store().reading() as db:
        for name in filter(g.technician.may_see, tenant_names(db)):
            document = load_document(db, find_tenant(db, name))
            for site in document.sites:
                label = f"{document.display_name or name} {name} {site.name} {site.address}"
                if not query or query in label.lower():
                    entries.append({"tenant": document, "site": site, "search": label.lower()})
    return page("sites.html", entries=entries, query=query)


def site_of(document: TenantDocument, site_name: str) -> Site:
    """The tenant's site called ``site_name``; NotFound otherwise."""
    from provisioner.errors import NotFound

    site = next((site for site in document.sites if site.name == site_name), None)
    if site is None:
        raise NotFound(f"no site {site_name!r} in tenant {document.name}")
    return site


def load_site(tenant: str, site_name: str) -> tuple[TenantDocument, Site]:
    """The tenant's document and one of its sites (the page's time zone set from it)."""
    with get_store().reading() as db:
        document = load_document(db, find_tenant(db, tenant))
    g.timezone = document.timezone
    return document, site_of(document, site_name)


@bp.get("/site/<tenant>/<site_name>/")
def site(tenant: str, site_name: str) -> tuple[str, int]:
    """The site: phones that booted unpaired here (one tap from pairing), the tenant's phones."""
    document, place = load_site(tenant, site_name)
    with get_store().reading() as db:
        here, elsewhere = load_discovered(db, place)
    phones = sorted(
        document.phones, key=lambda phone: (phone.site not in (None, place.name), phone.mac)
    )
    names = {item.number: item.name for item in document.extensions}
    return page(
        "site.html",
        document=document,
        site=place,
        here=here,
        elsewhere=elsewhere,
        phones=phones,
        names=names,
        carriers=phone_sites(document),
    )


@bp.get("/site/<tenant>/<site_name>/discovered")
def discovered_part(tenant: str, site_name: str) -> tuple[str, int]:
    """The discovered list alone, for the page's polling."""
    document, place = load_site(tenant, site_name)
    with get_store().reading() as db:
        here, elsewhere = load_discovered(db, place)
    return page("_discovered.html", document=document, site=place, here=here, elsewhere=elsewhere)
