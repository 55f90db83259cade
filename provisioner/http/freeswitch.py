"""What FreeSWITCH asks: mod_xml_curl documents, and the routes and sounds the handler fetches.

Every view is guarded twice: the source address must be in ``FREESWITCH_ALLOWED_NETWORKS`` and
the request must carry ``FREESWITCH_TOKEN`` (as a bearer token, or as the password of HTTP
Basic, which is what mod_xml_curl's ``gateway-credentials`` sends). A refused request gets
exactly the answer of a miss: the not-found document, or a 404.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import ipaddress
from typing import Any

from flask import Blueprint, Response, current_app, request
from sqlalchemy.orm import Session

from provisioner.metrics import XML_CURL_LOOKUPS
from provisioner.pairing.timeline_writer import queue_audit
from provisioner.routing import service
from provisioner.routing.answers import AnswerCache, get_answer_cache
from provisioner.routing.directory import DirectoryRequest
from provisioner.routing.documents import not_found
from provisioner.security import audit
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store

bp = Blueprint("freeswitch", __name__, url_prefix="/freeswitch")
XML_TYPE = "text/xml"


def presented_token() -> str:
    """The token of the request: ``Bearer <token>`` or the password of ``Basic``."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2]
    return ""


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def allowed_networks() -> tuple[Network, ...]:
    """``FREESWITCH_ALLOWED_NETWORKS``: a list or a comma-separated string of networks."""
    setting = current_app.config["FREESWITCH_ALLOWED_NETWORKS"]
    texts = setting.split(",") if isinstance(setting, str) else list(setting)
    return parsed_networks(tuple(text.strip() for text in texts if text.strip()))


@functools.cache
def parsed_networks(texts: tuple[str, ...]) -> tuple[Network, ...]:
    """The networks ``texts`` name, parsed once per setting (not per lookup)."""
    return tuple(ipaddress.ip_network(text, strict=False) for text in texts)


def is_authorized() -> bool:
    """True for a request from an allowed address with the right token."""
    expected = current_app.config.get("FREESWITCH_TOKEN")
    if not expected:
        return False  # no token configured: the switch interface stays closed
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if not any(address in network for network in allowed_networks()):
        return False
    return hmac.compare_digest(presented_token().encode(), str(expected).encode())


def settings() -> service.SwitchSettings:
    """The provider-wide switch settings."""
    return service.SwitchSettings(
        gateway=str(current_app.config["FREESWITCH_GATEWAY"]),
        country=str(current_app.config["FREESWITCH_COUNTRY"]),
    )


def xml(content: bytes | None) -> Response:
    """An XML answer; None becomes the not-found document (HTTP 200, as FreeSWITCH expects)."""
    return Response(content if content is not None else not_found(), mimetype=XML_TYPE)


def missing() -> tuple[dict[str, Any], int]:
    """The one 404 answer for unknown and refused alike."""
    return {"error": {"status": 404, "message": "not found"}}, 404


@bp.post("/xml")
def xml_lookup() -> Response:
    """mod_xml_curl: sections directory, dialplan and configuration (callcenter.conf)."""
    section = request.form.get("section", "")
    known = section if section in LOOKUP_SECTIONS else "other"
    if not is_authorized():
        XML_CURL_LOOKUPS.labels(known, "refused").inc()
        return xml(None)
    content = lookup_answer(section, request.form)
    XML_CURL_LOOKUPS.labels(known, "not_found" if content is None else "found").inc()
    return xml(content)


LOOKUP_SECTIONS = ("directory", "dialplan", "configuration")


def lookup_answer(section: str, form: Any) -> bytes | None:
    """The document for one lookup, or None when there is nothing to say."""
    if section == "directory":
        return directory_lookup(form)
    if section == "dialplan":
        context = form.get("Hunt-Context") or form.get("Caller-Context") or ""
        destination = (
            form.get("Hunt-Destination-Number") or form.get("Caller-Destination-Number") or ""
        )
        switch, cache = settings(), answers()
        return get_store().run_statements(
            lambda session: service.dialplan_answer(session, context, destination, switch, cache)
        )
    if section == "configuration" and form.get("key_value") == "callcenter.conf":
        cache = answers()
        return get_store().run_statements(lambda session: service.callcenter_answer(session, cache))
    return None


def answers() -> AnswerCache:
    """This process's kept answers (see ``provisioner.routing.answers``)."""
    return get_answer_cache(current_app)


def directory_lookup(form: Any) -> bytes | None:
    """Answer a directory lookup; the audit rows of secrets given out go to the batched
    writer with the phones' (``PHONE_TIMELINE_FLUSH_SECONDS``; 0 writes each with its
    lookup). Each statement commits on its own; run once more on a fresh connection if the
    pooled one was dropped."""
    lookup = DirectoryRequest(
        domain=form.get("domain") or form.get("key_value") or "",
        user=form.get("user", ""),
        action=form.get("action", ""),
        purpose=form.get("purpose", ""),
    )
    actor = f"freeswitch:{request.remote_addr}"
    box, cache = get_secret_box(), answers()
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def release(session: Session, row: dict[str, Any]) -> None:
        queue_audit(app, session, row)

    return get_store().run_statements(
        lambda session: service.directory_answer(session, box, lookup, actor, cache, release)
    )


@bp.get("/flows/<tenant>/<path:number>")
def flow(tenant: str, number: str) -> tuple[dict[str, Any], int]:
    """The route the handler walks for a number (JSON)."""
    if not is_authorized():
        return missing()
    switch, cache = settings(), answers()
    route = get_store().run_statements(
        lambda session: service.route_answer(session, tenant, number, switch, cache)
    )
    return (route, 200) if route is not None else missing()


@bp.get("/sounds/<tenant>/<path:name>")
def sound(tenant: str, name: str) -> Response | tuple[dict[str, Any], int]:
    """A tenant's sound as uploaded, for the handler's local sound cache."""
    if not is_authorized():
        return missing()
    with get_store().reading() as session:
        row = service.sound_answer(session, tenant, name)
        if row is None:
            return missing()
        response = Response(row.content, mimetype=row.content_type)
        response.set_etag(row.sha256)
    return response


@bp.get("/standby")
def standby_pack() -> Response | tuple[dict[str, Any], int]:
    """The standby pack the switch's watcher keeps for when provisioner cannot be reached.

    ``If-None-Match`` with the pack's ETag gets 304 and releases nothing; a pack sent is a
    release of every tenant's digest hashes, audited once per tenant."""
    if not is_authorized():
        return missing()
    with get_store().transaction() as session:
        etag = service.standby_tag(session, settings())
        if etag in request.if_none_match:
            return Response(status=304, headers={"ETag": f'"{etag}"'})
        content, tenants = service.standby_answer(session, get_secret_box(), settings())
        actor = f"freeswitch:{request.remote_addr}"
        for tenant in tenants:
            audit.record(session, actor, "release-secret", "standby", "a1-hash", tenant)
    response = Response(content, mimetype=XML_TYPE)
    response.set_etag(etag)
    return response
