"""What every `provisioner` command shares: the store, the secret box, the audit log's name for
the person at the terminal, our errors turned into messages, and the HOST:PORT the serving
commands (`serve`, the production command) listen on.

The domain command modules (tenants, pairing, network, firmware) import these; `provisioner.cli`
imports the domain commands to list them. Keeping the helpers here, below both, means no
command module imports `provisioner.cli` back.

A command gets its app from ``with_app``: under the `provisioner` command that is a
`CommandLineApp` (provisioner.app_core), built without Flask; under `flask --app provisioner`
and the tests' runner, Flask's app in an app context, as Flask's ``with_appcontext`` gives.
Commands that hand the app to Flask-typed code (serve, the poller, the trap receiver) use
``with_flask_app``, which always builds the Flask app.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from provisioner.errors import ProvisionerError, UnknownTenant, ValidationFailed

if TYPE_CHECKING:
    from flask import Flask

    from provisioner.app_core import AppCore, CommandLineApp
    from provisioner.security.secrets import SecretBox
    from provisioner.store import Store

# What the command line adds to an error the domain raised, so it points to a command.
COMMAND_LINE_HINTS: tuple[tuple[type[ProvisionerError], str], ...] = (
    (UnknownTenant, "list them with `provisioner tenants list`"),
)

Params = ParamSpec("Params")
Result = TypeVar("Result")


class CommandLine:
    """The `provisioner` command's state (its click object): the app of the command being
    run, built when the command starts (``with_app``), not for `--help`."""

    def __init__(self) -> None:
        self.app: CommandLineApp | None = None

    def close(self) -> None:
        """Close the command's database connections, as the end of a process would (SQLite
        writes its log back into the database file when the last one closes)."""
        if self.app is not None:
            from provisioner.store import get_store

            get_store(self.app).dispose()


def with_app(command: Callable[Params, Result]) -> Callable[Params, Result]:
    """Run the command with its app, without Flask under `provisioner` (see the module's
    docstring); replaces Flask's ``with_appcontext``."""

    @wraps(command)
    def run(*args: Params.args, **kwargs: Params.kwargs) -> Result:
        console = click.get_current_context().find_object(CommandLine)
        if console is None:  # flask --app provisioner, the tests' runner: Flask's ScriptInfo
            return in_flask_app_context(command, *args, **kwargs)
        if console.app is None:
            from provisioner.app_core import command_line_app

            console.app = command_line_app()
        return command(*args, **kwargs)

    return run


def with_flask_app(
    http: bool = False,
) -> Callable[[Callable[Params, Result]], Callable[Params, Result]]:
    """Run the command in a Flask app's context, the app built by create_app (``http``: with
    its HTTP side) under `provisioner`, else the one Flask's CLI loads."""

    def decorate(command: Callable[Params, Result]) -> Callable[Params, Result]:
        @wraps(command)
        def run(*args: Params.args, **kwargs: Params.kwargs) -> Result:
            context = click.get_current_context()
            if context.find_object(CommandLine) is not None:
                from provisioner import create_app

                context.with_resource(create_app(http=http).app_context())
            return in_flask_app_context(command, *args, **kwargs)

        return run

    return decorate


def in_flask_app_context(command: Callable[..., Result], *args: Any, **kwargs: Any) -> Result:
    """``command`` called as Flask's ``with_appcontext`` calls it (the app of the CLI's
    ScriptInfo, unless an app context is already pushed)."""
    from flask.cli import with_appcontext

    result: Result = with_appcontext(command)(*args, **kwargs)
    return result


def command_app() -> AppCore:
    """The app of the command being run (see ``with_app``)."""
    console = click.get_current_context().find_object(CommandLine)
    if console is not None and console.app is not None:
        return console.app
    from provisioner.app_core import flask_current_app

    return flask_current_app()


def flask_app() -> Flask:
    """The Flask app of a command run with ``with_flask_app``."""
    from provisioner.app_core import flask_current_app

    return flask_current_app()


def get_store() -> Store:
    """The command's store. The store and the secrets are imported when a command runs,
    not at start-up: `provisioner --help` needs neither SQLAlchemy nor cryptography."""
    from provisioner.store import get_store as app_store

    return app_store(command_app())


def get_secret_box() -> SecretBox:
    """The command's secret box (see get_store for why it is imported here)."""
    from provisioner.security.secrets import get_secret_box as app_box

    return app_box(command_app())


def cli_actor() -> str:
    """How the audit log names a change made from the command line."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def reports_errors(command: Callable[Params, Result]) -> Callable[Params, Result]:
    """Turn our errors into a message that says what to do, and exit status 1."""

    @wraps(command)
    def run(*args: Params.args, **kwargs: Params.kwargs) -> Result:
        try:
            return command(*args, **kwargs)
        except ValidationFailed as exc:
            click.echo("Invalid; nothing was changed:", err=True)
            for problem in exc.problems:
                click.echo(f"  {problem}", err=True)
            sys.exit(1)
        except ProvisionerError as exc:
            click.echo(f"Error: {with_hint(exc)}", err=True)
            sys.exit(1)

    return run


def with_hint(error: ProvisionerError) -> str:
    """The error's message, with the command line's way forward when it has one."""
    hint = next((text for kind, text in COMMAND_LINE_HINTS if isinstance(error, kind)), None)
    return f"{error}; {hint}" if hint else str(error)


def parse_address(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` (loopback) or ``[IPv6]:PORT`` -> (host, port). The port is
    never implied: ``--http 0.0.0.0`` serving on a port nobody typed would surprise."""
    host, separator, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise click.BadParameter(f"{text!r}: put an IPv6 address in brackets, e.g. [::1]:8470")
    if not separator or not port.isdigit() or int(port) > 65535:
        raise click.BadParameter(f"{text!r}: give HOST:PORT, e.g. 127.0.0.1:8470 (port 0-65535)")
    return host or "127.0.0.1", int(port)
