"""The `provisioner` command: serve on a real socket, tokens, audit pruning, error messages."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from provisioner.security import audit
from provisioner.store import get_store
from provisioner.store.models import AuditEvent, utc_now
from tests.http.raw import SMUGGLING, exchange


def test_serve_loads_the_demo_on_an_empty_store_and_answers_http(tmp_path: Path) -> None:
    environment = {**os.environ, "PROVISIONER_INSTANCE": str(tmp_path / "instance")}
    server = subprocess.Popen(
        [sys.executable, "-m", "provisioner", "serve", "--http", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(2)]
        assert "loaded the demo tenant" in lines[0], lines
        address = re.search(r"http://(127\.0\.0\.1:\d+)/", lines[1])
        assert address, lines
        with urllib.request.urlopen(f"http://{address[1]}/healthz", timeout=10) as response:
            assert response.status == 200
        try:
            urllib.request.urlopen(f"http://{address[1]}/api/v1/tenants", timeout=10)
        except urllib.error.HTTPError as exc:
            assert exc.code == 401
        else:
            raise AssertionError("the API answered without a token")
        # Content-Length and Transfer-Encoding: chunked together are refused (RFC 9112 6.3),
        # and the request smuggled behind them is not answered.
        host, port = address[1].split(":")
        answer = exchange(host, int(port), SMUGGLING)
        assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
        assert answer.count(b"HTTP/1.1 ") == 1
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()


def test_token_create_prints_a_token_that_works(demo_app: Flask) -> None:
    result = demo_app.test_cli_runner().invoke(args=["token", "create", "--role", "support"])
    token = result.output.strip()
    assert token.startswith("prov_")
    response = demo_app.test_client().get(
        "/api/v1/tenants", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.get_json() == {"items": ["demo"]}
    revoked = demo_app.test_cli_runner().invoke(args=["token", "revoke", "support-token"])
    assert "revoked 1" in revoked.output
    response = demo_app.test_client().get(
        "/api/v1/tenants", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401


def test_token_create_limits_a_token_to_tenants_that_exist(demo_app: Flask) -> None:
    runner = demo_app.test_cli_runner()
    args = ["token", "create", "--role", "technician", "--name", "marc"]
    typo = runner.invoke(args=[*args, "--tenant", "deom"])
    assert typo.exit_code != 0 and "no tenant deom" in typo.output
    token = runner.invoke(args=[*args, "--tenant", "demo"]).output.strip()
    assert token.startswith("prov_")
    listed = runner.invoke(args=["token", "list"]).output
    assert re.search(r"^marc\ttechnician\tlive\tcreated \S+\tdemo$", listed, re.MULTILINE)
    answer = demo_app.test_client().get(
        "/api/v1/tenants/demo", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200


def test_unknown_role_is_refused_with_the_choices(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["token", "create", "--role", "root"])
    assert result.exit_code == 2
    assert "admin" in result.output and "support" in result.output


def test_export_of_an_unknown_tenant_says_what_to_do(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["export", "nobody"])
    assert result.exit_code == 1
    assert "no tenant 'nobody'" in result.output


def test_audit_prune_deletes_only_old_events(demo_app: Flask) -> None:
    store = get_store(demo_app)
    with store.transaction() as session:
        audit.record(session, "test", "update", "extensions", "240", "demo")
        session.flush()
        old = session.query(AuditEvent).order_by(AuditEvent.id.desc()).first()
        assert old is not None
        old.at = utc_now() - timedelta(days=400)
        total = session.query(AuditEvent).count()
    result = demo_app.test_cli_runner().invoke(args=["audit", "prune"])
    assert "deleted 1 audit event(s) older than 365 days" in result.output
    with store.reading() as session:
        assert session.query(AuditEvent).count() == total - 1


@pytest.mark.parametrize(("hops", "seen"), [(0, "127.0.0.1"), (1, "198.51.100.7")])
def test_client_address_comes_from_trusted_proxies_only(
    tmp_path: Path, hops: int, seen: str
) -> None:
    from tests.conftest import import_demo, make_app, token_for

    app = make_app(tmp_path, PROXY_HOPS=hops)
    import_demo(app)
    client = app.test_client()
    client.get(
        "/p/0015651234ab.cfg",
        headers={"X-Forwarded-For": "198.51.100.7", "User-Agent": "Yealink SIP-T46U 66.86.0.15"},
    )
    headers = {"Authorization": f"Bearer {token_for(app, 'admin')}"}
    items = client.get("/api/v1/discovered", headers=headers).get_json()["items"]
    assert [(item["mac"], item["source"]) for item in items] == [("0015651234ab", seen)]
    get_store(app).dispose()


def test_the_example_configuration_names_only_real_settings(tmp_path: Path) -> None:
    from provisioner.config import default_settings
    from tests.conftest import PROJECT

    example = PROJECT / "instance" / "config.example.py"
    settings: dict[str, object] = {}
    exec(compile(example.read_text(), str(example), "exec"), settings)  # noqa: S102 - our file
    named = {key for key in settings if key.isupper()}
    assert named, "the example sets nothing"
    assert named <= set(default_settings(str(tmp_path))) | {"SECRETS_KEY"}


def start_serving(tmp_path: Path, *options: str) -> tuple[subprocess.Popen[str], str]:
    """`provisioner serve` on an ephemeral loopback port; the process and its base URL."""
    environment = {**os.environ, "PROVISIONER_INSTANCE": str(tmp_path / "instance")}
    server = subprocess.Popen(
        [sys.executable, "-m", "provisioner", "serve", "--http", "127.0.0.1:0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )
    assert server.stdout is not None
    lines = [server.stdout.readline() for _ in range(2)]
    address = re.search(r"http://(127\.0\.0\.1:\d+)/", lines[1])
    assert address, lines
    return server, f"http://{address[1]}"


def stop_serving(server: subprocess.Popen[str]) -> str:
    """Stop the server; everything it wrote after the first two lines."""
    server.terminate()
    output, _ = server.communicate(timeout=10)
    return output


def test_serve_logs_one_line_per_request_with_the_phones_mac_and_answer(tmp_path: Path) -> None:
    server, url = start_serving(tmp_path)
    try:
        agent = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:12:34:56"
        request = urllib.request.Request(f"{url}/p/805ec0123456.cfg", headers={"User-Agent": agent})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        assert server.stdout is not None
        line = server.stdout.readline()
        for _ in range(5):  # waitress's own notices ("Task queue depth is 1") may come first
            if "GET /p/" in line:
                break
            line = server.stdout.readline()
    finally:
        stop_serving(server)
    # The demo's phone is not paired: it gets the bootstrap.
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d 127\.0\.0\.1 GET /p/805ec0123456\.cfg 200 "
        r"mac=805ec0123456 bootstrap \d+ ms\n",
        line,
    ), line


def test_serve_quiet_logs_no_requests(tmp_path: Path) -> None:
    server, url = start_serving(tmp_path, "--quiet")
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=10) as response:
            assert response.status == 200
    finally:
        output = stop_serving(server)
    assert "GET /healthz" not in output


def test_serve_logs_no_secret_a_path_carries(tmp_path: Path) -> None:
    """The zero-touch fetch secret in /z/<serial>/<secret>/<file> is redacted in the line."""
    server, url = start_serving(tmp_path)
    secret = "Zt0uch-s3cret-in-the-path"
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{url}/z/HE7A1B2C3D4/{secret}/autoconf.rsc", timeout=10)
        assert refused.value.code == 404
        refused.value.close()
    finally:
        output = stop_serving(server)
    assert "GET /z/HE7A1B2C3D4/[redacted]/autoconf.rsc 404" in output
    assert secret not in output
