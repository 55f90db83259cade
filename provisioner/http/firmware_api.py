"""Admin API for firmware: the catalogue (read and verify; files are added with the CLI, which
signs them) and rollouts (start, widen, roll back, progress counts)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, request

from provisioner.errors import FieldProblem, ValidationFailed
from provisioner.firmware import app_trusted_keys, catalogue_directory
from provisioner.firmware import rollout as rollouts
from provisioner.firmware.catalogue import read_manifest
from provisioner.firmware.verification import check, full_check
from provisioner.http.auth import current_caller, json_body, requires, text_field
from provisioner.store import get_store

bp = Blueprint("firmware_api", __name__, url_prefix="/api/v1/firmware")

Json = dict[str, Any]


def _catalogue(full: bool) -> Json:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    directory, keys = catalogue_directory(app), app_trusted_keys(app)
    items = []
    for entry in read_manifest(directory):
        problem = (
            full_check(directory, entry, keys) if full else check(directory, entry, keys).problem
        )
        items.append({**entry.as_json(), "servable": problem is None, "problem": problem})
    return {"items": items}


@bp.get("")
@requires("read")
def catalogue() -> Json:
    """Every image with whether it may be served (re-hashed only when its file changed)."""
    return _catalogue(full=False)


@bp.post("/verify")
@requires("read")
def verify() -> Json:
    """Hash every image now and check its signature."""
    return _catalogue(full=True)


def _mac_list(data: Json) -> tuple[str, ...]:
    value = data.get("canary", [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationFailed([FieldProblem("canary", "a list of MACs")])
    return tuple(value)


def _percentage(data: Json, default: int | None) -> int | None:
    value = data.get("percentage", default)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValidationFailed([FieldProblem("percentage", "a whole number 0-100")])
    return value


@bp.get("/rollouts")
@requires("read")
def list_rollouts() -> Json:
    """Rollouts, newest first; ``?tenant=`` for one tenant's."""
    with get_store().reading() as session:
        rows = rollouts.rollouts(session, request.args.get("tenant"))
        return {"items": [rollouts.rollout_json(session, row) for row in rows]}


@bp.post("/rollouts")
@requires("write")
def start_rollout() -> tuple[Json, int]:
    """Start one: ``{tenant, vendor, model, version, site?, percentage?, canary?,
    rollback_version?}``; it supersedes the rollout for the same tenant, site and model."""
    data = json_body()
    wanted = rollouts.RolloutRequest(
        tenant=text_field(data, "tenant"),
        vendor=text_field(data, "vendor"),
        model=text_field(data, "model"),
        version=text_field(data, "version"),
        site=text_field(data, "site", required=False),
        percentage=_percentage(data, 0) or 0,
        canary=_mac_list(data),
        rollback_version=text_field(data, "rollback_version", required=False) or None,
    )
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    entries = read_manifest(catalogue_directory(app))
    with get_store().transaction() as session:
        row = rollouts.start(session, wanted, entries, current_caller().actor)
        return rollouts.rollout_json(session, row), 201


@bp.get("/rollouts/<int:rollout_id>")
@requires("read")
def get_rollout(rollout_id: int) -> Json:
    """One rollout with its counts: targeted, upgraded, pending, failed."""
    with get_store().reading() as session:
        return rollouts.rollout_json(session, rollouts.find_rollout(session, rollout_id))


@bp.patch("/rollouts/<int:rollout_id>")
@requires("write")
def widen_rollout(rollout_id: int) -> Json:
    """Widen: ``{percentage?, canary?}`` (canary MACs are added to the list)."""
    data = json_body()
    with get_store().transaction() as session:
        row = rollouts.widen(
            session,
            rollout_id,
            current_caller().actor,
            _percentage(data, None),
            _mac_list(data),
        )
        return rollouts.rollout_json(session, row)


@bp.post("/rollouts/<int:rollout_id>/rollback")
@requires("write")
def roll_back(rollout_id: int) -> Json:
    """Point the chosen phones at the rollback version (or at nothing)."""
    with get_store().transaction() as session:
        row = rollouts.roll_back(session, rollout_id, current_caller().actor)
        return rollouts.rollout_json(session, row)
