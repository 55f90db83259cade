"""What the command manages, listed: tenants, phones (with their last request, in the tenant's
time zone), discovered devices; and the start-up path that lists commands without an app."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from provisioner import create_app
from provisioner.pairing import service
from provisioner.phones.model import RequestInfo
from provisioner.phones.render import render_for_path
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store

PROJECT = Path(__file__).resolve().parent.parent


def test_tenants_list_names_each_tenant_with_its_counts(demo_app: Flask) -> None:
    result = demo_app.test_cli_runner().invoke(args=["tenants", "list"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "TENANT\tNAME\tEXTENSIONS\tPHONES",
        "demo\tDemo Telecom B.V.\t4\t1",
    ]


def test_phones_list_shows_lines_pairing_and_the_last_request(demo_app: Flask) -> None:
    with get_store(demo_app).transaction() as session:
        service.pair(session, get_secret_box(demo_app), "demo", "805ec0aa0001", "241", "t", 30)
    agent = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:aa:00:01"
    with demo_app.app_context():
        render_for_path(demo_app, RequestInfo("805ec0aa0001.cfg", "127.0.0.1", "http", agent))
    result = demo_app.test_cli_runner().invoke(args=["phones", "list", "demo"])
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header == "TENANT\tMAC\tVENDOR\tMODEL\tLINES\tPAIRED\tLAST REQUEST"
    assert rows[0] == "demo\t805ec0123456\tyealink\tT46U\t240\tno\tnever"
    assert rows[1].startswith("demo\t805ec0aa0001\tyealink\t-\t241\tyes\t20")
    # In Europe/Amsterdam, the tenant's zone, with what the request got.
    assert rows[1].endswith(("CET full-first-use", "CEST full-first-use"))
    missing = demo_app.test_cli_runner().invoke(args=["phones", "list", "nosuch"])
    assert missing.exit_code == 1 and "no tenant 'nosuch'" in missing.output


def test_discovered_list_shows_phones_no_tenant_has(demo_app: Flask) -> None:
    agent = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:bb:00:09"
    with demo_app.app_context():
        render_for_path(demo_app, RequestInfo("805ec0bb0009.cfg", "127.0.0.2", "http", agent))
    result = demo_app.test_cli_runner().invoke(args=["discovered", "list"])
    assert result.exit_code == 0, result.output
    header, row = result.output.splitlines()
    assert header == "MAC\tLAST REQUEST\tSOURCE\tFILE\tUSER AGENT"
    assert (
        row.startswith("805ec0bb0009\t20")
        and " UTC\t" in row
        and row.endswith(f"\t127.0.0.2\t805ec0bb0009.cfg\t{agent}")
    )


def test_help_lists_every_command_without_touching_the_store(tmp_path: Path) -> None:
    """`--help` builds no app: no instance folder, no database, no migration."""
    instance = tmp_path / "instance"
    environment = {**os.environ, "PROVISIONER_INSTANCE": str(instance), "PYTHONPATH": str(PROJECT)}
    result = subprocess.run(
        [sys.executable, "-m", "provisioner", "--help"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for command in ("serve", "import", "tenants", "phones", "discovered", "pair", "diagnose"):
        assert f"  {command} " in result.stdout, command
    assert not instance.exists()


# What a command that only reads and prints must not load: Flask, Werkzeug and Jinja (the
# console runs it on provisioner.app_core's CommandLineApp), the HTTP side (blueprints,
# waitress, rate limits, the timeline's batch writer), SNMP, the tenant document's schema and
# validation (pydantic models, phone numbers, holidays), cryptography (no secret is opened),
# the vendor modules (lxml) and Alembic (the schema is current). Each is a share of start-up
# time (bench/cli_startup.py).
NOT_FOR_LISTING = (
    "flask",
    "werkzeug",
    "jinja2",
    "itsdangerous",
    "provisioner.http",
    "provisioner.security.ratelimit",
    "provisioner.pairing.timeline_writer",
    "waitress",
    "pysnmp",
    "provisioner.tenants.schema",
    "provisioner.tenants.validation",
    "pydantic",
    "phonenumbers",
    "holidays",
    "cryptography",
    "provisioner.phones.vendors",
    "lxml",
    "alembic",
)
LOADED_MODULES = """
import contextlib, io, sys
from provisioner.cli import main
sys.argv = ["provisioner", *sys.argv[1:]]
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main()
    except SystemExit as exit:
        assert not exit.code, exit.code
print("\\n".join(sorted(sys.modules)))
"""


LIST_COMMANDS = (
    "tenants list",
    "phones list",
    "discovered list",
    "token list",
    "network list",
    "firmware list",
    "firmware rollout list",
    "audit prune",
    "diagnose 805ec0123456",
)
# The model modules (provisioner.store.models) each command may map; mapping the others was
# part of every command's start-up.
TABLES_READ = {
    "tenants list": {"base", "tenants"},
    "token list": {"base", "security"},
}


@pytest.mark.parametrize("command", LIST_COMMANDS)
def test_list_commands_load_neither_flask_nor_the_http_side_nor_snmp_nor_the_schema(
    tmp_path: Path, command: str
) -> None:
    environment = {
        **os.environ,
        "PROVISIONER_INSTANCE": str(tmp_path / "instance"),
        "PYTHONPATH": str(PROJECT),
    }
    subprocess.run(  # the first start migrates the new database (that loads Alembic)
        [sys.executable, "-m", "provisioner", "db", "upgrade"],
        env=environment,
        timeout=60,
        check=True,
        capture_output=True,
    )
    result = subprocess.run(
        [sys.executable, "-c", LOADED_MODULES, *command.split()],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.split()
    assert "provisioner.store" in loaded  # it did run the command
    assert [name for name in loaded if name.startswith(NOT_FOR_LISTING)] == []
    if command in TABLES_READ:
        prefix = "provisioner.store.models."
        tables = {name.removeprefix(prefix) for name in loaded if name.startswith(prefix)}
        assert tables == TABLES_READ[command]


def test_the_console_prints_what_the_flask_cli_prints(tmp_path: Path) -> None:
    """The console's commands run without Flask; `flask --app provisioner` and the tests' runner
    run the same commands on create_app's Flask app: same output, same exit status."""
    instance = tmp_path / "instance"
    environment = {**os.environ, "PROVISIONER_INSTANCE": str(instance), "PYTHONPATH": str(PROJECT)}

    def console(*words: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "provisioner", *words],
            capture_output=True,
            text=True,
            env=environment,
            timeout=60,
            check=False,
        )

    assert console("import", str(PROJECT / "examples" / "demo.yaml"), "--yes").returncode == 0
    app = create_app(instance_path=str(instance), http=False)
    runner = app.test_cli_runner()
    for command in (*LIST_COMMANDS, "phones list nosuch", "export nosuch"):
        printed = console(*command.split())
        flask_result = runner.invoke(args=command.split())
        assert printed.stdout == flask_result.stdout, command
        assert printed.stderr == flask_result.stderr, command
        assert printed.returncode == flask_result.exit_code, command
    get_store(app).dispose()
