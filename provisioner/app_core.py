"""What the store, the secrets and the commands use of an app, with Flask or without.

`create_app` builds a Flask app: for serving, and for `flask --app provisioner`. The
`provisioner` command's other commands answer no request, and importing Flask, Werkzeug and
Jinja was a seventh of their start-up (bench/README.md, "Command start-up"): they run on a
`CommandLineApp`, set up by the same `prepare` as create_app's Flask app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from flask import Flask


class AppCore(Protocol):
    """An app's instance folder, configuration and extensions (a Flask app is one)."""

    @property
    def instance_path(self) -> str:
        """The instance folder: settings, the SQLite file, the secrets key."""

    @property
    def config(self) -> dict[str, Any]:
        """The settings (provisioner.config)."""

    @property
    def extensions(self) -> dict[str, Any]:
        """What init_app functions attach: the store, the secret box..."""


@dataclass
class CommandLineApp:
    """The app of a `provisioner` command other than `serve`: configuration, store, secrets."""

    instance_path: str
    config: dict[str, Any]
    extensions: dict[str, Any] = field(default_factory=dict)


def prepare(app: AppCore) -> None:
    """What every app gets after its configuration: logs, the firmware folder's warning, the
    instance folder, the store (migrated) and the secret box."""
    from provisioner import firmware, logs, store
    from provisioner.config import ensure_instance_folder
    from provisioner.security import secrets

    logs.init_app(app)
    firmware.warn_about_checkout_catalogue(app)
    ensure_instance_folder(app)
    store.init_app(app)
    secrets.init_app(app)


def command_line_app() -> CommandLineApp:
    """The app for a command that answers no request, configured as create_app configures."""
    from provisioner.config import instance_path, load_settings

    folder = instance_path()
    app = CommandLineApp(folder, load_settings(folder, None))
    prepare(app)
    return app


def flask_current_app() -> Flask:
    """Flask's current app: for code that runs in a Flask app context and names no app
    (imported here, when asked, so that importing the store or the secrets loads no Flask)."""
    from flask import current_app

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    return app
