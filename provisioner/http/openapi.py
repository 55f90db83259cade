"""The OpenAPI 3.1 description of the admin API, built from the same models that validate.

Over 400 lines on purpose: it is flat and declarative, one function per group of paths, each
a table of operations with their bodies and answers.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from provisioner import __version__
from provisioner.network.device_input import NetworkDeviceInput
from provisioner.tenants import schema

ERROR = {"$ref": "#/components/schemas/Error"}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _responses(success: dict[str, Any], *errors: int, status: str = "200") -> dict[str, Any]:
    reasons = {
        401: "no or bad token",
        403: "role may not",
        404: "not found",
        409: "conflict",
        422: "invalid; problems name each field by path",
    }
    answers = {status: success}
    for error in errors:
        answers[str(error)] = {
            "description": reasons[error],
            "content": {"application/json": {"schema": ERROR}},
        }
    return answers


def _json(reference: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": reference}}}}


def _collection_paths(collection: str, model_name: str) -> dict[str, Any]:
    item = f"#/components/schemas/{model_name}"
    listing = {
        "description": f"the tenant's {collection}",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"items": {"type": "array", "items": {"$ref": item}}},
                }
            }
        },
    }
    one = {"description": "the item", **_json(item)}
    tenant = {"name": "tenant", "in": "path", "required": True, "schema": {"type": "string"}}
    key = {
        "name": "key",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": f"the item's {schema.COLLECTION_KEYS[collection]}",
    }
    base = f"/api/v1/tenants/{{tenant}}/{collection}"
    return {
        base: {
            "parameters": [tenant],
            "get": {
                "summary": f"List {collection}",
                "security": BEARER,
                "responses": _responses(listing, 401, 404),
            },
            "post": {
                "summary": f"Create one of {collection}",
                "security": BEARER,
                "requestBody": {"required": True, **_json(item)},
                "responses": _responses(one, 401, 403, 404, 409, 422),
            },
        },
        f"{base}/{{key}}": {
            "parameters": [tenant, key],
            "get": {
                "summary": "Read one",
                "security": BEARER,
                "responses": _responses(one, 401, 404),
            },
            "put": {
                "summary": "Replace one",
                "security": BEARER,
                "requestBody": {"required": True, **_json(item)},
                "responses": _responses(one, 401, 403, 404, 422),
            },
            "patch": {
                "summary": "Change some fields",
                "security": BEARER,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": _responses(one, 401, 403, 404, 422),
            },
            "delete": {
                "summary": "Delete one (refused while referenced)",
                "security": BEARER,
                "responses": {
                    "204": {"description": "deleted"},
                    **_responses({"description": ""}, 401, 403, 404, 422),
                },
            },
        },
    }


def _path_parameters(*names: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in names
    ]


def _operation(
    summary: str,
    success: dict[str, Any],
    *errors: int,
    body: str | None = None,
    status: str = "200",
) -> dict[str, Any]:
    """One operation; ``body`` names a component schema, or "object" for a free JSON object."""
    found: dict[str, Any] = {
        "summary": summary,
        "security": BEARER,
        "responses": _responses(success, *errors, status=status),
    }
    if body == "object":
        found["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    elif body is not None:
        found["requestBody"] = {"required": True, **_json(f"#/components/schemas/{body}")}
    return found


def _phone_paths() -> dict[str, Any]:
    phone = "/api/v1/tenants/{tenant}/phones/{mac}"
    both = _path_parameters("tenant", "mac")
    both[1]["description"] = "any common MAC notation"

    def described(text: str) -> dict[str, Any]:
        return {"description": text}

    return {
        f"{phone}/pairing": {
            "parameters": both,
            "post": _operation(
                "Pair with {extension, model?, vendor?, window_minutes?, add_line?}; a re-pair "
                "keeps the device's credentials and replaces its lines unless add_line is true; "
                "a line a paired phone already carries needs the secrets permission (403)",
                described("paired: mac, lines (what the phone now has), removed_lines, username"),
                401,
                403,
                404,
                409,
                422,
                body="object",
                status="201",
            ),
            "delete": _operation(
                "Unpair; credentials erased, SIP passwords rotated",
                described("unpaired"),
                401,
                403,
                404,
                status="204",
            ),
        },
        f"{phone}/swap": {
            "parameters": both,
            "post": _operation(
                "Replace by {new_mac}", described("swapped"), 401, 403, 404, 409, 422, body="object"
            ),
        },
        f"{phone}/keys": {
            "parameters": both,
            "get": _operation("The keys the phone gets", described("keys"), 401, 404),
            "put": _operation(
                "Set {items: [...] | null}", described("keys"), 401, 403, 404, 422, body="object"
            ),
        },
        f"{phone}/credentials": {
            "parameters": both,
            "get": _operation(
                "Provisioning credentials (audited)", described("credentials"), 401, 403, 404
            ),
        },
        f"{phone}/timeline": {
            "parameters": both,
            "get": _operation(
                "Recent requests, newest first: at, local_time (the tenant's zone), route "
                "(/p/, /p/a/, empty for TFTP), file, answer, kind and its meaning",
                described("events"),
                401,
                404,
            ),
        },
        f"{phone}/uploads": {
            "parameters": both,
            "get": _operation("Uploaded files", described("uploads"), 401, 404),
        },
        "/api/v1/discovered": {
            "get": _operation("Phones seen lately that no tenant has", described("phones"), 401),
            "post": _operation(
                "Report a phone the on-site agent saw: {mac, seen_by: dhcp|lldp, vendor?, "
                "detail?, address?} (technician); the same answer for every MAC",
                described("recorded"),
                401,
                403,
                422,
                body="object",
                status="202",
            ),
        },
        "/api/v1/tenants/{tenant}/phone-admin-password": {
            "parameters": _path_parameters("tenant"),
            "get": _operation(
                "The phones' admin password (audited)", described("password"), 401, 403, 404
            ),
        },
    }


def _tenant_paths() -> dict[str, Any]:
    settings = _json("#/components/schemas/TenantSettings") | {"description": "the settings"}
    deleted = {"description": "erased, with everything the tenant owns"}
    return {
        "/api/v1/tenants/{tenant}": {
            "parameters": _path_parameters("tenant"),
            "get": _operation("The tenant's settings and item counts", settings, 401, 404),
            "patch": _operation(
                "Change the tenant's settings (not its name)",
                settings,
                401,
                403,
                404,
                422,
                body="TenantSettings",
            ),
            "delete": _operation("Erase the tenant (GDPR)", deleted, 401, 403, 404),
        },
    }


def _secret_paths() -> dict[str, Any]:
    revealed = {"description": "the plain secrets; the release is audited"}
    return {
        f"/api/v1/tenants/{{tenant}}/{collection}/{{key}}/secrets": {
            "parameters": _path_parameters("tenant", "key"),
            "get": _operation(f"The {' and '.join(fields)} (admin only)", revealed, 401, 403, 404),
        }
        for collection, fields in schema.SECRET_FIELDS.items()
    }


def _network_paths() -> dict[str, Any]:
    devices = "/api/v1/tenants/{tenant}/network-devices"
    listing = {"description": "routers and switches with their last poll status, no secrets"}
    one = {"description": "the device, its latest state, poll history and recent traps"}
    return {
        devices: {
            "parameters": _path_parameters("tenant"),
            "get": _operation("List routers and switches", listing, 401, 404),
            "post": _operation(
                "Add a router or switch (secrets stored encrypted)",
                one,
                401,
                403,
                404,
                409,
                422,
                body="NetworkDeviceInput",
            ),
        },
        f"{devices}/{{name}}": {
            "parameters": _path_parameters("tenant", "name"),
            "get": _operation("One device", one, 401, 404),
            "patch": _operation(
                "Change some fields (secrets only when given)",
                one,
                401,
                403,
                404,
                422,
                body="NetworkDeviceInput",
            ),
            "delete": _operation(
                "Remove a device with its history", {"description": "gone"}, 401, 403, 404
            ),
        },
        "/api/v1/diagnose/{mac}": {
            "parameters": _path_parameters("mac"),
            "get": _operation(
                "Everything support needs about one phone: pairing, boots, switch port, link, "
                "PoE, LLDP-MED, site router, traps (each part says why when missing); "
                "read-only; support any MAC, technicians the phones of a tenant",
                {"description": "the diagnosis"},
                401,
                403,
                404,
            ),
        },
    }


def _router_paths() -> dict[str, Any]:
    router = "/api/v1/tenants/{tenant}/routers/{name}"
    both = _path_parameters("tenant", "name")
    return {
        f"{router}/config": {
            "parameters": both,
            "get": _operation(
                "The rendered configuration, text (?template= another of the vendor's; the SNMP "
                "keys in it are audited as released)",
                {"description": "the configuration", "content": {"text/plain": {}}},
                401,
                403,
                404,
            ),
        },
        f"{router}/bootstrap": {
            "parameters": both,
            "get": _operation(
                "What to put on the router once so it fetches by itself (audited)",
                {"description": "vendor, url, bootstrap"},
                401,
                403,
                404,
            ),
        },
        f"{router}/window": {
            "parameters": both,
            "post": _operation(
                "Open the one-time TFTP window for Cisco autoinstall: {minutes?}",
                {"description": "window_until"},
                401,
                403,
                404,
                422,
                body="object",
            ),
        },
        f"{router}/timeline": {
            "parameters": both,
            "get": _operation(
                "Zero-touch fetches and reports (file done), newest first",
                {"description": "events: at, source, protocol, file, answer, detail"},
                401,
                404,
            ),
        },
    }


def _firmware_paths() -> dict[str, Any]:
    base = "/api/v1/firmware"
    catalogue = {"description": "images: id, vendor, models, version, file, size, sha256, servable"}
    rollout = {
        "description": "the rollout with counts {targeted, upgraded, pending, failed}",
    }
    rollout_id = _path_parameters("rollout_id")
    rollout_id[0]["schema"] = {"type": "integer"}
    return {
        base: {"get": _operation("The firmware catalogue", catalogue, 401)},
        f"{base}/verify": {
            "post": _operation("Hash every image now and check its signature", catalogue, 401)
        },
        f"{base}/rollouts": {
            "get": _operation(
                "Rollouts, newest first (?tenant= for one)", {"description": "rollouts"}, 401, 404
            ),
            "post": _operation(
                "Start {tenant, vendor, model, version, site?, percentage?, canary?, "
                "rollback_version?}; supersedes the one for the same tenant, site and model",
                rollout,
                401,
                403,
                404,
                422,
                body="object",
                status="201",
            ),
        },
        f"{base}/rollouts/{{rollout_id}}": {
            "parameters": rollout_id,
            "get": _operation("One rollout and its counts", rollout, 401, 404),
            "patch": _operation(
                "Widen with {percentage?, canary?}", rollout, 401, 403, 404, 422, body="object"
            ),
        },
        f"{base}/rollouts/{{rollout_id}}/rollback": {
            "parameters": rollout_id,
            "post": _operation(
                "Point the chosen phones at the rollback version", rollout, 401, 403, 404, 422
            ),
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    """The whole description; computed once per process."""
    every_model: list[type[BaseModel]] = [
        *schema.COLLECTION_MODELS.values(),
        schema.TenantDocument,
        schema.TenantSettings,
        NetworkDeviceInput,
    ]
    models: list[tuple[type[BaseModel], Literal["validation"]]] = [
        (model, "validation") for model in every_model
    ]
    _, definitions = models_json_schema(models, ref_template="#/components/schemas/{model}")
    components = dict(definitions.get("$defs", {}))
    components["Error"] = {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "status": {"type": "integer"},
                    "message": {"type": "string"},
                    "problems": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "path": {"type": "string"},
                                "reason": {"type": "string"},
                            },
                        },
                    },
                },
            }
        },
    }
    paths: dict[str, Any] = {
        "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"description": "ok"}}}},
        "/api/v1/openapi.json": {
            "get": {"summary": "This description", "responses": {"200": {"description": "it"}}}
        },
        "/api/v1/docs": {
            "get": {
                "summary": "This description as a readable page",
                "responses": {"200": {"description": "HTML: paths, operations, schemas"}},
            }
        },
        "/api/v1/tenants": {
            "get": {
                "summary": "List tenant names",
                "security": BEARER,
                "responses": _responses({"description": "names"}, 401),
            },
            "post": {
                "summary": "Create a tenant (settings or whole document)",
                "security": BEARER,
                "requestBody": {"required": True, **_json("#/components/schemas/TenantDocument")},
                "responses": _responses({"description": "created"}, 401, 403, 409, 422),
            },
        },
        "/api/v1/tenants/{tenant}/document": {
            "get": {
                "summary": "Export the whole tenant (?format=yaml for YAML)",
                "security": BEARER,
                "responses": _responses(
                    _json("#/components/schemas/TenantDocument") | {"description": "the document"},
                    401,
                    404,
                ),
            },
            "put": {
                "summary": "Replace the whole tenant, all or nothing; ?dry_run=true shows the "
                "changes and saves nothing; removals need ?confirm_removals=true (409 otherwise)",
                "security": BEARER,
                "parameters": [
                    {
                        "name": name,
                        "in": "query",
                        "required": False,
                        "schema": {"type": "boolean", "default": False},
                        "description": text,
                    }
                    for name, text in (
                        ("dry_run", "answer what would change; change nothing"),
                        ("confirm_removals", "allow the document to remove items"),
                    )
                ],
                "requestBody": {"required": True, **_json("#/components/schemas/TenantDocument")},
                "responses": _responses(
                    {
                        "description": "saved (or, for a dry run, not): the settings, dry_run, "
                        "and changes: added, changed, removed per collection, phone_lines, "
                        "generated_secrets"
                    },
                    401,
                    403,
                    409,
                    422,
                ),
            },
        },
        "/api/v1/audit": {
            "get": {
                "summary": "Audit log, newest first",
                "security": BEARER,
                "responses": _responses({"description": "events"}, 401),
            }
        },
    }
    for collection, model in schema.COLLECTION_MODELS.items():
        paths.update(_collection_paths(collection, model.__name__))
    paths.update(_tenant_paths())
    paths.update(_secret_paths())
    paths.update(_network_paths())
    paths.update(_phone_paths())
    paths.update(_router_paths())
    paths.update(_firmware_paths())
    return {
        "openapi": "3.1.0",
        "info": {"title": "provisioner admin API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
