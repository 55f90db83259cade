"""What phones fetch: ``/p/<file>`` (no credentials) and ``/p/a/<file>`` (Digest or Basic).

The view only translates HTTP to ``render_for_path`` and back; ETag / If-None-Match save
polling phones the download. Basic credentials carry the password in clear text, so over
plain HTTP they are refused (as if absent: the answer is a Digest challenge) and logged,
unless ALLOW_BASIC_OVER_HTTP is set; TLS is told by the WSGI scheme, or behind PROXY_HOPS
trusted proxies by X-Forwarded-Proto.
"""

from __future__ import annotations

import hashlib
import logging

from flask import Blueprint, Flask, Response, current_app, request

from provisioner.http.request_log import note_phone_answer
from provisioner.pairing.credentials import authorization_scheme, challenge_headers
from provisioner.phones.authorize import nonce_key
from provisioner.phones.model import RequestInfo
from provisioner.phones.render import phone_base_url, render_for_path
from provisioner.phones.uploads import store_upload

bp = Blueprint("phones", __name__, url_prefix="/p")
log = logging.getLogger(__name__)


def basic_allowed(app: Flask) -> bool:
    """Basic credentials are taken over TLS, or where ALLOW_BASIC_OVER_HTTP says so."""
    return request.is_secure or bool(app.config.get("ALLOW_BASIC_OVER_HTTP"))


def _authorization(app: Flask) -> str | None:
    """The request's Authorization header; Basic over plain HTTP is dropped and logged."""
    header = request.headers.get("Authorization")
    if authorization_scheme(header) != "basic" or basic_allowed(app):
        return header
    log.warning(
        "Basic credentials over plain HTTP refused from %s for %s (the password would travel "
        "in clear text): use Digest or HTTPS, or set ALLOW_BASIC_OVER_HTTP",
        request.remote_addr,
        request.path,
    )
    return None


def _add_challenges(app: Flask, response: Response, headers: list[tuple[str, str]]) -> None:
    """Add the answer's headers; the Basic challenge only where Basic is taken."""
    for name, value in headers:
        if name == "WWW-Authenticate" and value.startswith("Basic") and not basic_allowed(app):
            continue
        response.headers.add(name, value)


def _request_info(file: str, authenticated_path: bool) -> RequestInfo:
    return RequestInfo(
        path=file,
        source=request.remote_addr or "",
        protocol="http",
        user_agent=request.headers.get("User-Agent", ""),
        route="/p/a/" if authenticated_path else "/p/",
    )


def _serve(file: str, authenticated_path: bool) -> Response:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    answer = render_for_path(
        app,
        _request_info(file, authenticated_path),
        phone_base_url(app, request.host_url),
        _authorization(app),
        authenticated_path,
        request.path,
    )
    note_phone_answer(file, (answer.kind or answer.answer).value)
    response = Response(answer.body, status=answer.status, content_type=answer.content_type)
    _add_challenges(app, response, list(answer.headers))
    if answer.status == 200:
        response.set_etag(hashlib.sha256(answer.body).hexdigest())
        response.headers["Cache-Control"] = "no-cache"
        response.make_conditional(request)
    return response


def _upload(file: str, authenticated_path: bool) -> Response:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    limit = app.config["PHONE_UPLOAD_MAX_BYTES"]
    if (request.content_length or 0) > limit:
        return Response(b"", status=413)
    body = request.stream.read(limit + 1)
    status = store_upload(
        app,
        _request_info(file, authenticated_path),
        body,
        _authorization(app),
        authenticated_path,
        request.path,
    )
    response = Response(b"", status=status)
    if status == 401:  # a Digest client needs the challenge to answer it
        _add_challenges(app, response, challenge_headers(nonce_key(app)))
    return response


@bp.get("/<path:file>")
def fetch(file: str) -> Response:
    """A file a phone asks for without credentials."""
    return _serve(file, authenticated_path=False)


@bp.get("/a/<path:file>")
def fetch_authenticated(file: str) -> Response:
    """A file a paired phone asks for with its credentials (401 challenges otherwise)."""
    return _serve(file, authenticated_path=True)


@bp.put("/<path:file>")
def upload(file: str) -> Response:
    """A file a phone uploads (Poly logs and overrides)."""
    return _upload(file, authenticated_path=False)


@bp.put("/a/<path:file>")
def upload_authenticated(file: str) -> Response:
    """An upload with the phone's credentials."""
    return _upload(file, authenticated_path=True)
