"""The OpenAPI 3.1 description of the admin API, built from the same models that validate."""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from provisioner import __version__
from provisioner.http import phones_api
from provisioner.tenants import schema

ERROR = {"$ref": "#/components/schemas/Error"}
BEARER: list[dict[str, list[str]]] = [{"bearer": []}]


def _responses(success: dict[str, Any], *errors: int) -> dict[str, Any]:
    reasons = {
        401: "no or bad token",
        403: "role may not",
        404: "not found",
        409: "conflict",
        422: "invalid; problems name each field by path",
    }
    answers = {"200": success}
    for status in errors:
        answers[str(status)] = {
            "description": reasons[status],
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


@cache
def openapi_document() -> dict[str, Any]:
    """The whole description; computed once per process."""
    every_model: list[type[BaseModel]] = [
        *schema.COLLECTION_MODELS.values(),
        schema.TenantDocument,
        schema.TenantSettings,
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
                "summary": "Replace the whole tenant, all or nothing",
                "security": BEARER,
                "requestBody": {"required": True, **_json("#/components/schemas/TenantDocument")},
                "responses": _responses({"description": "saved"}, 401, 403, 422),
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
    paths.update(phones_api.openapi_paths())
    return {
        "openapi": "3.1.0",
        "info": {"title": "provisioner admin API", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
