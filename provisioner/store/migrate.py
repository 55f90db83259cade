"""Alembic, driven from code: the schema is upgraded at start, revisions live in `migrations/`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS_FOLDER = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration bound to ``engine`` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_FOLDER))
    # configparser treats "%" as interpolation; URLs may carry "%3D" or a "%" in a password.
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to ``revision`` (all heads by default), keeping the data."""
    command.upgrade(alembic_config(engine), revision)


def new_revision(engine: Engine, message: str) -> None:
    """Write a new revision file from the difference between the models and the database."""
    command.revision(alembic_config(engine), message=message, autogenerate=True)
