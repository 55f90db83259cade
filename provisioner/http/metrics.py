"""``GET /metrics``: the operators' metrics in Prometheus' text format.

Every worker's samples in multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set), else this
process's own. Access: a source address in ``METRICS_ALLOWED_NETWORKS`` (default loopback
only), or any address with ``Authorization: Bearer <METRICS_TOKEN>`` when a token is set;
others get 403.
"""

from __future__ import annotations

import hmac
import ipaddress
import os

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess

from provisioner.metrics import TALLY  # the metrics exist before the first scrape

bp = Blueprint("metrics", __name__)


def registry() -> CollectorRegistry:
    """Every worker's samples in multiprocess mode, else this process's own."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return REGISTRY
    combined = CollectorRegistry()
    prometheus_multiprocess.MultiProcessCollector(combined, path=folder)  # type: ignore[no-untyped-call]
    return combined


def allowed(app: Flask, source: str, authorization: str | None) -> bool:
    """True for an address in METRICS_ALLOWED_NETWORKS or the right METRICS_TOKEN."""
    token = app.config.get("METRICS_TOKEN")
    if token and authorization and authorization.startswith("Bearer "):
        if hmac.compare_digest(authorization[7:].strip().encode(), str(token).encode()):
            return True
    try:
        address = ipaddress.ip_address(source)
    except ValueError:
        return False
    setting = app.config.get("METRICS_ALLOWED_NETWORKS") or ()
    texts = setting.split(",") if isinstance(setting, str) else list(setting)
    return any(
        address in ipaddress.ip_network(text.strip(), strict=False)
        for text in texts
        if text.strip()
    )


@bp.get("/metrics")
def metrics() -> Response:
    """The metrics in Prometheus' text format (403 for a source that may not see them)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not allowed(app, request.remote_addr or "", request.headers.get("Authorization")):
        return Response("metrics: not allowed from this address without METRICS_TOKEN\n", 403)
    TALLY.flush()  # this process's counts at once; other workers' within TALLY_SECONDS
    # The classic text format (0.0.4): what every Prometheus release reads.
    return Response(generate_latest(registry()), content_type=CONTENT_TYPE_PLAIN_0_0_4)
