"""Firmware images for phones: ``/p/firmware/<mac>/<token>/<file>`` with Range and ETag.

Phones resume interrupted downloads with Range and poll with If-None-Match; the ETag is the
image's SHA-256. Who may fetch what is decided by ``firmware.serving``.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from werkzeug.wsgi import wrap_file

from provisioner.firmware.serving import open_download
from provisioner.phones.model import RequestInfo

bp = Blueprint("firmware_files", __name__, url_prefix="/p/firmware")


@bp.get("/<path:rest>")
def download(rest: str) -> Response:
    """One image, whole or in ranges; 404 for anything not meant for the asking phone."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    asked = RequestInfo(
        path=f"firmware/{rest}",
        source=request.remote_addr or "",
        protocol="http",
        user_agent=request.headers.get("User-Agent", ""),
    )
    found = open_download(app, asked)
    if found is None:
        return Response(b"", status=404, content_type="text/plain")
    response = Response(
        wrap_file(request.environ, found.stream),
        mimetype="application/octet-stream",
        direct_passthrough=True,
    )
    response.content_length = found.stat.st_size
    response.last_modified = found.stat.st_mtime  # type: ignore[assignment]
    response.set_etag(found.entry.sha256)
    response.headers["Cache-Control"] = "no-cache"
    response.make_conditional(
        request.environ, accept_ranges=True, complete_length=found.stat.st_size
    )
    return response
