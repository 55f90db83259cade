"""The `provisioner` command: the group and its start-up, serve, tokens, audit, database; the
tenants, pairing, network and firmware commands live with their domains (all_commands lists
them all)."""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from provisioner.command_helpers import (
    CommandLine,
    cli_actor,
    command_app,
    flask_app,
    get_store,
    parse_address,
    reports_errors,
    with_app,
    with_flask_app,
)
from provisioner.errors import HttpBindFailed

if TYPE_CHECKING:
    from flask import Flask


def checked_address(
    _context: click.Context, _option: click.Parameter, value: str | None
) -> str | None:
    """An address option's value, refused before anything starts when it is not HOST:PORT."""
    if value is not None:
        parse_address(value)
    return value


@click.command("serve")
@click.option(
    "--http",
    "http_address",
    default=None,
    callback=checked_address,
    help="HOST:PORT for HTTP [HTTP_HOST:HTTP_PORT, 127.0.0.1:8470]",
)
@click.option(
    "--tftp",
    "tftp_address",
    is_flag=False,
    flag_value="127.0.0.1:6969",
    default=None,
    callback=checked_address,
    help="also serve TFTP on HOST:PORT [127.0.0.1:6969 when given alone; 0.0.0.0:69 needs "
    "privileges; set PHONE_BASE_URL when HTTP listens on 0.0.0.0]",
)
@click.option(
    "--network/--no-network",
    default=None,
    help="SNMP poller and trap receiver beside HTTP [NETWORK_POLLER_ENABLED/NETWORK_TRAPS_ENABLED]",
)
@click.option("--quiet", is_flag=True, help="no line per request on standard output")
@with_flask_app(http=True)
@reports_errors
def serve_command(
    http_address: str | None, tftp_address: str | None, network: bool | None, quiet: bool
) -> None:
    """Run the server: HTTP on loopback by default, with the demo tenant on an empty store.
    Each request, HTTP or TFTP, is one line on standard output (a phone's with its MAC)."""
    from provisioner.http import request_log
    from provisioner.network import start_beside_http

    app = flask_app()
    if http_address:
        host, port = parse_address(http_address)
    else:
        host, port = app.config["HTTP_HOST"], int(app.config["HTTP_PORT"])
    # Listen first: a busy port stops here, before the store or any thread is touched.
    server = listen_http(app, host, port)
    tftp = None
    if not quiet:
        request_log.init_app(app)  # before TFTP starts: its requests are logged too
    try:
        if tftp_address:
            tftp, (tftp_host, tftp_port) = start_tftp(app, tftp_address)
            click.echo(f"provisioner: TFTP on {tftp_host}:{tftp_port}")
        load_demo_if_empty(app)
        stop_network = start_beside_http(app, network)
    except BaseException:
        server.close()
        if tftp is not None:
            tftp.stop()
        raise
    bound_port = getattr(server, "effective_port", port)
    click.echo(f"provisioner: HTTP on http://{host}:{bound_port}/ (Ctrl-C stops)")
    try:
        # TFTP requests name no host: phones are sent to the HTTP address actually bound.
        app.config.update(HTTP_HOST=host, HTTP_PORT=bound_port)
        server.run()
    except KeyboardInterrupt:
        click.echo("provisioner: stopped")
    finally:
        server.close()
        stop_network()
        if tftp is not None:
            tftp.stop()


def listen_http(app: Flask, host: str, port: int) -> Any:
    """The waitress server listening on host:port; HttpBindFailed, with the reason, otherwise."""
    from provisioner.http.framing import create_waitress_server

    try:
        return create_waitress_server(
            app, host, port, app.config["HTTP_THREADS"], int(app.config.get("PROXY_HOPS") or 0)
        )
    except OSError as exc:
        raise HttpBindFailed(listen_advice(host, port, exc)) from exc


def listen_advice(host: str, port: int, error: OSError) -> str:
    """Why HTTP cannot listen, and what to do about it (TFTP's own is tftp.sockets')."""
    where = f"HTTP cannot listen on {host}:{port}: {error.strerror or error}"
    if error.errno == errno.EACCES:
        return f"{where}; a port below 1024 needs root or CAP_NET_BIND_SERVICE (or use 8470)"
    if error.errno == errno.EADDRINUSE:
        return f"{where}; another server holds it: stop it or choose --http HOST:PORT"
    return f"{where}; check that the address belongs to this machine"


def start_tftp(app: Flask, address: str) -> tuple[Any, tuple[str, int]]:
    """Start TFTP beside HTTP, answering through the same render function; the service and
    the address it bound. Phones are sent on to PHONE_BASE_URL, else HTTP_HOST:HTTP_PORT."""
    from provisioner.http import request_log
    from provisioner.network.routers.zerotouch import with_router_files
    from provisioner.phones.render import tftp_render_function
    from provisioner.tftp import TftpService

    host, port = parse_address(address)
    # Cisco autoinstall names (<name>-confg) first, then everything phones ask for.
    render = with_router_files(app, tftp_render_function(app))
    if app.extensions.get(request_log.EXTENSION_KEY):  # serve without --quiet
        render = request_log.logging_tftp(render)
    service = TftpService(render, host=host, port=port)
    bound: tuple[str, int] = service.start()  # TftpBindFailed says why it could not
    return service, bound


def load_demo_if_empty(app: Flask) -> None:
    """Import the demo tenant when the store holds no tenant yet (the embedded default)."""
    from provisioner.security.secrets import get_secret_box
    from provisioner.store import get_store
    from provisioner.tenants.yaml_io import import_tenant_file

    demo = Path(app.config["DEMO_FILE"])
    store = get_store(app)
    if app.config["LOAD_DEMO_ON_EMPTY"] and demo.is_file() and store.is_empty():
        with store.transaction() as session:
            import_tenant_file(session, demo, "system:demo", get_secret_box(app))
        click.echo(f"provisioner: empty store, loaded the demo tenant from {demo}")


@click.group("token")
def token_group() -> None:
    """API tokens: create, list, revoke."""


@token_group.command("create")
@click.option("--role", type=click.Choice(["admin", "technician", "support"]), required=True)
@click.option(
    "--name",
    default=None,
    help="its label in the audit log, unique among live tokens [ROLE-token, ROLE-token-2...]",
)
@click.option(
    "--tenant",
    "tenants",
    multiple=True,
    help="limit the token to this tenant (repeat for several) [every tenant]",
)
@with_app
@reports_errors
def token_create(role: str, name: str | None, tenants: tuple[str, ...]) -> None:
    """Create a token and print it once; only its hash is stored. With --tenant it sees and
    changes only those tenants, through the API and the technicians' page."""
    from provisioner.security import audit
    from provisioner.security.tokens import create_token, unused_token_name

    scope = sorted(set(tenants)) if tenants else None
    with get_store().transaction() as session:
        label = name or unused_token_name(session, f"{role}-token")
        token = create_token(session, role, label, scope)
        changes: dict[str, object] = {"role": role, "tenants": scope or "every tenant"}
        audit.record(session, cli_actor(), "create", "api_token", label, None, changes)
    click.echo(token)


@token_group.command("list")
@with_app
def token_list() -> None:
    """Show every token's name, role and state (never the token)."""
    from sqlalchemy import select

    from provisioner.store.models import ApiToken
    from provisioner.times import local_time

    click.echo("NAME\tROLE\tSTATE\tCREATED\tTENANTS")
    with get_store().reading() as session:
        for row in session.scalars(select(ApiToken).order_by(ApiToken.id)):
            state = "revoked" if row.revoked_at else "live"
            scope = ",".join(row.tenants) if row.tenants is not None else "every tenant"
            click.echo(
                f"{row.name}\t{row.role}\t{state}\t{local_time(row.created_at, None)}\t{scope}"
            )


@token_group.command("revoke")
@click.argument("name")
@with_app
@reports_errors
def token_revoke(name: str) -> None:
    """Revoke every live token called NAME."""
    from provisioner.security import audit
    from provisioner.security.tokens import revoke_token

    with get_store().transaction() as session:
        count = revoke_token(session, name)
        audit.record(session, cli_actor(), "revoke", "api_token", name, None, {"count": count})
    click.echo(f"revoked {count} token(s) named {name}")


@click.group("audit")
def audit_group() -> None:
    """The audit log."""


@audit_group.command("prune")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1),
    default=None,
    help="days to keep [AUDIT_RETENTION_DAYS, 365]",
)
@with_app
def audit_prune(days: int | None) -> None:
    """Delete audit events older than the retention period (GDPR: keep logs only as needed)."""
    from provisioner.security.audit import prune

    keep = days or command_app().config["AUDIT_RETENTION_DAYS"]
    with get_store().transaction() as session:
        count = prune(session, keep)
    click.echo(f"deleted {count} audit event(s) older than {keep} days")


@click.group("db")
def db_group() -> None:
    """The database schema."""


@db_group.command("upgrade")
@with_app
def db_upgrade() -> None:
    """Migrate the schema to the newest revision (also done at every start)."""
    from provisioner.store.migrate import upgrade

    upgrade(get_store().engine)
    click.echo("schema is at the newest revision")


@db_group.command("revision")
@click.option("-m", "--message", required=True)
@with_app
def db_revision(message: str) -> None:
    """For developers: write a migration from the models' difference with the database."""
    from provisioner.store.migrate import new_revision

    new_revision(get_store().engine, message)


COMMANDS: tuple[Any, ...] = (
    serve_command,
    audit_group,
    token_group,
    db_group,
)


def all_commands() -> tuple[click.Command, ...]:
    """Every `provisioner` command, in one list: the console command (`provisioner`,
    `python -m provisioner`) and the app's `flask --app provisioner` take theirs from here, so
    one cannot have a command the other lacks. The domain modules import only click and the
    command helpers at start-up (see provisioner.command_helpers)."""
    from provisioner.firmware.cli import COMMANDS as FIRMWARE_COMMANDS
    from provisioner.network.commands import COMMANDS as NETWORK_COMMANDS
    from provisioner.pairing.cli import COMMANDS as PAIRING_COMMANDS
    from provisioner.tenants.commands import COMMANDS as TENANT_COMMANDS

    return (
        *COMMANDS,
        *TENANT_COMMANDS,
        *PAIRING_COMMANDS,
        *NETWORK_COMMANDS,
        *FIRMWARE_COMMANDS,
    )


def init_app(app: Flask) -> None:
    """Register every command on the app (so `flask --app provisioner` has them too)."""
    for command in all_commands():
        app.cli.add_command(command)


def command_group() -> click.Group:
    """`provisioner` and every command under it, listed without building an app."""
    from provisioner import __version__

    group = click.Group(
        "provisioner",
        help="provisioner: phones, FreeSWITCH and network devices of hosted telephony tenants.",
    )
    for command in all_commands():
        group.add_command(command)
    click.version_option(__version__, prog_name="provisioner")(group)
    return group


def main() -> None:
    """Entry point of the `provisioner` console command: `serve` (and the poller and trap
    commands) build the Flask app, the others a CommandLineApp without Flask (with_app). A
    configuration that cannot be used (found while the app is built, before any command's own
    error handling) is one line and exit status 1, not a traceback."""
    from provisioner.errors import ConfigError

    console = CommandLine()
    try:
        command_group()(prog_name="provisioner", obj=console)
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    finally:
        console.close()
