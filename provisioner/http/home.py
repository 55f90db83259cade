"""What a person opening the server in a browser finds: ``/`` (the version and where to go),
``/api/v1/docs`` (the API description as a readable page, rendered here from the same OpenAPI
document, no script and nothing fetched from elsewhere) and ``/docs/`` (the operator guides)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, render_template

from provisioner import __version__
from provisioner.http.openapi import openapi_document

bp = Blueprint("home", __name__, template_folder="templates")

# The operator guides of a source checkout (absent from an installed package: then no links).
DOCS_FOLDER = Path(__file__).resolve().parent.parent.parent / "docs"
METHODS = ("get", "post", "put", "patch", "delete")


def guides() -> list[str]:
    """The names of the guides in docs/, sorted."""
    if not DOCS_FOLDER.is_dir():
        return []
    return sorted(path.name for path in DOCS_FOLDER.glob("*.md"))


@bp.get("/")
def landing() -> str:
    """A small page: the version and links to the technicians' page, the API and the docs."""
    return render_template("home/index.html", version=__version__, guides=guides())


@bp.get("/api/v1/docs")
def api_docs() -> str:
    """The OpenAPI description as a list of paths, operations and schemas."""
    document = openapi_document()
    return render_template(
        "home/api.html",
        version=__version__,
        operations=operations(document),
        schemas=schemas(document),
    )


@bp.get("/docs/")
def docs_index() -> str:
    """The guides, listed."""
    return render_template("home/index.html", version=__version__, guides=guides())


@bp.get("/docs/<name>")
def guide(name: str) -> Response:
    """One guide as plain text (Markdown reads well as it is)."""
    if name not in guides():
        abort(404)
    text = (DOCS_FOLDER / name).read_text(encoding="utf-8")
    return Response(text, content_type="text/plain; charset=utf-8")


def operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operation in path order: method, path, summary, parameters, body, answers."""
    found = []
    for path, item in sorted(document["paths"].items()):
        shared = item.get("parameters", [])
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            parameters = [*shared, *operation.get("parameters", [])]
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "token": bool(operation.get("security")),
                    "parameters": [
                        f"{parameter['name']} ({parameter['in']})" for parameter in parameters
                    ],
                    "body": _body_name(operation.get("requestBody")),
                    "responses": [
                        f"{status} {answer.get('description', '')}".strip()
                        for status, answer in operation.get("responses", {}).items()
                    ],
                }
            )
    return found


def _body_name(body: dict[str, Any] | None) -> str:
    if not body:
        return ""
    content: dict[str, Any] = next(iter(body.get("content", {}).values()), {})
    schema: dict[str, Any] = content.get("schema", {})
    reference = str(schema.get("$ref", ""))
    return reference.rsplit("/", 1)[-1] if reference else str(schema.get("type", ""))


def schemas(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every component schema with its fields: name, type, required, description."""
    found = []
    for name, schema in sorted(document["components"]["schemas"].items()):
        required = set(schema.get("required", []))
        fields = [
            {
                "name": field,
                "type": _type_name(details),
                "required": field in required,
                "description": details.get("description", ""),
            }
            for field, details in schema.get("properties", {}).items()
        ]
        found.append({"name": name, "description": schema.get("description", ""), "fields": fields})
    return found


def _type_name(details: dict[str, Any]) -> str:
    """A short readable type: ``string``, ``array of Extension``, ``Site or null``."""
    if "$ref" in details:
        return str(details["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in details:
        return " or ".join(_type_name(option) for option in details["anyOf"])
    if "oneOf" in details:
        return " or ".join(_type_name(option) for option in details["oneOf"])
    if details.get("type") == "array":
        return f"array of {_type_name(details.get('items', {}))}"
    if "enum" in details:
        return "one of " + ", ".join(str(value) for value in details["enum"])
    if "const" in details:
        return repr(details["const"])
    return str(details.get("type", "any"))
