"""What an import or a document PUT will change, shown before it does: `import --dry-run`, the
confirmation before removals (`--yes`), and the API's `dry_run` and `confirm_removals`."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from provisioner.store import get_store, models
from tests.conftest import DEMO_FILE
from tests.phones.conftest import sip_password


def renamed_demo(tmp_path: Path) -> Path:
    """The demo with extension 243 renamed to 249 (its stored sounds are found by name)."""
    text = DEMO_FILE.read_text(encoding="utf-8").replace('number: "243"', 'number: "249"')
    assert '"249"' in text
    path = tmp_path / "demo.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def stored_state(app: Flask) -> tuple[list[str], int]:
    """The extensions and the number of audit events: what an import would change."""
    with get_store(app).reading() as session:
        numbers = list(session.scalars(select(models.Extension.number).order_by("number")))
        return numbers, session.scalar(select(func.count(models.AuditEvent.id))) or 0


def test_dry_run_names_the_removal_and_changes_nothing(demo_app: Flask, tmp_path: Path) -> None:
    before = stored_state(demo_app)
    result = demo_app.test_cli_runner().invoke(
        args=["import", str(renamed_demo(tmp_path)), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "extensions: added 249; removed 243" in result.output
    assert "SIP passwords to generate: 249" in result.output
    assert "dry run: nothing was changed" in result.output
    assert stored_state(demo_app) == before


def test_removals_wait_for_a_yes(demo_app: Flask, tmp_path: Path) -> None:
    path = str(renamed_demo(tmp_path))
    before = stored_state(demo_app)
    runner = demo_app.test_cli_runner()
    declined = runner.invoke(args=["import", path], input="n\n")
    assert declined.exit_code == 1 and "removed 243" in declined.output
    assert "nothing was changed" in declined.output and stored_state(demo_app) == before
    accepted = runner.invoke(args=["import", path], input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert stored_state(demo_app)[0] == ["240", "241", "242", "249"]


def test_yes_imports_without_asking_and_an_unchanged_file_asks_nothing(
    demo_app: Flask, tmp_path: Path
) -> None:
    runner = demo_app.test_cli_runner()
    same = runner.invoke(args=["import", str(DEMO_FILE)])
    assert same.exit_code == 0 and "no changes" in same.output
    result = runner.invoke(args=["import", str(renamed_demo(tmp_path)), "--yes"])
    assert result.exit_code == 0, result.output
    assert stored_state(demo_app)[0] == ["240", "241", "242", "249"]


def test_phones_whose_lines_change_are_named(demo_app: Flask, tmp_path: Path) -> None:
    text = DEMO_FILE.read_text(encoding="utf-8").replace('lines: ["240"]', 'lines: ["241"]')
    path = tmp_path / "demo.yaml"
    path.write_text(text, encoding="utf-8")
    result = demo_app.test_cli_runner().invoke(args=["import", str(path), "--dry-run"])
    assert "phones whose lines change: 805ec0123456 (240 -> 241)" in result.output, result.output


def document_put(client: FlaskClient, headers: dict[str, str], query: str, path: Path) -> object:
    return client.put(
        f"/api/v1/tenants/demo/document{query}",
        data=path.read_bytes(),
        headers={**headers, "Content-Type": "application/yaml"},
    )


def test_api_dry_run_and_confirmed_removals(
    client: FlaskClient, demo_app: Flask, admin_headers: dict[str, str], tmp_path: Path
) -> None:
    path = renamed_demo(tmp_path)
    password = sip_password(demo_app, "243")  # (reading it is an audit event itself)
    before = stored_state(demo_app)

    planned = document_put(client, admin_headers, "?dry_run=true", path)
    assert planned.status_code == 200, planned.json
    assert planned.json["dry_run"] is True
    assert planned.json["changes"]["removed"] == {"extensions": ["243"]}
    assert planned.json["changes"]["generated_secrets"] == ["extensions 249: sip_password"]
    assert stored_state(demo_app) == before

    refused = document_put(client, admin_headers, "", path)
    assert refused.status_code == 409
    assert "243" in refused.json["error"]["message"]
    assert "confirm_removals=true" in refused.json["error"]["message"]
    assert stored_state(demo_app) == before and sip_password(demo_app, "243") == password

    saved = document_put(client, admin_headers, "?confirm_removals=true", path)
    assert saved.status_code == 200, saved.json
    assert saved.json["changes"]["removed"] == {"extensions": ["243"]}
    assert stored_state(demo_app)[0] == ["240", "241", "242", "249"]
