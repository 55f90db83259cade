"""CLI: `provisioner network add/update/list/remove`, `provisioner poll`, `provisioner poller`,
`provisioner diagnose`, `provisioner traps`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

# The domain modules are imported inside the commands: `provisioner --help` lists these
# commands without loading SQLAlchemy, pysnmp or the store.
from provisioner.command_helpers import (
    cli_actor,
    command_app,
    flask_app,
    get_secret_box,
    get_store,
    reports_errors,
    with_app,
    with_flask_app,
)


@click.group("network")
def network_group() -> None:
    """Routers and switches polled over SNMP."""


def device_options(adding: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The options that describe a device; on update every one is optional and unset."""

    def default(value: Any) -> Any:
        return value if adding else None

    options = [
        click.option("--role", type=click.Choice(["router", "switch"]), required=adding),
        click.option("--address", required=adding, help="IP address or host name of the agent"),
        click.option("--port", type=int, default=default(161), show_default=adding),
        click.option("--site", default=None, help="one of the tenant's sites"),
        click.option("--vendor", default=None, help="e.g. mikrotik, openwrt, cisco_ios"),
        click.option("--model", default=None),
        click.option("--serial", default=None, help="the serial number on its label"),
        click.option(
            "--snmp-version",
            type=click.Choice(["2c", "3"]),
            default=default("2c"),
            show_default=adding,
        ),
        # Secrets may come from the environment, so they stay out of the shell history and `ps`.
        click.option(
            "--community",
            envvar="PROVISIONER_SNMP_COMMUNITY",
            default=None,
            help="v2c community, stored encrypted [$PROVISIONER_SNMP_COMMUNITY]",
        ),
        click.option("--v3-user", default=None),
        click.option(
            "--auth-protocol", default=None, help="SHA, SHA-224, SHA-256, SHA-384, SHA-512"
        ),
        click.option(
            "--auth-key",
            envvar="PROVISIONER_SNMP_AUTH_KEY",
            default=None,
            help="v3 authentication passphrase, stored encrypted [$PROVISIONER_SNMP_AUTH_KEY]",
        ),
        click.option(
            "--priv-protocol", default=None, help="AES, AES-192, AES-256 (-Cisco variants)"
        ),
        click.option(
            "--priv-key",
            envvar="PROVISIONER_SNMP_PRIV_KEY",
            default=None,
            help="v3 privacy passphrase, stored encrypted [$PROVISIONER_SNMP_PRIV_KEY]",
        ),
        click.option("--context", default=default(""), help="v3 context name"),
        click.option("--engine-id", default=None, help="the agent's engine ID (hex), for v3 traps"),
        click.option(
            "--poll-interval", type=int, default=default(300), show_default=adding, help="seconds"
        ),
        click.option(
            "--timeout",
            type=float,
            default=default(2.0),
            show_default=adding,
            help="seconds per try",
        ),
        click.option("--retries", type=int, default=default(1), show_default=adding),
    ]
    if not adding:
        options.append(click.option("--enabled/--disabled", default=None, help="poll it or not"))

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


@network_group.command("add")
@click.argument("tenant")
@click.argument("name")
@device_options(adding=True)
@with_app
@reports_errors
def network_add(tenant: str, name: str, **options: Any) -> None:
    """Add router or switch NAME to TENANT."""
    from provisioner.network import inventory
    from provisioner.network.device_input import parse_device

    data = {"name": name, **{key: value for key, value in options.items() if value is not None}}
    device = parse_device(data)
    with get_store().transaction() as session:
        inventory.add_device(session, tenant, device, get_secret_box(), cli_actor())
    click.echo(f"added {device.role} {tenant}/{name} at {device.address}:{device.port}")


@network_group.command("update")
@click.argument("tenant")
@click.argument("name")
@device_options(adding=False)
@with_app
@reports_errors
def network_update(tenant: str, name: str, **options: Any) -> None:
    """Change router or switch NAME of TENANT; only the options given change."""
    from provisioner.network import inventory

    changes = {key: value for key, value in options.items() if value is not None}
    with get_store().transaction() as session:
        inventory.update_device(session, tenant, name, changes, get_secret_box(), cli_actor())
    click.echo(f"updated {tenant}/{name}: {', '.join(sorted(changes)) or 'nothing'}")


@network_group.command("list")
@click.argument("tenant", required=False)
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table")
@with_app
@reports_errors
def network_list(tenant: str | None, as_json: bool) -> None:
    """List routers and switches (of TENANT) with their last poll status."""
    from provisioner.network import inventory
    from provisioner.store.models import NetworkDeviceState, Tenant

    with get_store().reading() as session:
        rows = []
        for device in inventory.list_devices(session, tenant):
            owner = session.get(Tenant, device.tenant_id)
            status = session.get(NetworkDeviceState, device.id)
            item = inventory.device_json(device, owner.name if owner else "?")
            item["status"] = status.status if status else "unknown"
            item["reason"] = status.reason if status else "not polled yet"
            rows.append(item)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo("DEVICE\tROLE\tADDRESS\tSNMP\tSITE\tSTATUS")
    for item in rows:
        click.echo(
            f"{item['tenant']}/{item['name']}\t{item['role']}\t{item['address']}:{item['port']}"
            f"\tv{item['snmp_version']}\t{item['site'] or '-'}\t{item['status']}"
            + (f" ({item['reason']})" if item["status"] in ("down", "partial") else "")
        )


@network_group.command("remove")
@click.argument("tenant")
@click.argument("name")
@with_app
@reports_errors
def network_remove(tenant: str, name: str) -> None:
    """Remove NAME from TENANT with its poll history and traps."""
    from provisioner.network import inventory

    with get_store().transaction() as session:
        inventory.remove_device(session, tenant, name, cli_actor())
    click.echo(f"removed {tenant}/{name}")


@click.command("poll")
@click.option("--once", is_flag=True, help="poll every device once and exit")
@click.option("--device", "names", multiple=True, help="only this device name (repeatable)")
@with_flask_app()
@reports_errors
def poll_command(once: bool, names: tuple[str, ...]) -> None:
    """Poll the routers and switches over SNMP (each on its interval, until Ctrl-C)."""
    import asyncio

    from provisioner.network.poller import Poller, run_poll_once

    app = flask_app()
    if once:
        results = run_poll_once(app, names or None)
        for result in results:
            click.echo(
                f"{result.name}\t{result.status}"
                + (f"\t{result.kind}: {result.reason}" if result.kind else "")
            )
        click.echo(
            f"polled {len(results)} device(s), {sum(r.status == 'down' for r in results)} down, "
            f"{sum(r.status == 'partial' for r in results)} partial"
        )
        return

    async def forever() -> None:
        poller = Poller(app)
        try:
            await poller.run_forever(asyncio.Event())
        finally:
            poller.client.close()

    click.echo("provisioner: polling (Ctrl-C stops)")
    try:
        asyncio.run(forever())
    except KeyboardInterrupt:
        click.echo("provisioner: stopped polling")


@click.command("poller")
@click.option(
    "--name",
    default=None,
    help="this poller's name among those sharing the inventory "
    "[NETWORK_POLLER_NAME; host name and process id]",
)
@click.option(
    "--traps/--no-traps",
    default=None,
    help="also receive SNMP traps on NETWORK_TRAP_ADDRESS:NETWORK_TRAP_PORT "
    "[NETWORK_TRAPS_ENABLED]",
)
@with_flask_app()
@reports_errors
def poller_command(name: str | None, traps: bool | None) -> None:
    """The SNMP poller service: polls the devices it claims (several pollers on one PostgreSQL
    share the inventory, each device polled by one of them per interval) until SIGTERM."""
    import asyncio
    import signal

    from provisioner.network.leases import default_poller_name
    from provisioner.network.poller import run_network, start_network

    app = flask_app()
    app.config["NETWORK_POLLER_ENABLED"] = True
    if traps is not None:
        app.config["NETWORK_TRAPS_ENABLED"] = traps
    name = name or app.config["NETWORK_POLLER_NAME"] or default_poller_name()

    async def serve() -> None:
        stop = asyncio.Event()
        for number in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(number, stop.set)
        poller, receiver = start_network(app, name)
        click.echo(f"provisioner poller {name}: polling (SIGTERM or Ctrl-C stops)")
        if receiver is not None:
            address = app.config["NETWORK_TRAP_ADDRESS"]
            click.echo(
                f"provisioner poller {name}: receiving traps on udp {address}:{receiver.port}"
            )
        await run_network(poller, receiver, stop)

    asyncio.run(serve())
    click.echo(f"provisioner poller {name}: stopped")


@click.command("diagnose")
@click.argument("target", metavar="MAC-OR-DEVICE")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text")
@with_app
@reports_errors
def diagnose_command(target: str, as_json: bool) -> None:
    """Everything about one phone (by MAC) or one router/switch (NAME or TENANT/NAME)."""
    from provisioner.network import diagnose as diagnosing
    from provisioner.network.report import as_text
    from provisioner.pairing import flush_timeline

    flush_timeline(command_app())
    with get_store().reading() as session:
        report = diagnosing.diagnose(session, target)
    click.echo(json.dumps(report, indent=2) if as_json else as_text(report), nl=as_json)


@click.command("traps")
@with_flask_app()
@reports_errors
def traps_command() -> None:
    """Receive SNMP traps on NETWORK_TRAP_ADDRESS:NETWORK_TRAP_PORT until Ctrl-C."""
    import asyncio

    from provisioner.network.traps import TrapReceiver

    app = flask_app()

    async def forever() -> None:
        receiver = TrapReceiver(app)
        receiver.start()
        address = app.config["NETWORK_TRAP_ADDRESS"]
        click.echo(f"provisioner: receiving traps on udp {address}:{receiver.port} (Ctrl-C stops)")
        try:
            while True:
                await asyncio.sleep(60)
                await receiver.refresh_in_background()
        finally:
            receiver.close()

    try:
        asyncio.run(forever())
    except KeyboardInterrupt:
        click.echo("provisioner: stopped receiving traps")


COMMANDS = (network_group, poll_command, poller_command, diagnose_command, traps_command)
