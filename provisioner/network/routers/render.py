"""Fill a router vendor's template: every value passes the vendor's writer, which refuses what
would break out of its line, so a template cannot be made to run a command it does not hold.

Templates live in ``templates/routers/<vendor>/``: ``<model>.<ext>.j2`` first, then
``base.<ext>.j2``. They see only the RouterContext's fields, with loops and conditionals.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from provisioner.errors import TemplateRenderError, UnsafeConfigValue
from provisioner.network.routers.context import RouterContext
from provisioner.network.routers.vendors import RouterVendor

TEMPLATES = Path(__file__).resolve().parents[3] / "templates" / "routers"


def checked_value(vendor: RouterVendor, value: Any) -> str:
    """``value`` as text for ``vendor``'s configuration; UnsafeConfigValue if it would break
    its line (the message names the character, never the whole value: it may be a secret)."""
    text = "" if value is None else str(value)
    character = vendor.refused_in(text)
    if character is not None:
        raise UnsafeConfigValue(
            f"a value for {vendor.label} contains {character!r}, which would break out of "
            "its line; remove it from the setting it comes from"
        )
    return text


@cache
def _environment(vendor: RouterVendor) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES / vendor.name),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=lambda value: checked_value(vendor, value),
    )


def template_name(vendor: RouterVendor, model: str) -> str:
    """The most specific template there is: the model's, else the vendor's base."""
    candidates = [f"{model}.{vendor.extension}.j2"] if model else []
    candidates.append(f"base.{vendor.extension}.j2")
    for name in candidates:
        if (TEMPLATES / vendor.name / name).is_file():
            return name
    raise TemplateRenderError(
        f"no router template for {vendor.name}; add templates/routers/{vendor.name}/"
        f"base.{vendor.extension}.j2"
    )


def render_router(context: RouterContext, template: str | None = None) -> str:
    """The router's configuration text (``template`` names another file of the vendor's)."""
    vendor = context.vendor
    environment = _environment(vendor)
    name = template or template_name(vendor, context.model)
    values = {field.name: getattr(context, field.name) for field in dataclasses.fields(context)}
    values.pop("vendor")
    try:
        return environment.get_template(name).render(values)
    except jinja2.TemplateError as exc:
        raise TemplateRenderError(f"templates/routers/{vendor.name}/{name}: {exc}") from exc
