"""The admin REST API under /api/v1: tenants and everything they own, the audit log, OpenAPI."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

from provisioner.errors import Conflict, FieldProblem, ValidationFailed
from provisioner.http.auth import current_caller, json_body, requires
from provisioner.http.openapi import openapi_document
from provisioner.security import audit
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store
from provisioner.tenants import schema, service
from provisioner.tenants.limits import check_size
from provisioner.tenants.repository import (
    delete_tenant,
    find_tenant,
    load_document,
    reveal_secret,
    save_document,
    tenant_names,
)
from provisioner.tenants.validation import parse_document, parse_model
from provisioner.tenants.yaml_io import document_to_data, dump_yaml, parse_yaml

bp = Blueprint("api", __name__, url_prefix="/api/v1")

Json = dict[str, Any]


@bp.get("/openapi.json")
def openapi() -> Json:
    """The OpenAPI description of this API (public, like any API documentation)."""
    return openapi_document()


@bp.get("/tenants")
@requires("read", filters_tenants=True)
def list_tenants() -> Json:
    """The tenants' names (those the token may act on)."""
    caller = current_caller()
    with get_store().reading() as session:
        return {"items": [name for name in tenant_names(session) if caller.may_see(name)]}


@bp.post("/tenants")
@requires("write")
def create_tenant() -> tuple[Json, int]:
    """Create a tenant from its settings, or from a whole document."""
    document = parse_document(json_body())
    with get_store().transaction() as session:
        if document.name in tenant_names(session):
            raise Conflict(
                f"tenant {document.name} exists; change it with PATCH or PUT .../document"
            )
        save_document(session, document, current_caller().actor, get_secret_box())
    return document.settings().model_dump(mode="json"), 201


@bp.get("/tenants/<tenant>")
@requires("read")
def get_tenant(tenant: str) -> Json:
    with get_store().reading() as session:
        document = load_document(session, find_tenant(session, tenant))
    counts = {name: len(getattr(document, name)) for name in schema.COLLECTION_KEYS}
    return {**document.settings().model_dump(mode="json"), "counts": counts}


@bp.patch("/tenants/<tenant>")
@requires("write")
def update_tenant(tenant: str) -> Json:
    """Change the tenant's own fields (not its name)."""
    changes = json_body()
    with get_store().transaction() as session:
        document = load_document(session, find_tenant(session, tenant))
        settings = parse_model(
            schema.TenantSettings, {**document.settings().model_dump(), **changes}
        )
        if settings.name != tenant:
            raise ValidationFailed([FieldProblem("name", "a tenant's name cannot change")])
        # Through model_validate, not model_copy: the updated document is validated whole.
        updated = schema.TenantDocument.model_validate(
            {**document.model_dump(), **settings.model_dump()}
        )
        save_document(session, updated, current_caller().actor, get_secret_box())
    return settings.model_dump(mode="json")


@bp.delete("/tenants/<tenant>")
@requires("write")
def remove_tenant(tenant: str) -> tuple[str, int]:
    """Erase the tenant and all it owns."""
    with get_store().transaction() as session:
        delete_tenant(session, tenant, current_caller().actor)
    return "", 204


@bp.get("/tenants/<tenant>/document")
@requires("read")
def export_document(tenant: str) -> Response | Json:
    """The whole tenant (no secrets): JSON, or YAML with ?format=yaml."""
    with get_store().reading() as session:
        data = document_to_data(load_document(session, find_tenant(session, tenant)), False)
    if request.args.get("format") == "yaml":
        return Response(dump_yaml(data), mimetype="application/yaml")
    return data


def query_flag(name: str) -> bool:
    """A yes/no query parameter (``?dry_run=true``); a 422 naming it for anything else."""
    value = request.args.get(name, "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise ValidationFailed([FieldProblem(name, "true or false")])
    return value in ("true", "1")


@bp.put("/tenants/<tenant>/document")
@requires("write")
def import_document(tenant: str) -> Json:
    """Replace the whole tenant, all or nothing; JSON, or YAML as application/yaml.

    ``?dry_run=true`` answers what would change and changes nothing; a document that removes
    items is refused with 409 naming them unless ``?confirm_removals=true``."""
    dry_run, confirm_removals = query_flag("dry_run"), query_flag("confirm_removals")
    limit = int(current_app.config["IMPORT_MAX_BYTES"])
    check_size(request.content_length or 0, limit)  # before reading the body
    if request.mimetype in ("application/yaml", "text/yaml", "application/x-yaml"):
        data = parse_yaml(request.get_data(as_text=True), limit)
    else:
        check_size(len(request.get_data()), limit)  # a chunked body has no Content-Length
        data = json_body()
    if isinstance(data, dict):
        data.setdefault("name", tenant)
    document = parse_document(data)
    if document.name != tenant:
        raise ValidationFailed([FieldProblem("name", f"must be {tenant}, the tenant in the URL")])
    store = get_store()
    with store.rehearsal() if dry_run else store.transaction() as session:
        summary = service.replace_document(
            session,
            get_secret_box(),
            document,
            current_caller().actor,
            confirm_removals=confirm_removals or dry_run,
        )
    settings = document.settings().model_dump(mode="json")
    return {**settings, "dry_run": dry_run, "changes": summary.as_json()}


@bp.get("/tenants/<tenant>/<collection>")
@requires("read")
def list_items(tenant: str, collection: str) -> Json:
    with get_store().reading() as session:
        return {"items": service.list_items(session, tenant, collection)}


@bp.post("/tenants/<tenant>/<collection>")
@requires("write")
def create_item(tenant: str, collection: str) -> tuple[Json, int]:
    """Create an item; a sound's audio may come as multipart field ``file``."""
    upload = request.files.get("file")
    if upload is not None:
        data: Any = {"name": request.form.get("name") or upload.filename}
        content: bytes | None = upload.read()
    else:
        data, content = json_body(), None
    with get_store().transaction() as session:
        item = service.add_item(
            session, get_secret_box(), tenant, collection, data, current_caller().actor, content
        )
    return item, 201


@bp.get("/tenants/<tenant>/<collection>/<key>")
@requires("read")
def get_item(tenant: str, collection: str, key: str) -> Json:
    with get_store().reading() as session:
        return service.get_item(session, tenant, collection, key)


@bp.put("/tenants/<tenant>/<collection>/<key>")
@requires("write")
def replace_item(tenant: str, collection: str, key: str) -> Json:
    """Replace an item; for sounds, a body of audio (Content-Type audio/*) uploads it."""
    with get_store().transaction() as session:
        if collection == "sounds" and request.mimetype.startswith("audio/"):
            return service.upload_sound(
                session, get_secret_box(), tenant, key, request.get_data(), current_caller().actor
            )
        return service.replace_item(
            session, get_secret_box(), tenant, collection, key, json_body(), current_caller().actor
        )


@bp.patch("/tenants/<tenant>/<collection>/<key>")
@requires("write")
def update_item(tenant: str, collection: str, key: str) -> Json:
    """Change some fields of an item."""
    with get_store().transaction() as session:
        return service.replace_item(
            session,
            get_secret_box(),
            tenant,
            collection,
            key,
            json_body(),
            current_caller().actor,
            partial=True,
        )


@bp.delete("/tenants/<tenant>/<collection>/<key>")
@requires("write")
def delete_item(tenant: str, collection: str, key: str) -> tuple[str, int]:
    with get_store().transaction() as session:
        service.remove_item(
            session, get_secret_box(), tenant, collection, key, current_caller().actor
        )
    return "", 204


@bp.get("/tenants/<tenant>/<collection>/<key>/secrets")
@requires("secrets")
def get_secrets(tenant: str, collection: str, key: str) -> Json:
    """An item's secrets in plain text (SIP password, PIN); the release is audited."""
    service.check_collection(collection)
    with get_store().transaction() as session:
        return reveal_secret(
            session,
            get_secret_box(),
            find_tenant(session, tenant),
            collection,
            key,
            current_caller().actor,
        )


@bp.get("/audit")
@requires("read", filters_tenants=True)
def audit_log() -> Json:
    """The newest audit events first; ?tenant=NAME and ?limit=N (at most 1000). A token
    limited to tenants sees only their events (none for another tenant, as for one that
    does not exist)."""
    limit = min(max(request.args.get("limit", 100, type=int) or 100, 1), 1000)
    scope = current_caller().tenants
    with get_store().reading() as session:
        events = audit.recent(session, request.args.get("tenant"), limit=limit, tenants=scope)
        return {"items": [audit.as_json(event) for event in events]}
