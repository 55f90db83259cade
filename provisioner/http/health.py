"""Liveness for load balancers and monitoring."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from sqlalchemy import text

from provisioner.store import get_store

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, Any], int]:
    """200 when the store answers, 503 otherwise."""
    try:
        with get_store().reading() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any store failure means "not healthy"
        return {"status": "unhealthy", "reason": type(exc).__name__}, 503
    return {"status": "ok"}, 200
