"""The `provisioner` command: serve on a real socket, tokens, audit pruning, error messages."""

from __future__ import annotations

import os
import re
import socket
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
    created = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00 UTC"
    assert re.search(rf"^marc\ttechnician\tlive\t{created}\tdemo$", listed, re.MULTILINE)
    answer = demo_app.test_client().get(
        "/api/v1/tenants/demo", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200


def test_unknown_role_is_refused_with_the_choices(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["token", "create", "--role", "root"])
    assert result.exit_code == 2
    assert "admin" in result.output and "support" in result.output


def test_export_of_an_unknown_tenant_says_what_to_do_on_the_command_line(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["export", "nobody"])
    assert result.exit_code == 1
    assert result.output == "Error: no tenant 'nobody'; list them with `provisioner tenants list`\n"


def test_the_api_says_how_to_list_tenants_with_the_api(app: Flask) -> None:
    from tests.conftest import token_for

    headers = {"Authorization": f"Bearer {token_for(app, 'admin')}"}
    answer = app.test_client().get("/api/v1/tenants/nobody", headers=headers)
    assert answer.status_code == 404
    message = answer.get_json()["error"]["message"]
    assert message == "no tenant 'nobody'; list them with GET /api/v1/tenants"


def test_a_live_token_name_is_taken_once(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["token", "create", "--role", "admin", "--name", "ops"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["token", "create", "--role", "support", "--name", "ops"])
    assert second.exit_code == 1
    assert "a live token is named 'ops' already" in second.output
    revoked = runner.invoke(args=["token", "revoke", "ops"])
    assert "revoked 1 token(s) named ops" in revoked.output
    again = runner.invoke(args=["token", "create", "--role", "support", "--name", "ops"])
    assert again.exit_code == 0, again.output


def test_unnamed_tokens_get_the_next_free_name(app: Flask) -> None:
    runner = app.test_cli_runner()
    for _ in range(3):
        assert runner.invoke(args=["token", "create", "--role", "admin"]).exit_code == 0
    listed = runner.invoke(args=["token", "list"]).output.splitlines()
    assert listed[0] == "NAME\tROLE\tSTATE\tCREATED\tTENANTS"
    names = [line.split("\t")[0] for line in listed[1:]]
    assert names == ["admin-token", "admin-token-2", "admin-token-3"]


EMPTY_LISTS: list[tuple[list[str], str]] = [
    (["token", "list"], "NAME\tROLE\tSTATE\tCREATED\tTENANTS"),
    (["tenants", "list"], "TENANT\tNAME\tEXTENSIONS\tPHONES"),
    (["phones", "list"], "TENANT\tMAC\tVENDOR\tMODEL\tLINES\tPAIRED\tLAST REQUEST"),
    (["discovered", "list"], "MAC\tLAST REQUEST\tSOURCE\tFILE\tUSER AGENT"),
    (["network", "list"], "DEVICE\tROLE\tADDRESS\tSNMP\tSITE\tSTATUS"),
    (["firmware", "list"], "ID\tVENDOR\tMODELS\tVERSION\tFILE\tSIZE\tSIGNED BY"),
    (["firmware", "rollout", "list"], "no rollout yet"),
]


@pytest.mark.parametrize(
    ("arguments", "header"), EMPTY_LISTS, ids=[" ".join(words) for words, _ in EMPTY_LISTS]
)
def test_an_empty_list_still_prints_its_header(
    app: Flask, arguments: list[str], header: str
) -> None:
    result = app.test_cli_runner().invoke(args=arguments)
    assert result.exit_code == 0, result.output
    assert result.output == f"{header}\n"


def test_the_readmes_network_add_example_works(demo_app: Flask) -> None:
    from tests.conftest import PROJECT

    (line,) = [
        text
        for text in (PROJECT / "README.md").read_text().splitlines()
        if text.startswith("provisioner network add ")
    ]
    words = line.split("#")[0].split()[1:]
    values = {"TENANT": "demo", "NAME": "sw1", "COMMUNITY": "s3cret-community"}
    result = demo_app.test_cli_runner().invoke(args=[values.get(word, word) for word in words])
    assert result.exit_code == 0, result.output
    assert result.output == "added switch demo/sw1 at 192.0.2.2:161\n"


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


def run_serve(tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """`provisioner serve OPTIONS` expected to stop by itself (bounded: it must not serve)."""
    environment = {**os.environ, "PROVISIONER_INSTANCE": str(tmp_path / "instance")}
    return subprocess.run(
        [sys.executable, "-m", "provisioner", "serve", *options],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


def test_serve_on_a_busy_port_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run_serve(tmp_path, "--http", f"127.0.0.1:{port}", "--quiet")
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: HTTP cannot listen on 127.0.0.1:{port}: Address already in use; another "
        "server holds it: stop it or choose --http HOST:PORT\n"
    )
    assert result.stdout == ""  # stopped before loading the demo tenant or starting anything


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "give HOST:PORT"),
        ("0.0.0.0:99999", "give HOST:PORT"),
        ("::1", "put an IPv6 address in brackets"),
    ],
)
def test_serve_refuses_an_address_without_a_port(tmp_path: Path, address: str, reason: str) -> None:
    result = run_serve(tmp_path, "--http", address)
    assert result.returncode == 2
    assert f"Invalid value for '--http': {address!r}: {reason}" in result.stderr
    assert "Traceback" not in result.stderr


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
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00 UTC 127\.0\.0\.1 GET /p/805ec0123456\.cfg 200 "
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
