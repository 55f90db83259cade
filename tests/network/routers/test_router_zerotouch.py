"""Routers fetching their own configuration (HTTP per vendor, Cisco autoinstall over TFTP),
guarded by the router's secret or a one-time window; each delivery audited, on the router's
timeline, and enrolling the router in the SNMP inventory, where the poller reaches it."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from provisioner.cli import start_tftp
from provisioner.network.poller import run_poll_once
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store, models
from provisioner.tenants.repository import find_tenant, load_document, save_document
from tests.conftest import import_demo, make_app, token_for
from tests.network.agents import Snmpd, free_udp_port
from tests.network.routers.readers import read_ios, read_routeros
from tests.phones.test_tftp import curl_tftp

SERIAL = "HE7A1B2C3D4"
ROUTER = "/api/v1/tenants/demo/routers/kantoor-gw"


def bearer(app: Flask, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(app, role)}"}


def fetch_secret(app: Flask) -> str:
    with get_store(app).reading() as session:
        row = session.scalar(select(models.Router).where(models.Router.serial == SERIAL))
        assert row is not None
        return get_secret_box(app).decrypt(row.fetch_secret_encrypted)


def change_router(app: Flask, **changes: Any) -> None:
    with get_store(app).transaction() as session:
        box = get_secret_box(app)
        document = load_document(session, find_tenant(session, "demo"), box)
        routers = [document.routers[0].model_copy(update=changes)]
        save_document(session, document.model_copy(update={"routers": routers}), "test", box)


def audit_rows(app: Flask, action: str) -> list[models.AuditEvent]:
    with get_store(app).reading() as session:
        return list(
            session.scalars(
                select(models.AuditEvent)
                .where(
                    models.AuditEvent.action == action, models.AuditEvent.object_type == "routers"
                )
                .order_by(models.AuditEvent.id)
            )
        )


def test_the_demo_router_fetches_its_config_with_the_url_the_vlan_and_the_snmp_user(
    demo_app: Flask, client: FlaskClient
) -> None:
    bootstrap = client.get(f"{ROUTER}/bootstrap", headers=bearer(demo_app, "admin")).get_json()
    secret = fetch_secret(demo_app)
    assert bootstrap["url"] == f"http://localhost/z/{SERIAL}/{secret}/config.rsc"
    assert bootstrap["bootstrap"].startswith(f'/tool fetch url="{bootstrap["url"]}"')
    answer = client.get(
        f"/z/{SERIAL}/{secret}/config.rsc", environ_base={"REMOTE_ADDR": "198.51.100.7"}
    )
    assert answer.status_code == 200
    commands = {(c.path, c.verb): c for c in read_routeros(answer.get_data(as_text=True))}
    assert commands[("/interface vlan", "add")].arguments["vlan-id"] == "20"
    options = {
        c.arguments["code"]: c.arguments["value"]
        for c in read_routeros(answer.get_data(as_text=True))
        if c.path == "/ip dhcp-server option"
    }
    assert options["66"] == options["160"] == "'http://localhost/p/'"
    assert commands[("/snmp community", "add")].arguments["name"] == "provisioner"
    releases = audit_rows(demo_app, "release-secret")
    assert [row.changes["via"] for row in releases] == [
        "api bootstrap",
        "zerotouch http config.rsc",
    ]
    timeline = client.get(f"{ROUTER}/timeline", headers=bearer(demo_app, "support")).get_json()
    assert [(e["source"], e["file"], e["answer"]) for e in timeline["items"]] == [
        ("198.51.100.7", "config.rsc", "full")
    ]


def test_after_its_fetch_the_router_is_in_the_inventory_with_its_user(
    demo_app: Flask, client: FlaskClient
) -> None:
    client.get(
        f"/z/{SERIAL}/{fetch_secret(demo_app)}/config.rsc",
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    devices = client.get(
        "/api/v1/tenants/demo/network-devices", headers=bearer(demo_app, "support")
    ).get_json()["items"]
    [device] = [item for item in devices if item["name"] == "kantoor-gw"]
    assert (device["address"], device["snmp_version"], device["v3_user"]) == (
        "198.51.100.7", "3", "provisioner",
    )  # fmt: skip
    assert (device["vendor"], device["model"], device["serial"]) == ("mikrotik", "hEX-S", SERIAL)
    assert device["secrets_set"] == ["auth_key", "priv_key"]


def comparable(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted((k, v) for k, v in response.headers.items() if k.lower() != "date")
    return response.status_code, headers, response.get_data()


def test_a_guessed_serial_gets_the_same_answer_as_a_wrong_secret(
    demo_app: Flask, client: FlaskClient
) -> None:
    secret = fetch_secret(demo_app)
    wrong_secret = client.get(f"/z/{SERIAL}/{'x' * len(secret)}/config.rsc")
    guessed_serial = client.get(f"/z/HE7A1B2C3D5/{secret}/config.rsc")
    wrong_file = client.get(f"/z/{SERIAL}/{secret}/config.cfg")
    assert wrong_secret.status_code == 404
    assert comparable(wrong_secret) == comparable(guessed_serial) == comparable(wrong_file)
    timeline = client.get(f"{ROUTER}/timeline", headers=bearer(demo_app, "support")).get_json()
    assert [e["answer"] for e in timeline["items"]] == ["not found", "denied"]
    assert audit_rows(demo_app, "release-secret") == []


def test_secrets_stay_with_admins(demo_app: Flask, client: FlaskClient) -> None:
    technician = bearer(demo_app, "technician")
    assert client.get(f"{ROUTER}/bootstrap", headers=technician).status_code == 403
    assert client.get(f"{ROUTER}/config", headers=technician).status_code == 403
    config = client.get(f"{ROUTER}/config", headers=bearer(demo_app, "admin"))
    assert config.status_code == 200 and b"/snmp community add" in config.data
    assert [row.changes["via"] for row in audit_rows(demo_app, "release-secret")] == ["api config"]


def test_openwrt_fetches_its_first_boot_script(demo_app: Flask, client: FlaskClient) -> None:
    change_router(demo_app, vendor="openwrt")
    bootstrap = client.get(f"{ROUTER}/bootstrap", headers=bearer(demo_app, "admin")).get_json()
    assert bootstrap["url"].endswith("/uci-defaults.sh")
    answer = client.get(bootstrap["url"].removeprefix("http://localhost"))
    assert answer.status_code == 200 and answer.data.startswith(b"#!/bin/sh\n")
    preview = client.get(f"{ROUTER}/config", headers=bearer(demo_app, "admin"))
    assert preview.data == answer.data  # the admin sees the script the router runs


def openwrt_service(bootstrap: str, root: Path) -> str:
    """The fetch service the OpenWrt bootstrap installs, its paths moved under ``root``."""
    service = bootstrap.split("<<'PROVISIONER_SERVICE'\n", 1)[1].split("PROVISIONER_SERVICE\n")[0]
    return service.replace("/tmp/", f"{root}/").replace("/etc/init.d/", f"{root}/init.d/")


def run_service(root: Path, service: str, fetched_exit: int) -> int:
    """Run the service's fetch loop with stand-ins: wget fails twice, then hands out a script
    exiting ``fetched_exit``; sleep returns at once; the service file is in ``root``."""
    tools, init = root / "bin", root / "init.d"
    tools.mkdir(parents=True)
    init.mkdir()
    (init / "provisioner").write_text(service)
    (init / "provisioner").chmod(0o755)
    wget = (
        f'#!/bin/sh\necho x >> {root}/tries\n[ "$(wc -l < {root}/tries)" -ge 3 ] || exit 1\n'
        f'echo "exit {fetched_exit}" > "$3"\n'
    )
    for name, body in {"wget": wget, "sleep": "#!/bin/sh\n"}.items():
        (tools / name).write_text(body)
        (tools / name).chmod(0o755)
    program = service.split("start() {")[0] + "fetch_and_apply\n"
    ran = subprocess.run(
        ["sh", "-c", program], env={"PATH": f"{tools}:/usr/bin:/bin"}, timeout=30, check=False
    )
    return ran.returncode


def test_the_openwrt_bootstrap_fetches_after_the_network_and_retries(
    demo_app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    change_router(demo_app, vendor="openwrt")
    bootstrap = client.get(f"{ROUTER}/bootstrap", headers=bearer(demo_app, "admin")).get_json()
    text = bootstrap["bootstrap"]
    # Nothing is fetched from uci-defaults itself (it runs before the network is up) ...
    assert "wget" not in text.split("<<'PROVISIONER_SERVICE'")[0]
    service = openwrt_service(text, tmp_path / "applied")
    # ... but by a service started after network's START=20.
    assert "#!/bin/sh /etc/rc.common\nSTART=99\n" in text
    assert f"URL='{bootstrap['url']}'" in service.splitlines()
    assert run_service(tmp_path / "applied", service, fetched_exit=0) == 0
    assert (tmp_path / "applied" / "tries").read_text().count("x") == 3
    assert not (tmp_path / "applied" / "init.d" / "provisioner").exists()  # done: removed
    failed = openwrt_service(text, tmp_path / "failed")
    assert run_service(tmp_path / "failed", failed, fetched_exit=1) == 1
    assert (tmp_path / "failed" / "init.d" / "provisioner").exists()  # kept for the next boot


# OpenWrt's rc.common, reduced to what the bootstrap uses: source the init script, then run
# the action; ``enable`` links it into rc.d as S<START><name>, ``boot`` is ``start``.
RC_COMMON = """initscript=$1
action=$2
. "$initscript"
name=$(basename "$initscript")
rc_d="${initscript%/init.d/*}/rc.d"
case "$action" in
enable) ln -sf "../init.d/$name" "$rc_d/S${START}${name}" ;;
disable) rm -f "$rc_d/S${START}${name}" ;;
start | boot) start ;;
esac
"""


def test_the_openwrt_bootstrap_fetches_on_the_boot_that_installs_it(
    demo_app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    """procd lists /etc/rc.d/S* once, before S10boot runs uci-defaults: a service the
    bootstrap only enabled would wait for the next boot (pasted on a console: for a reboot),
    so the bootstrap starts it as well. Run here as uci-defaults runs it, on a boot whose
    rc.d list was taken before; the fetch must happen without a second boot."""
    change_router(demo_app, vendor="openwrt")
    bootstrap = client.get(f"{ROUTER}/bootstrap", headers=bearer(demo_app, "admin")).get_json()
    etc, tools = tmp_path / "etc", tmp_path / "bin"
    for folder in (etc / "init.d", etc / "rc.d", tmp_path / "tmp", tools):
        folder.mkdir(parents=True)
    (etc / "rc.common").write_text(RC_COMMON)
    stand_ins = {
        "wget": f'#!/bin/sh\necho "$4" >> {tmp_path}/fetched\necho "exit 0" > "$3"\n',
        "sleep": "#!/bin/sh\n",
    }
    for name, body in stand_ins.items():
        (tools / name).write_text(body)
        (tools / name).chmod(0o755)
    script = bootstrap["bootstrap"].replace("/tmp/provisioner", f"{tmp_path}/tmp/provisioner")
    script = script.replace("/etc/", f"{etc}/")
    listed_before = sorted((etc / "rc.d").iterdir())  # what procd runs on this boot
    ran = subprocess.run(
        ["sh", "-c", script], env={"PATH": f"{tools}:/usr/bin:/bin"}, timeout=30, check=False
    )
    assert ran.returncode == 0 and listed_before == []
    deadline = time.monotonic() + 20
    while (etc / "init.d" / "provisioner").exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # the service fetches in the background, then removes itself
    assert (tmp_path / "fetched").read_text().split() == [bootstrap["url"]]
    assert not (etc / "init.d" / "provisioner").exists()
    assert list((etc / "rc.d").iterdir()) == []  # applied: disabled for later boots


def test_cisco_autoinstall_over_tftp_is_served_once_inside_the_window(
    demo_app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    change_router(demo_app, vendor="cisco_ios")
    service, (host, port) = start_tftp(demo_app, "127.0.0.1:0")
    try:
        closed = curl_tftp(host, port, "kantoor-gw-confg", tmp_path / "a")
        opened = client.post(
            f"{ROUTER}/window", json={"minutes": 5}, headers=bearer(demo_app, "technician")
        )
        assert opened.status_code == 200
        first = curl_tftp(host, port, "kantoor-gw-confg", tmp_path / "b")
        again = curl_tftp(host, port, f"{SERIAL}-confg", tmp_path / "c")
        unknown = curl_tftp(host, port, "other-gw-confg", tmp_path / "d")
    finally:
        service.stop()
    assert closed is None and again is None and unknown is None
    assert first is not None
    assert "hostname kantoor-gw" in [line.text for line in read_ios(first.decode())]
    timeline = client.get(f"{ROUTER}/timeline", headers=bearer(demo_app, "support")).get_json()
    assert [(e["protocol"], e["answer"]) for e in timeline["items"]] == [
        ("tftp", "denied"), ("tftp", "full"), ("tftp", "denied"),
    ]  # fmt: skip


def snmp_user_line(config: str) -> str:
    """The net-snmp createUser line for the user the rendered RouterOS script creates."""
    [community] = [c for c in read_routeros(config) if c.path == "/snmp community"]
    arguments = community.arguments
    assert (arguments["authentication-protocol"], arguments["encryption-protocol"]) == (
        "SHA1",
        "AES",
    )
    return (
        f"createUser {arguments['name']} SHA {arguments['authentication-password']} "
        f"AES {arguments['encryption-password']}"
    )


@pytest.mark.timeout(60)
def test_the_enrolled_router_is_polled_with_the_user_its_config_created(
    demo_app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    agent = Snmpd(tmp_path / "snmpd", port=free_udp_port())
    change_router(demo_app, management_address="127.0.0.1", snmp_port=agent.port)
    config = client.get(f"/z/{SERIAL}/{fetch_secret(demo_app)}/config.rsc").get_data(as_text=True)
    agent.extra_config = [snmp_user_line(config), "rouser provisioner priv"]
    agent.start()
    try:
        with get_store(demo_app).transaction() as session:
            device = session.scalar(
                select(models.NetworkDevice).where(models.NetworkDevice.name == "kantoor-gw")
            )
            assert device is not None
            device.timeout, device.retries = 0.5, 3
        [result] = run_poll_once(demo_app, ["kantoor-gw"])
    finally:
        agent.stop()
    assert result.status == "up", result.reason
    with get_store(demo_app).reading() as session:
        state = session.get(models.NetworkDeviceState, device.id)
        assert state is not None and state.data["system"]["name"] == "provisioner-test-router"


def test_phones_misses_leave_the_router_its_own_limit_and_a_refused_fetch_is_on_its_timeline(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, PHONE_MISS_LIMIT=5, ZEROTOUCH_MISS_LIMIT=3)
    import_demo(app)
    client = app.test_client()
    office = {"REMOTE_ADDR": "198.51.100.9"}
    guesses = [client.get(f"/p/001565{index:06x}.cfg", environ_base=office) for index in range(8)]
    assert [answer.status_code for answer in guesses] == [200] * 5 + [429] * 3
    secret = fetch_secret(app)
    router = client.get(f"/z/{SERIAL}/{secret}/config.rsc", environ_base=office)
    assert router.status_code == 200  # the phones' limit is the phones' own
    for _ in range(3):
        assert (
            client.get(f"/z/{SERIAL}/{'x' * 20}/config.rsc", environ_base=office).status_code == 404
        )
    refused = client.get(f"/z/{SERIAL}/{secret}/config.rsc", environ_base=office)
    assert refused.status_code == 404  # the address used up the routers' misses
    assert client.get(f"/z/{SERIAL}/{secret}/config.rsc").status_code == 200  # not another's
    timeline = client.get(f"{ROUTER}/timeline", headers=bearer(app, "support")).get_json()
    answers = [(event["answer"], event["source"]) for event in timeline["items"]]
    assert answers == [
        ("full", "127.0.0.1"),
        ("throttled", "198.51.100.9"),
        ("denied", "198.51.100.9"),
        ("denied", "198.51.100.9"),
        ("denied", "198.51.100.9"),
        ("full", "198.51.100.9"),
    ]
    assert client.get("/p/001565000099.cfg", environ_base=office).status_code == 429
