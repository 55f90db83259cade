"""CLI: `provisioner import FILE [--dry-run] [--yes]`, `provisioner export TENANT`,
`provisioner tenants list`. Domain modules are imported inside the commands, so `provisioner
--help` lists these without loading them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from provisioner.command_helpers import (
    cli_actor,
    command_app,
    get_secret_box,
    get_store,
    reports_errors,
    with_app,
)

if TYPE_CHECKING:
    from provisioner.tenants.changes import ChangeSummary
    from provisioner.tenants.schema import TenantDocument


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="show what would change, change nothing")
@click.option("--yes", is_flag=True, help="remove what the file no longer has without asking")
@with_app
@reports_errors
def import_command(file: Path, dry_run: bool, yes: bool) -> None:
    """Load a tenant from a YAML FILE, all or nothing (an invalid file changes nothing).

    Shows what will change first (added, changed, removed; phones whose lines change; secrets
    that will be generated) and asks before removing anything."""
    from provisioner.tenants.yaml_io import read_tenant_document

    # Read once: FILE may be a pipe (/dev/stdin, <(...)), which a second read finds empty.
    document = read_tenant_document(file, int(command_app().config["IMPORT_MAX_BYTES"]))
    planned = _import(document, file.parent, rehearse=True)
    for line in planned.as_text():
        click.echo(line)
    if dry_run:
        click.echo("dry run: nothing was changed")
        return
    if planned.is_empty:
        return
    if planned.has_removals and not yes and not _confirmed(f"Remove {planned.removals_text()}?"):
        click.echo("nothing was changed (give --yes to import without asking)", err=True)
        sys.exit(1)
    _import(document, file.parent, rehearse=False, expected=planned)
    click.echo(f"imported tenant {planned.tenant} from {file}")


def _import(
    document: TenantDocument,
    folder: Path,
    rehearse: bool,
    expected: ChangeSummary | None = None,
) -> ChangeSummary:
    """Import ``document`` (its sounds' files in ``folder``) and return its change summary; a
    rehearsal is rolled back. A real run that would differ from ``expected`` (someone changed
    the store meanwhile) is rolled back."""
    from provisioner.errors import Conflict
    from provisioner.tenants.service import replace_document
    from provisioner.tenants.yaml_io import import_sounds

    store = get_store()
    with store.rehearsal() if rehearse else store.transaction() as session:
        sounds = import_sounds(session, document, folder)
        summary = replace_document(session, get_secret_box(), document, cli_actor(), sounds)
        if expected is not None and summary != expected:
            raise Conflict("the store changed meanwhile; nothing was changed, run it again")
    return summary


def _confirmed(question: str) -> bool:
    """A yes from the operator; no answer (no terminal, end of input) is a no."""
    try:
        return click.confirm(question, default=False)
    except click.Abort:
        click.echo()
        return False


@click.command("export")
@click.argument("tenant")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="write TENANT.yaml and sounds/ into this folder instead of YAML to stdout",
)
@click.option("--include-secrets", is_flag=True, help="also export SIP passwords and PINs")
@with_app
@reports_errors
def export_command(tenant: str, output: Path | None, include_secrets: bool) -> None:
    """Write a tenant as YAML (re-importable with `provisioner import`)."""
    from provisioner.security import audit
    from provisioner.tenants.yaml_io import export_tenant, write_export

    with get_store().transaction() as session:
        text, sounds = export_tenant(session, tenant, get_secret_box(), include_secrets)
        if include_secrets:
            audit.record(
                session,
                cli_actor(),
                "release-secret",
                "tenant",
                tenant,
                tenant,
                {"fields": ["sip_password", "pin"], "via": "export"},
            )
    if output is None:
        click.echo(text, nl=False)
        return
    path = write_export(output, tenant, text, sounds)
    click.echo(f"exported tenant {tenant} to {path}", err=True)


@click.group("tenants")
def tenants_group() -> None:
    """The tenants in the store."""


@tenants_group.command("list")
@with_app
def tenants_list() -> None:
    """Every tenant: name, display name, how many extensions and phones."""
    from sqlalchemy import func, select

    from provisioner.store.models import Extension, Phone, Tenant

    def count(model: Any) -> Any:
        return select(func.count(model.id)).where(model.tenant_id == Tenant.id).scalar_subquery()

    query = select(Tenant.name, Tenant.display_name, count(Extension), count(Phone))
    with get_store().reading() as session:
        rows = session.execute(query.order_by(Tenant.name)).all()
    click.echo("TENANT\tNAME\tEXTENSIONS\tPHONES")
    for name, display_name, extensions, phones in rows:
        click.echo(f"{name}\t{display_name or '-'}\t{extensions}\t{phones}")


COMMANDS: tuple[Any, ...] = (import_command, export_command, tenants_group)
