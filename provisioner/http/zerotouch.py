"""What routers fetch at zero-touch: ``/z/<serial>/<secret>/<file>`` (see
``network/routers/zerotouch.py``). The view only translates HTTP to the domain and back."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from provisioner.network.routers.zerotouch import answer_http_fetch
from provisioner.phones.render import phone_base_url

bp = Blueprint("zerotouch", __name__, url_prefix="/z")


@bp.get("/<serial>/<secret>/<file>")
def fetch(serial: str, secret: str, file: str) -> Response:
    """A router's own configuration; unknown serial, wrong secret: the same 404."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    answer = answer_http_fetch(
        app,
        serial,
        secret,
        file,
        request.remote_addr or "",
        phone_base_url(app, request.host_url),
    )
    response = Response(answer.body, status=answer.status, content_type=answer.content_type)
    response.headers["Cache-Control"] = "no-store"
    return response
