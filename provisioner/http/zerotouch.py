"""What routers fetch at zero-touch, ``/z/<serial>/<secret>/<file>``, and where they report
how applying it went, ``/z/<serial>/<secret>/done`` (see ``network/routers/zerotouch.py``).
The views only translate HTTP to the domain and back."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from provisioner.network.routers.reports import BODY_LIMIT, REPORT_FILE
from provisioner.network.routers.zerotouch import (
    Ask,
    ZeroTouchAnswer,
    answer_http_fetch,
    answer_report,
    router_urls,
)

bp = Blueprint("zerotouch", __name__, url_prefix="/z")


def _response(answer: ZeroTouchAnswer) -> Response:
    response = Response(answer.body, status=answer.status, content_type=answer.content_type)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<serial>/<secret>/<file>")
def fetch(serial: str, secret: str, file: str) -> Response:
    """A router's own configuration; unknown serial, wrong secret: the same 404."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    ask = Ask(serial, secret, file, request.remote_addr or "")
    return _response(answer_http_fetch(app, ask, router_urls(app, request.host_url)))


@bp.post(f"/<serial>/<secret>/{REPORT_FILE}")
def done(serial: str, secret: str) -> Response:
    """A router's report (``outcome=ok``, or ``outcome=failed&reason=...``, form-encoded, read
    whatever the Content-Type); unknown serial, wrong secret: the same 404 as a fetch."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    body = request.stream.read(BODY_LIMIT + 1)  # one byte more: too long is refused
    ask = Ask(serial, secret, REPORT_FILE, request.remote_addr or "")
    return _response(answer_report(app, ask, body))
