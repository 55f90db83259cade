"""What phones fetch: ``/p/<file>`` (no credentials) and ``/p/a/<file>`` (Digest or Basic).

The view only translates HTTP to ``render_for_path`` and back; ETag / If-None-Match save
polling phones the download.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, current_app, request

from provisioner.http.request_log import note_phone_answer
from provisioner.pairing.credentials import challenge_headers
from provisioner.phones.authorize import nonce_key
from provisioner.phones.model import RequestInfo
from provisioner.phones.render import phone_base_url, render_for_path
from provisioner.phones.uploads import store_upload

bp = Blueprint("phones", __name__, url_prefix="/p")


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
        request.headers.get("Authorization"),
        authenticated_path,
        request.path,
    )
    note_phone_answer(file, (answer.kind or answer.answer).value)
    response = Response(answer.body, status=answer.status, content_type=answer.content_type)
    for name, value in answer.headers:
        response.headers.add(name, value)
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
        request.headers.get("Authorization"),
        authenticated_path,
        request.path,
    )
    response = Response(b"", status=status)
    if status == 401:  # a Digest client needs the challenge to answer it
        for name, value in challenge_headers(nonce_key(app)):
            response.headers.add(name, value)
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
