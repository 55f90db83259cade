"""Domain errors and HTTP errors as JSON: a status, a message, and the fields at fault."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import DataError, IntegrityError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import NotFound as RouteNotFound

from provisioner.errors import (
    Conflict,
    DocumentTooLarge,
    Forbidden,
    NotFound,
    ProvisionerError,
    Unauthorized,
    UnknownTenant,
    ValidationFailed,
)

log = logging.getLogger(__name__)

STATUS_BY_ERROR: tuple[tuple[type[ProvisionerError], int], ...] = (
    (DocumentTooLarge, 413),  # before ValidationFailed, which it is a kind of
    (ValidationFailed, 422),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
)

# What the API adds to an error the domain raised, so it points to a request.
API_HINTS: tuple[tuple[type[ProvisionerError], str], ...] = (
    (UnknownTenant, "list them with GET /api/v1/tenants"),
)


def error_body(status: int, message: str, problems: list[dict[str, str]] | None = None) -> Any:
    """The one shape of every error answer."""
    body: dict[str, Any] = {"error": {"status": status, "message": message}}
    if problems is not None:
        body["error"]["problems"] = problems
    return body


def handle_provisioner_error(error: ProvisionerError) -> Response:
    """Map a domain error to its status; unexpected ones are 500 and logged by Flask."""
    status = next((code for kind, code in STATUS_BY_ERROR if isinstance(error, kind)), 500)
    problems = None
    if isinstance(error, ValidationFailed):
        problems = [{"path": item.path, "reason": item.reason} for item in error.problems]
    hint = next((text for kind, text in API_HINTS if isinstance(error, kind)), None)
    message = f"{error}; {hint}" if hint else str(error)
    response = jsonify(error_body(status, message, problems))
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="provisioner"'
    return response


def handle_http_error(error: HTTPException) -> Response:
    """Werkzeug's HTTP errors (404 route, 405, 413 ...) as JSON too."""
    response = jsonify(error_body(error.code or 500, error.description or error.name))
    response.status_code = error.code or 500
    return response


def handle_integrity_error(_error: IntegrityError) -> Response:
    """A unique key the checks passed but the database refused: another writer got there first
    (validation reads, then writes; two requests at once can both pass). Nothing was saved."""
    message = "another change was saved at the same time; nothing was changed, load and try again"
    response = jsonify(error_body(409, message))
    response.status_code = 409
    return response


def handle_data_error(error: DataError) -> Response:
    """A value the database cannot store (PostgreSQL text cannot hold a NUL character):
    the client's fault, so 400 with what to do, never a 500. Nothing was saved."""
    log.warning("refused a value the database cannot store: %s", error.orig)
    message = "a value the database cannot store (such as a NUL character); nothing was changed"
    response = jsonify(error_body(400, message))
    response.status_code = 400
    return response


def refuse_nul_paths() -> None:
    """No name we serve holds a NUL character, and PostgreSQL text cannot hold one: a path
    with one is not found, before any view looks it up."""
    if "\x00" in request.path:
        raise RouteNotFound()


def init_app(app: Flask) -> None:
    """Register the handlers on the app, so every blueprint answers errors alike."""
    app.before_request(refuse_nul_paths)
    app.register_error_handler(ProvisionerError, handle_provisioner_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DataError, handle_data_error)
