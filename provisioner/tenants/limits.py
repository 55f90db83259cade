"""Bounds on documents that come from outside (files to import, API bodies): their size and
their nesting, checked before the work that either would make slow or crash."""

from __future__ import annotations

from typing import Any

from provisioner.errors import DocumentTooLarge, FieldProblem, ValidationFailed

DEFAULT_IMPORT_MAX_BYTES = 10 * 1024 * 1024
# A tenant document is about six levels deep; far more is a mistake or an attack.
MAX_NESTING = 50


def check_size(size: int, limit: int = DEFAULT_IMPORT_MAX_BYTES) -> None:
    """DocumentTooLarge when a document of ``size`` bytes is over ``limit``."""
    if size > limit:
        raise DocumentTooLarge(
            [
                FieldProblem(
                    "",
                    f"the document is {size:,} bytes, over the limit of {limit:,} bytes "
                    "(IMPORT_MAX_BYTES); split the tenant or raise the setting",
                )
            ]
        )


def check_nesting(data: Any, limit: int = MAX_NESTING) -> None:
    """ValidationFailed when ``data`` (parsed JSON) nests deeper than ``limit`` levels."""
    level: list[tuple[Any, int]] = [(data, 1)]
    while level:
        value, depth = level.pop()
        if not isinstance(value, dict | list):
            continue
        if depth > limit:
            raise ValidationFailed([FieldProblem("", nesting_problem(limit))])
        children = value.values() if isinstance(value, dict) else value
        level.extend((child, depth + 1) for child in children)


def nesting_problem(limit: int = MAX_NESTING) -> str:
    """The words for a document nested too deep."""
    return f"nested deeper than {limit} levels, the limit for a tenant"
