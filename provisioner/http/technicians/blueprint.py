"""The ``technicians`` blueprint at ``/t/``: its request checks, template helpers and headers.

Every page needs a signed-in token (except sign-in, the language switch and the assets);
every POST needs the session's CSRF token. Pages are HTML, errors too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from provisioner.errors import NotFound
from provisioner.http.technicians import signin
from provisioner.http.technicians.texts import TEXTS, choose_language, text
from provisioner.phones.mac import colon_mac
from provisioner.store import get_store
from provisioner.tenants.repository import unknown_tenant

bp = Blueprint(
    "technicians",
    __name__,
    url_prefix="/t",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

OPEN_ENDPOINTS = frozenset(
    {
        "technicians.sign_in",
        "technicians.sign_in_form",
        "technicians.language",
        "technicians.static",
    }
)

# Every asset is ours: no CDN, no inline script. 'wasm-unsafe-eval' lets the barcode
# library compile its WebAssembly; blob:/mediastream: are the camera's picture.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def t(key: str, **fields: object) -> str:
    """A sentence in the page's language."""
    return text(g.language, key, **fields)


def when(moment: datetime | None) -> str:
    """A moment in the tenant's time zone (the site's wall clock), short."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(g.get("timezone") or "Europe/Amsterdam"))
    return (
        local.strftime("%H:%M:%S")
        if local.date() == datetime.now(local.tzinfo).date()
        else (local.strftime("%d-%m %H:%M"))
    )


def page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """Render one of the blueprint's pages."""
    return render_template(f"technicians/{template}", **context), status


def message_page(key: str, status: int, **fields: object) -> tuple[str, int]:
    """A page that only says something (refusals, errors), in the page's language."""
    return page("message.html", status, message=t(key, **fields))


@bp.before_request
def check_request() -> Any:
    """Language, the signed-in technician and the CSRF token, before any view."""
    from flask import session

    g.language = choose_language(session.get("language"), request.accept_languages)
    if request.endpoint == "technicians.static":
        return None
    if request.method == "POST" and not signin.csrf_ok(request):
        return message_page("csrf", 400)
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    with get_store().transaction() as db:
        g.technician = signin.session_technician(db, signin.SessionLimits.of(current_app))
    if g.technician is None:
        return redirect(url_for("technicians.sign_in_form", next=request.path))
    tenant = (request.view_args or {}).get("tenant")
    if isinstance(tenant, str) and not g.technician.may_see(tenant):
        raise unknown_tenant(tenant)  # the page a tenant that does not exist gets
    return None


def require_change() -> tuple[str, int] | None:
    """A refusal page when the signed-in role may not change devices (support)."""
    if g.technician.may("pair"):
        return None
    return message_page("forbidden", 403)


@bp.after_request
def page_headers(response: Response) -> Response:
    """No framing, no caching of pages with devices on them, our own assets only."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "technicians.static":
        response.headers["Cache-Control"] = "no-store"
    response.vary.add("Accept-Language")
    return response


@bp.context_processor
def template_helpers() -> dict[str, Any]:
    """What every template may call."""
    return {
        "t": t,
        "when": when,
        "colon_mac": colon_mac,
        "csrf_token": signin.csrf_token,
        "language": g.get("language", "nl"),
        "technician": g.get("technician"),
        "known_answers": {key for key in TEXTS if key.startswith("answer.")},
        "known_actions": {key for key in TEXTS if key.startswith("action.")},
    }


@bp.app_template_filter("fromiso")
def from_iso(value: str) -> datetime:
    """An ISO timestamp (as the timeline gives it) as a datetime."""
    return datetime.fromisoformat(value)


@bp.errorhandler(NotFound)
def not_found(_error: NotFound) -> tuple[str, int]:
    """An unknown tenant, site or phone: a page, not JSON."""
    return message_page("not_found", 404)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> tuple[str, int] | HTTPException:
    """Werkzeug's errors as pages too."""
    if error.code == 404:
        return message_page("not_found", 404)
    return error
