"""Bearer-token authentication for the admin API; views name the permission they need."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from flask import g, request

from provisioner.errors import FieldProblem, Forbidden, ValidationFailed
from provisioner.security.tokens import Caller, authenticate
from provisioner.store import get_store
from provisioner.tenants.limits import check_nesting, nesting_problem
from provisioner.tenants.repository import unknown_tenant

Params = ParamSpec("Params")
Result = TypeVar("Result")


def current_caller() -> Caller:
    """The authenticated caller of this request."""
    caller: Caller = g.caller
    return caller


def requires(
    permission: str, filters_tenants: bool = False
) -> Callable[[Callable[Params, Result]], Callable[Params, Result]]:
    """Let the view run only for a caller whose role grants ``permission``, and whose token
    may act on the route's ``tenant``: one limited to other tenants gets what a tenant that
    does not exist gets. A route without a tenant concerns every tenant, so a limited token
    is refused there, unless the view ``filters_tenants`` itself (to the caller's); a new
    route is thus closed to limited tokens until it says how it keeps to them."""

    def decorate(view: Callable[Params, Result]) -> Callable[Params, Result]:
        @wraps(view)
        def guarded(*args: Params.args, **kwargs: Params.kwargs) -> Result:
            with get_store().transaction() as session:
                caller = authenticate(session, request.headers.get("Authorization"))
            caller.require(permission)
            _check_scope(caller, kwargs.get("tenant"), filters_tenants)
            g.caller = caller
            return view(*args, **kwargs)

        return guarded

    return decorate


def _check_scope(caller: Caller, tenant: object, filters_tenants: bool) -> None:
    if caller.tenants is None:
        return
    if isinstance(tenant, str):
        if not caller.may_see(tenant):
            raise unknown_tenant(tenant)
    elif not filters_tenants:
        raise Forbidden(
            "A token limited to some tenants may not use a route that concerns every tenant. "
            "That needs a token for every tenant."
        )


def json_body() -> dict[str, Any]:
    """The request's JSON object; a 422 naming the problem when it is not one, or when it
    nests deeper than a tenant document may (the decoder's RecursionError included)."""
    try:
        data = request.get_json(silent=True)
    except RecursionError as exc:
        raise ValidationFailed([FieldProblem("", nesting_problem())]) from exc
    check_nesting(data)
    if not isinstance(data, dict):
        raise ValidationFailed(
            [FieldProblem("", "send a JSON object with Content-Type: application/json")]
        )
    return data


def text_field(data: dict[str, Any], name: str, required: bool = True) -> str:
    """The JSON body's text field ``name``, stripped; a 422 naming it when it is missing or not
    a text (an absent optional field is "")."""
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed([FieldProblem(name, "required, a text")])
    return value.strip()


def flag_field(data: dict[str, Any], name: str) -> bool:
    """The JSON body's true/false field ``name`` (false when absent); a 422 naming it otherwise."""
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise ValidationFailed([FieldProblem(name, "true or false")])
    return value
