"""What every `provisioner` command shares: the store, the secret box, the audit log's name for
the person at the terminal, our errors turned into messages, and the HOST:PORT the serving
commands (`serve`, the production command) listen on.

The domain command modules (tenants, pairing, network, firmware) import these; `provisioner.cli`
imports the domain commands to list them. Keeping the helpers here, below both, means no
command module imports `provisioner.cli` back.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

from provisioner.errors import ProvisionerError, UnknownTenant, ValidationFailed

if TYPE_CHECKING:
    from provisioner.security.secrets import SecretBox
    from provisioner.store import Store

# What the command line adds to an error the domain raised, so it points to a command.
COMMAND_LINE_HINTS: tuple[tuple[type[ProvisionerError], str], ...] = (
    (UnknownTenant, "list them with `provisioner tenants list`"),
)

Params = ParamSpec("Params")
Result = TypeVar("Result")


def get_store() -> Store:
    """The current app's store. The store and the secrets are imported when a command runs,
    not at start-up: `provisioner --help` needs neither SQLAlchemy nor cryptography."""
    from provisioner.store import get_store as current_store

    return current_store()


def get_secret_box() -> SecretBox:
    """The current app's secret box (see get_store for why it is imported here)."""
    from provisioner.security.secrets import get_secret_box as current_box

    return current_box()


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
