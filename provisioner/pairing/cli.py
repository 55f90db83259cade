"""`provisioner pair MAC EXTENSION --tenant T` and `provisioner unpair MAC --tenant T`."""

from __future__ import annotations

from typing import Any

import click

from provisioner.command_helpers import (
    cli_actor,
    command_app,
    get_secret_box,
    get_store,
    reports_errors,
    with_app,
)


@click.command("pair")
@click.argument("mac")
@click.argument("extension")
@click.option("--tenant", required=True, help="the tenant the extension belongs to")
@click.option("--model", default=None, help="the phone's model, e.g. T46U (checks key capacity)")
@click.option("--vendor", default=None, help="the vendor, when the MAC's OUI does not tell")
@click.option(
    "--window",
    "window_minutes",
    type=click.IntRange(1, 1440),
    default=None,
    help="minutes the phone may fetch its secrets without credentials [30]",
)
@click.option(
    "--add-line",
    is_flag=True,
    help="add EXTENSION to the phone's lines (a re-pair replaces them otherwise)",
)
@with_app
@reports_errors
def pair_command(
    mac: str,
    extension: str,
    tenant: str,
    model: str | None,
    vendor: str | None,
    window_minutes: int | None,
    add_line: bool,
) -> None:
    """Pair the phone MAC (any notation) with EXTENSION and open its first-use window.

    A phone paired before keeps its credentials; its lines are replaced by EXTENSION unless
    --add-line is given."""
    from provisioner.pairing import service

    minutes = window_minutes or int(command_app().config["PHONE_PAIRING_WINDOW_MINUTES"])
    with get_store().transaction() as session:
        pairing = service.pair(
            session,
            get_secret_box(),
            tenant,
            mac,
            extension,
            cli_actor(),
            minutes,
            vendor,
            model,
            add_line,
            may_read_secrets=True,  # whoever runs the server's commands holds its keys
        )
    click.echo(pairing.summary())


@click.command("unpair")
@click.argument("mac")
@click.option("--tenant", required=True, help="the tenant the phone belongs to")
@with_app
@reports_errors
def unpair_command(mac: str, tenant: str) -> None:
    """Unpair the phone MAC: it leaves the tenant, its credentials are erased and the SIP
    passwords it knew are rotated."""
    from provisioner.pairing import service

    with get_store().transaction() as session:
        service.unpair(session, get_secret_box(), tenant, mac, cli_actor())
    click.echo(f"unpaired {service.parse_mac(mac)} from {tenant}")


@click.group("phones")
def phones_group() -> None:
    """The phones tenants have."""


@phones_group.command("list")
@click.argument("tenant", required=False)
@with_app
@reports_errors
def phones_list(tenant: str | None) -> None:
    """Every phone (of TENANT): lines, whether paired, its last request in the tenant's zone."""
    from provisioner.pairing import flush_timeline
    from provisioner.pairing.listing import phone_rows

    flush_timeline(command_app())
    with get_store().reading() as session:
        rows = phone_rows(session, tenant)
    click.echo("TENANT\tMAC\tVENDOR\tMODEL\tLINES\tPAIRED\tLAST REQUEST")
    for row in rows:
        click.echo("\t".join(row))


@click.group("discovered")
def discovered_group() -> None:
    """Phones that asked for their files lately but no tenant has."""


@discovered_group.command("list")
@with_app
def discovered_list() -> None:
    """The newest request of each discovered phone, newest first: pair one of these."""
    from provisioner.pairing import flush_timeline
    from provisioner.pairing.listing import discovered_rows

    flush_timeline(command_app())
    with get_store().reading() as session:
        rows = discovered_rows(session)
    click.echo("MAC\tLAST REQUEST\tSOURCE\tFILE\tUSER AGENT")
    for row in rows:
        click.echo("\t".join(row))


COMMANDS: tuple[Any, ...] = (
    pair_command,
    unpair_command,
    phones_group,
    discovered_group,
)
