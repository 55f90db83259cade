"""Whether the database is at the newest migration, without loading Alembic.

Every start checks the schema; loading Alembic for that took a tenth of a second of each
`provisioner` command. The revision files are read as text instead: a file this cannot read
(an unusual form) makes the check answer False, and Alembic then does the full upgrade.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sqlalchemy import Engine, inspect, text

VERSIONS_FOLDER = Path(__file__).resolve().parent / "migrations" / "versions"
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\s*(?::[^=]+)?=\s*(.+?)\s*$", re.MULTILINE)


def head_revisions(folder: Path) -> set[str] | None:
    """The revisions no other revision builds on; None when a file cannot be read."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for file in folder.glob("*.py"):
        found = dict(_ASSIGNMENT.findall(file.read_text(encoding="utf-8")))
        try:
            revision = ast.literal_eval(found["revision"])
            down = ast.literal_eval(found["down_revision"])
        except (KeyError, ValueError, SyntaxError):
            return None
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        parents.update([down] if isinstance(down, str) else down or ())
    return revisions - parents


def schema_is_current(engine: Engine) -> bool:
    """True when the database's Alembic versions are exactly the heads of our revisions."""
    heads = head_revisions(VERSIONS_FOLDER)
    if not heads or not inspect(engine).has_table("alembic_version"):
        return False
    with engine.connect() as connection:
        stored = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return stored == heads
