"""`provisioner firmware keygen | sign | add | list | verify | remove | rollout ...`."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

# The catalogue, the signing parts (cryptography), the store and the vendor modules are
# imported inside the commands: `provisioner --help` and the other commands list these
# without loading them (most of a command's start-up time otherwise).
from provisioner.command_helpers import (
    cli_actor,
    command_app,
    get_store,
    reports_errors,
    with_app,
)
from provisioner.errors import FieldProblem, FirmwareRefused, ValidationFailed

FILE_NAME_CHARACTERS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._()+,-")


@click.group("firmware")
def firmware_group() -> None:
    """The signed firmware catalogue and staged rollouts."""


@firmware_group.command("keygen")
@click.argument("key_file", type=click.Path(dir_okay=False, path_type=Path))
@reports_errors
def keygen(key_file: Path) -> None:
    """Write a new Ed25519 signing key to KEY_FILE (mode 600) and print its public key."""
    from provisioner.firmware.signing import (
        HOW_TO_TRUST,
        key_id,
        new_private_key,
        public_key_text,
    )

    if key_file.exists():
        raise FirmwareRefused(f"{key_file} exists; choose another name (keys are never replaced)")
    pem, private_key = new_private_key()
    handle = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(handle, "wb") as output:
        output.write(pem)
    public = private_key.public_key()
    click.echo(
        f"wrote {key_file} (key id {key_id(public)}); to trust the public key below, "
        f"{HOW_TO_TRUST}:",
        err=True,
    )
    click.echo(public_key_text(public))


def _checked_models(vendor: str, models: tuple[str, ...]) -> tuple[str, ...]:
    from provisioner.phones.vendors import by_name

    module = by_name(vendor)
    names = []
    for model in models:
        found = module.model(model)
        if found is None:
            known = ", ".join(module.models)
            raise FirmwareRefused(f"{module.label} has no model {model}; known: {known}")
        names.append(found.name)
    return tuple(names)


def _check_names(file: Path, version: str) -> None:
    if not set(file.name) <= FILE_NAME_CHARACTERS or len(file.name) > 128:
        raise FirmwareRefused(
            f"{file.name}: rename it to letters, digits and . _ ( ) + , - (at most 128)"
        )
    if not version or not set(version) <= FILE_NAME_CHARACTERS - set("(),+") or len(version) > 64:
        raise FirmwareRefused(f"version {version!r}: letters, digits, . _ - only (at most 64)")


def _file_options(command: Any) -> Any:
    for option in reversed(
        (
            click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
            click.option("--vendor", required=True, help="yealink, polycom, snom, grandstream..."),
            click.option(
                "--model", "models", multiple=True, required=True, help="repeat for each model"
            ),
            click.option("--version", required=True, help="the version the image installs"),
        )
    ):
        command = option(command)
    return command


@firmware_group.command("sign")
@_file_options
@click.option("--key", "key_file", required=True, type=click.Path(exists=True, path_type=Path))
@reports_errors
def sign_command(
    file: Path, vendor: str, models: tuple[str, ...], version: str, key_file: Path
) -> None:
    """Print the signature of FILE for `add --signature` (sign where the key lives)."""
    from provisioner.firmware.catalogue import hash_stream
    from provisioner.firmware.signing import Statement, load_private_key, sign

    _check_names(file, version)
    checked = _checked_models(vendor, models)
    with file.open("rb") as stream:
        size, sha256 = hash_stream(stream)
    statement = Statement(vendor, checked, version, file.name, size, sha256)
    click.echo(sign(load_private_key(key_file.read_bytes()), statement))


@firmware_group.command("add")
@_file_options
@click.option("--sign-with", "key_file", type=click.Path(exists=True, path_type=Path))
@click.option("--signature", default=None, help="base64 signature, or a file holding it")
@with_app
@reports_errors
def add_command(
    file: Path,
    vendor: str,
    models: tuple[str, ...],
    version: str,
    key_file: Path | None,
    signature: str | None,
) -> None:
    """Add FILE to the catalogue once its signature verifies against FIRMWARE_TRUSTED_KEYS."""
    from provisioner.firmware import app_trusted_keys, catalogue_directory
    from provisioner.firmware.signing import load_private_key
    from provisioner.firmware.verification import NewFirmware, add
    from provisioner.security import audit

    _check_names(file, version)
    if signature and Path(signature).is_file():
        signature = Path(signature).read_text().strip()
    new = NewFirmware(
        source=file,
        vendor=vendor,
        models=_checked_models(vendor, models),
        version=version,
        added_by=cli_actor(),
        added_at=datetime.now(UTC).isoformat(timespec="seconds"),
        signature=signature,
        signing_key=load_private_key(key_file.read_bytes()) if key_file else None,
    )
    app = command_app()
    entry = add(catalogue_directory(app), new, app_trusted_keys(app))
    with get_store().transaction() as session:
        audit.record(
            session, cli_actor(), "add", "firmware", entry.identifier, None, entry.as_json()
        )
    click.echo(f"added {entry.identifier} {vendor} {version} ({entry.file_name}, {entry.size} B)")


@firmware_group.command("list")
@with_app
def list_command() -> None:
    """Show every image: id, vendor, models, version, file, size."""
    from provisioner.firmware import catalogue_directory
    from provisioner.firmware.catalogue import read_manifest

    click.echo("ID\tVENDOR\tMODELS\tVERSION\tFILE\tSIZE\tSIGNED BY")
    for entry in read_manifest(catalogue_directory(command_app())):
        models = ",".join(entry.models)
        click.echo(
            f"{entry.identifier}\t{entry.vendor}\t{models}\t{entry.version}\t"
            f"{entry.file_name}\t{entry.size}\t{entry.signed_by}"
        )


@firmware_group.command("verify")
@with_app
def verify_command() -> None:
    """Hash every image now and check its signature; exit 1 when one fails."""
    from provisioner.firmware import app_trusted_keys, catalogue_directory
    from provisioner.firmware.catalogue import read_manifest
    from provisioner.firmware.verification import full_check

    directory, keys = catalogue_directory(command_app()), app_trusted_keys(command_app())
    failed = 0
    for entry in read_manifest(directory):
        problem = full_check(directory, entry, keys)
        failed += problem is not None
        click.echo(f"{entry.identifier}\t{entry.file_name}\t{problem or 'ok'}")
    if failed:
        click.echo(f"{failed} image(s) will not be served; add them again", err=True)
        sys.exit(1)


@firmware_group.command("remove")
@click.argument("name")
@with_app
@reports_errors
def remove_command(name: str) -> None:
    """Remove the image NAME (its id or file name) and its file (not while a rollout wants it)."""
    from provisioner.firmware import catalogue_directory
    from provisioner.firmware import rollout as rollouts
    from provisioner.firmware.catalogue import find, read_manifest, remove
    from provisioner.security import audit

    directory = catalogue_directory(command_app())
    with get_store().reading() as session:
        wanting = rollouts.rollouts_wanting(session, find(read_manifest(directory), name))
    if wanting:
        ids = ", ".join(str(rollout_id) for rollout_id in wanting)
        raise FirmwareRefused(f"rollout(s) {ids} still send phones to it; start a newer one first")
    entry = remove(directory, name)
    with get_store().transaction() as session:
        audit.record(session, cli_actor(), "remove", "firmware", entry.identifier, None, {})
    click.echo(f"removed {entry.identifier} ({entry.relative_path})")


@firmware_group.group("rollout")
def rollout_group() -> None:
    """Target versions per tenant (or site) and model, staged."""


def _show(session: Any, row: Any) -> None:
    from provisioner.firmware.rollout import rollout_json

    data = rollout_json(session, row)
    counts = data["counts"]
    where = f" site {data['site']}" if data["site"] else ""
    click.echo(
        f"rollout {data['id']}: {data['tenant']}{where} {data['vendor']} {data['model']} -> "
        f"{data['version']} ({data['state']}, {data['percentage']}% + "
        f"{len(data['canary'])} canary); targeted {counts['targeted']}, upgraded "
        f"{counts['upgraded']}, pending {counts['pending']}, failed {counts['failed']}"
    )


@rollout_group.command("start")
@click.argument("tenant")
@click.option("--vendor", required=True)
@click.option("--model", required=True)
@click.option("--version", required=True)
@click.option("--site", default="", help="one site only [every site]")
@click.option("--percentage", type=click.IntRange(0, 100), default=0)
@click.option("--canary", multiple=True, help="a MAC that gets it first; repeat")
@click.option("--rollback-to", "rollback_version", default=None)
@with_app
@reports_errors
def rollout_start(
    tenant: str,
    vendor: str,
    model: str,
    version: str,
    site: str,
    percentage: int,
    canary: tuple[str, ...],
    rollback_version: str | None,
) -> None:
    """Start a rollout for TENANT (it supersedes the one for the same site and model)."""
    from provisioner.firmware import catalogue_directory
    from provisioner.firmware import rollout as rollouts
    from provisioner.firmware.catalogue import read_manifest

    wanted = rollouts.RolloutRequest(
        tenant, vendor, model, version, site, percentage, canary, rollback_version
    )
    entries = read_manifest(catalogue_directory(command_app()))
    with get_store().transaction() as session:
        _show(session, rollouts.start(session, wanted, entries, cli_actor()))


@rollout_group.command("widen")
@click.argument("rollout_id", type=int)
@click.option("--percentage", type=click.IntRange(0, 100), default=None)
@click.option("--canary", multiple=True, help="a MAC to add; repeat")
@with_app
@reports_errors
def rollout_widen(rollout_id: int, percentage: int | None, canary: tuple[str, ...]) -> None:
    """Change a rollout's share or add canary phones."""
    from provisioner.firmware import rollout as rollouts

    if percentage is None and not canary:
        raise ValidationFailed([FieldProblem("", "give --percentage N or --canary MAC")])
    with get_store().transaction() as session:
        _show(session, rollouts.widen(session, rollout_id, cli_actor(), percentage, canary))


@rollout_group.command("rollback")
@click.argument("rollout_id", type=int)
@with_app
@reports_errors
def rollout_rollback(rollout_id: int) -> None:
    """Send the rollout's phones to its rollback version (or stop pointing them anywhere)."""
    from provisioner.firmware import rollout as rollouts

    with get_store().transaction() as session:
        _show(session, rollouts.roll_back(session, rollout_id, cli_actor()))


@rollout_group.command("show")
@click.argument("rollout_id", type=int)
@with_app
@reports_errors
def rollout_show(rollout_id: int) -> None:
    """One rollout with its counts."""
    from provisioner.firmware import rollout as rollouts

    with get_store().reading() as session:
        _show(session, rollouts.find_rollout(session, rollout_id))


@rollout_group.command("list")
@click.argument("tenant", required=False)
@with_app
@reports_errors
def rollout_list(tenant: str | None) -> None:
    """Every rollout (of TENANT), newest first."""
    from provisioner.firmware import rollout as rollouts

    with get_store().reading() as session:
        rows = rollouts.rollouts(session, tenant)
        for row in rows:
            _show(session, row)
    if not rows:
        click.echo(f"no rollout{f' for {tenant}' if tenant else ''} yet")


COMMANDS: tuple[Any, ...] = (firmware_group,)
