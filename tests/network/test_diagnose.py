"""`diagnose` of a phone's MAC on the switch recording, over the CLI and the API."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from provisioner.network.diagnose import locate_mac, router_part
from provisioner.network.poller import run_poll_once
from provisioner.store import get_store
from provisioner.store.models import NetworkDevice, NetworkDeviceState
from tests.conftest import import_demo, make_app, token_for
from tests.network.agents import Snmpd, Snmpsim
from tests.network.conftest import add_device, v2c_device
from tests.network.recordings import (
    CISCO_DATA_VLAN,
    CISCO_PC,
    CISCO_PHONE,
    CISCO_VOICE_VLAN,
    DEMO_PHONE,
    PC_BEHIND_PHONE,
    POE_OVERLOADED_PHONE,
    POLY_PHONE,
    ROUTER_MAC,
)

SITE = "Kantoor Amsterdam"


@dataclass(frozen=True)
class PolledStore:
    """A SQLite store polled once, and the key its secrets were written with."""

    database: Path
    secrets_key: str


@pytest.fixture(scope="module")
def polled_store(tmp_path_factory: pytest.TempPathFactory, snmpsim_agent: Snmpsim) -> PolledStore:
    """The demo tenant with its phone switch (snmpsim) and site router (snmpd), polled once.

    Made once per module: each test gets its own copy (some add tables), without the cost of
    importing the demo and polling two agents again.
    """
    folder = tmp_path_factory.mktemp("polled")
    router = Snmpd(folder / "snmpd").start()
    try:
        app = make_app(folder)
        import_demo(app)
        add_device(app, **v2c_device("sw-kantoor", snmpsim_agent.port, "voip-switch", site=SITE))
        add_device(app, **v2c_device("rt-kantoor", router.port, role="router", site=SITE))
        results = run_poll_once(app)
        assert [result.status for result in results] == ["up", "up"], results
        get_store(app).dispose()
    finally:
        router.stop()
    return PolledStore(folder / "provisioner.sqlite3", str(app.config["SECRETS_KEY"]))


@pytest.fixture
def polled(tmp_path: Path, polled_store: PolledStore) -> Iterator[Flask]:
    """An app on this test's own copy of the polled store."""
    shutil.copyfile(polled_store.database, tmp_path / "provisioner.sqlite3")
    app = make_app(tmp_path, SECRETS_KEY=polled_store.secrets_key)
    yield app
    get_store(app).dispose()


def test_diagnose_names_the_port_its_poe_and_the_phones_model(polled: Flask) -> None:
    result = polled.test_cli_runner().invoke(args=["diagnose", DEMO_PHONE.upper()])
    assert result.exit_code == 0, result.output
    report = result.output
    assert "paired with tenant demo (yealink T46U), site Kantoor Amsterdam" in report
    assert "lines: 240 Marc" in report
    assert "switch sw-kantoor (site Kantoor Amsterdam), port Gi0/3 (ifIndex 103" in report
    assert "VLAN 20" in report
    assert "link up (admin up), 1000 Mb/s" in report
    assert "deliveringPower, class2, enabled" in report
    assert "model Yealink SIP-T46U, firmware 108.86.0.20" in report
    assert "voice VLAN 20, DSCP 46" in report
    assert "rt-kantoor is up, uptime 0d 00:00:" in report
    assert "no boot records" in report


def test_api_diagnose_as_json_for_support_only(polled: Flask) -> None:
    client = polled.test_client()
    support = {"Authorization": f"Bearer {token_for(polled, 'support')}"}
    technician = {"Authorization": f"Bearer {token_for(polled, 'technician')}"}
    response = client.get(f"/api/v1/diagnose/{POLY_PHONE}", headers=support)
    assert response.status_code == 200
    report = response.json
    assert report["phone"]["known"] is False  # the Poly is on the switch but not paired
    assert (report["location"]["port"], report["location"]["if_index"]) == ("Gi0/4", 104)
    assert report["poe"]["detection"] == "deliveringPower"
    assert report["poe"]["power_class"] == "class3"
    assert report["lldp"]["phone"]["med"]["model"] == "CCX 400"
    assert report["router"]["status"] == "up"
    assert client.get("/api/v1/diagnose/not-a-mac", headers=support).status_code == 404
    # A technician may diagnose a tenant's phone only, not any MAC a switch has seen.
    refused = client.get(f"/api/v1/diagnose/{POLY_PHONE}", headers=technician)
    assert refused.status_code == 403
    assert refused.json["error"]["message"] == (
        "A technician may diagnose only the phones of a tenant, and no tenant has this MAC. "
        "Pair it first, or ask support."
    )


def test_technicians_may_diagnose_the_phones_of_a_tenant(polled: Flask) -> None:
    client = polled.test_client()
    technician = {"Authorization": f"Bearer {token_for(polled, 'technician')}"}
    response = client.get("/api/v1/diagnose/80:5e:c0:12:34:56", headers=technician)
    assert response.status_code == 200, response.json
    assert response.json["phone"]["tenant"] == "demo"


def test_pc_behind_the_phone_is_on_the_same_port_with_the_phone_as_neighbour(
    polled: Flask,
) -> None:
    client = polled.test_client()
    support = {"Authorization": f"Bearer {token_for(polled, 'support')}"}
    report = client.get(f"/api/v1/diagnose/{PC_BEHIND_PHONE}", headers=support).json
    assert report["location"]["port"] == "Gi0/3"
    assert report["location"]["vlan"] == 10
    assert report["lldp"]["phone"]["sys_name"] == "SIP-T46U"


def test_a_mac_seen_only_behind_the_uplink_is_flagged(polled: Flask) -> None:
    support = {"Authorization": f"Bearer {token_for(polled, 'support')}"}
    report = polled.test_client().get(f"/api/v1/diagnose/{ROUTER_MAC}", headers=support).json
    assert report["location"]["port"] == "Gi0/8"
    assert report["location"]["uplink_suspected"] is True
    text_report = polled.test_cli_runner().invoke(args=["diagnose", ROUTER_MAC]).output
    assert "careful: 7 MACs on this port, it may be an uplink" in text_report


def test_missing_data_says_why(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    import_demo(app)
    add_device(app, **v2c_device("rt-kantoor", 161, role="router", site=SITE))
    report = app.test_cli_runner().invoke(args=["diagnose", DEMO_PHONE]).output
    assert "not found - no switch has been polled with a forwarding table yet" in report
    assert "Link:\n  unknown - the MAC was not found on a switch port" in report
    assert "PoE:\n  unknown - the MAC was not found on a switch port" in report
    assert "rt-kantoor: not polled yet" in report
    assert "Recent traps:\n  none received" in report


def test_boots_come_from_the_phones_timeline(polled: Flask) -> None:
    from datetime import UTC, datetime

    from provisioner.store.models import DeviceEvent

    with get_store(polled).transaction() as session:
        session.add(
            DeviceEvent(
                tenant_id=None,
                mac="805ec0123456",
                source="192.0.2.55",
                protocol="http",
                file="805ec0123456.cfg",
                user_agent="Yealink SIP-T46U",
                answer="full",
                at=datetime(2026, 11, 26, 7, 0, tzinfo=UTC),
            )
        )
    report = polled.test_cli_runner().invoke(args=["diagnose", DEMO_PHONE]).output
    # In the tenant's zone (Europe/Amsterdam), to the second; an event without a kind (recorded
    # before kinds were) shows its answer.
    assert "2026-11-26 08:00:00+01:00 CET http 805ec0123456.cfg from 192.0.2.55: full" in report


def test_real_hp_procurve_recording(tmp_path: Path, snmpsim_agent: Snmpsim) -> None:
    app = make_app(tmp_path)
    import_demo(app)
    add_device(app, **v2c_device("sw-hp", snmpsim_agent.port, "hpe-procurve"))
    [result] = run_poll_once(app)
    assert result.status == "up"
    support = {"Authorization": f"Bearer {token_for(app, 'support')}"}
    report = app.test_client().get("/api/v1/diagnose/00:50:56:88:01:24", headers=support).json
    assert (report["location"]["switch"], report["location"]["if_index"]) == ("sw-hp", 17)
    assert report["poe"] == {"why": "the switch reports no PoE (POWER-ETHERNET-MIB) table"}


def test_real_cisco_recording_maps_bridge_ports_to_if_indexes(
    tmp_path: Path, snmpsim_agent: Snmpsim
) -> None:
    app = make_app(tmp_path)
    import_demo(app)
    add_device(app, **v2c_device("sw-cisco", snmpsim_agent.port, "cisco-ios"))
    [result] = run_poll_once(app)
    assert result.status == "up", result.reason
    support = {"Authorization": f"Bearer {token_for(app, 'support')}"}
    report = app.test_client().get("/api/v1/diagnose/00:11:21:e7:f1:17", headers=support).json
    location = report["location"]
    # Bridge port 7 is ifIndex 10107 on this Catalyst: the port name comes from ifName.
    assert (location["bridge_port"], location["if_index"], location["port"]) == (
        7,
        10107,
        "Gi1/0/7",
    )
    assert report["link"]["oper_status"] == "up"


def test_diagnose_a_device_by_name(polled: Flask) -> None:
    result = polled.test_cli_runner().invoke(args=["diagnose", "demo/sw-kantoor"])
    assert result.exit_code == 0, result.output
    assert "switch demo/sw-kantoor" in result.output
    assert "Gi0/5: link up, errors {'in_errors': 1234" in result.output
    unknown = polled.test_cli_runner().invoke(args=["diagnose", "nothing-here"])
    assert unknown.exit_code == 1
    assert "use TENANT/NAME or a MAC" in unknown.output


def fdb_entry(mac: str, if_index: int, vlan: int) -> dict[str, object]:
    return {"mac": mac, "base_port": if_index, "if_index": if_index, "vlan": vlan, "fdb_id": vlan}


def switch(
    device_id: int, name: str, fdb: list[dict[str, object]], lldp: list[dict[str, object]]
) -> tuple[NetworkDevice, NetworkDeviceState]:
    device = NetworkDevice(id=device_id, name=name, role="switch", site=SITE)
    data = {"fdb": fdb, "lldp": lldp, "interfaces": []}
    return device, NetworkDeviceState(device_id=device_id, status="up", data=data)


def neighbour(if_index: int, chassis_id: str, **extra: object) -> dict[str, object]:
    return {"if_index": if_index, "chassis_id": chassis_id, "port_id": chassis_id, **extra}


def test_phone_also_learned_on_an_uplink_is_placed_on_its_access_port() -> None:
    # The core switch (polled first) learns the phone and the PC on its downlink to the access
    # switch: as many MACs as the access port. LLDP tells the ports apart.
    core = switch(
        1,
        "sw-core",
        [fdb_entry(DEMO_PHONE, 1, 20), fdb_entry(PC_BEHIND_PHONE, 1, 10)],
        [neighbour(1, "sw-access", capabilities=["bridge"])],
    )
    access = switch(
        2,
        "sw-access",
        [fdb_entry(DEMO_PHONE, 103, 20), fdb_entry(PC_BEHIND_PHONE, 103, 10)],
        [neighbour(103, DEMO_PHONE, capabilities=["bridge", "telephone"])],
    )
    location = locate_mac([core, access], DEMO_PHONE)
    assert (location["switch"], location["if_index"]) == ("sw-access", 103)
    assert location["also_seen_on"] == ["sw-core"]


def test_a_mac_in_several_vlans_counts_once_on_its_port() -> None:
    core = switch(1, "sw-core", [fdb_entry(DEMO_PHONE, 1, 20), fdb_entry(ROUTER_MAC, 1, 20)], [])
    access = switch(
        2, "sw-access", [fdb_entry(DEMO_PHONE, 103, 10), fdb_entry(DEMO_PHONE, 103, 20)], []
    )
    location = locate_mac([core, access], DEMO_PHONE)
    assert (location["switch"], location["if_index"]) == ("sw-access", 103)
    assert (location["macs_on_port"], location["vlans"]) == (1, [10, 20])


def router(device_id: int, name: str, site: str, tenant_id: int = 1) -> tuple[NetworkDevice, None]:
    return NetworkDevice(
        id=device_id, name=name, role="router", site=site, tenant_id=tenant_id
    ), None


def test_a_site_without_a_router_is_not_given_another_sites_router() -> None:
    devices = [router(1, "rt-amsterdam", SITE)]
    part = router_part(devices, "Kantoor Utrecht", tenant_id=1)
    assert "name" not in part
    assert "no router in the inventory for site Kantoor Utrecht" in part["why"]


def test_another_tenants_router_is_never_named() -> None:
    # An unpaired MAC is looked for on every tenant's switches; the router must be the switch's.
    devices = [router(1, "rt-other-tenant", SITE, tenant_id=2), router(2, "rt-demo", SITE)]
    assert router_part(devices, SITE, tenant_id=1)["name"] == "rt-demo"
    assert "name" not in router_part(devices[:1], SITE, tenant_id=1)


def test_without_a_site_only_the_tenants_single_router_is_named() -> None:
    one = [router(1, "rt-demo", SITE)]
    assert router_part(one, None, tenant_id=1)["name"] == "rt-demo"
    two = [*one, router(2, "rt-utrecht", "Kantoor Utrecht")]
    assert "name" not in router_part(two, None, tenant_id=1)


BDCOM_PHONE = "38:29:5a:53:80:37"  # learned on bridge port 2 of the BDCOM recording


def test_a_switch_answering_out_of_order_is_partial_and_its_macs_are_found(
    tmp_path: Path, snmpsim_agent: Snmpsim
) -> None:
    app = make_app(tmp_path)
    import_demo(app)
    add_device(app, **v2c_device("sw-bdcom", snmpsim_agent.port, "bdcom-s5612"))
    [result] = run_poll_once(app)
    assert (result.status, result.kind) == ("partial", "partial")
    assert result.reason.startswith(
        "forwarding table is incomplete: the agent returned OIDs out of order"
    )
    runner = app.test_cli_runner()
    found = runner.invoke(args=["diagnose", BDCOM_PHONE]).output
    assert "switch sw-bdcom (site -), port " in found
    assert "bridge port 2, VLAN 80" in found
    assert "switch is partial" in found
    missing = runner.invoke(args=["diagnose", "02:00:5e:00:00:99"]).output
    assert "not found - the MAC is in none of the forwarding tables of 1 polled switch(es)" in (
        missing
    )
    assert (
        "careful: switch sw-bdcom's forwarding table is incomplete: "
        "the agent returned OIDs out of order" in missing
    )
    device = runner.invoke(args=["diagnose", "demo/sw-bdcom"]).output
    assert "status: partial - forwarding table is incomplete" in device
    listed = runner.invoke(args=["network", "list"]).output
    assert "partial (forwarding table is incomplete" in listed


def test_a_phone_in_a_cisco_voice_vlan_is_found_from_that_vlans_table(
    tmp_path: Path, snmpsim_agent: Snmpsim
) -> None:
    app = make_app(tmp_path)
    import_demo(app)
    device_id = add_device(app, **v2c_device("sw-cisco", snmpsim_agent.port, "cisco-ios"))
    [result] = run_poll_once(app)
    assert result.status == "up", result.reason
    with get_store(app).reading() as session:
        state = session.get(NetworkDeviceState, device_id)
        assert state is not None
        vlans = {entry["vlan"] for entry in state.data["fdb"] if entry["source"] == "bridge-vlan"}
    assert vlans == {1, CISCO_DATA_VLAN, CISCO_VOICE_VLAN}  # 1002-1005 were not asked
    report = app.test_cli_runner().invoke(args=["diagnose", CISCO_PHONE]).output
    assert "switch sw-cisco (site -), port Gi1/0/3 (ifIndex 10103, bridge port 3, VLAN 100)" in (
        report
    )
    pc = app.test_cli_runner().invoke(args=["diagnose", CISCO_PC]).output
    assert "port Gi1/0/5 (ifIndex 10105, bridge port 5, VLAN 21)" in pc


def test_a_cisco_switch_refusing_its_vlan_communities_is_partial(
    tmp_path: Path, snmpsim_agent: Snmpsim
) -> None:
    # The full recording lists 278 VLANs, but snmpsim serves no cisco-c3750@<vlan>: as an IOS
    # switch whose VLAN communities a view or an ACL refuses, it stays silent.
    app = make_app(tmp_path)
    import_demo(app)
    add_device(app, **v2c_device("sw-cisco", snmpsim_agent.port, "cisco-c3750", retries=0))
    [result] = run_poll_once(app)
    assert result.status == "partial"
    assert result.reason.startswith(
        "forwarding table is incomplete: the agent refused or ignored community@1 (timeout: "
    )
    assert "VLAN(s) 1, 2, 21, 100, 105" in result.reason
    assert "1002" not in result.reason
    # What the default community showed (VLAN 1) is still there.
    report = app.test_cli_runner().invoke(args=["diagnose", "00:11:21:e7:f1:17"]).output
    assert "port Gi1/0/7" in report
    assert "careful: switch sw-cisco's forwarding table is incomplete" in report


def test_a_v3_cisco_switch_reads_each_vlan_in_its_context(
    tmp_path: Path, snmpsim_agent: Snmpsim
) -> None:
    app = make_app(tmp_path)
    import_demo(app)
    v3 = {
        "snmp_version": "3",
        "v3_user": "simulator",
        "auth_protocol": "SHA",
        "auth_key": "auctoritas",
        "priv_protocol": "AES",
        "priv_key": "privatus",
        "context": "cisco-ios",  # snmpsim's name for the switch; VLANs are vlan-<vlan>
    }
    fields = {**v2c_device("sw-cisco-v3", snmpsim_agent.port), **v3}
    del fields["community"]
    add_device(app, **fields)
    [result] = run_poll_once(app)
    assert result.status == "up", result.reason
    report = app.test_cli_runner().invoke(args=["diagnose", CISCO_PHONE]).output
    assert "port Gi1/0/3 (ifIndex 10103, bridge port 3, VLAN 100)" in report


def test_poe_faults_and_the_power_budget_are_shown_for_the_phones_port(
    tmp_path: Path, snmpsim_agent: Snmpsim
) -> None:
    app = make_app(tmp_path)
    import_demo(app)
    add_device(app, **v2c_device("sw-poe", snmpsim_agent.port, "poe-switch"))
    [result] = run_poll_once(app)
    assert result.status == "up", result.reason
    support = {"Authorization": f"Bearer {token_for(app, 'support')}"}
    api = app.test_client().get(f"/api/v1/diagnose/{POE_OVERLOADED_PHONE}", headers=support).json
    assert api["poe"]["detection"] == "fault"
    assert api["poe"]["faults"] == {"overload": 7}  # the zero counters are left out
    assert api["poe"]["supply"] == {
        "group": 1,
        "power_watts": 65,
        "status": "on",
        "consumption_watts": 52,
    }
    text = app.test_cli_runner().invoke(args=["diagnose", POE_OVERLOADED_PHONE]).output
    assert "fault, class4, enabled" in text
    assert "faults counted on this port: overload 7" in text
    assert "power supply 1 on: 52 of 65 W in use" in text


def test_boots_leave_out_the_digest_challenges_the_phone_answered(tmp_path: Path) -> None:
    """Every Digest boot is a challenge and then the answer: five boots, not two and a half."""
    from datetime import UTC, datetime, timedelta

    from provisioner.network.diagnose import BOOT_LIMIT, boot_records
    from provisioner.store.models import DeviceEvent

    app = make_app(tmp_path)
    start = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)

    def event(minute: int, kind: str, source: str = "192.0.2.55") -> DeviceEvent:
        return DeviceEvent(
            mac="805ec0123456",
            source=source,
            protocol="http",
            file="805ec0123456.cfg",
            answer="full" if kind == "full-credentials" else "denied",
            kind=kind,
            at=start + timedelta(minutes=minute),
        )

    with get_store(app).transaction() as session:
        for boot in range(6):  # six Digest boots, a challenge then the answer each
            session.add(event(boot * 10, "challenge"))
            session.flush()
            session.add(event(boot * 10, "full-credentials"))
            session.flush()
        session.add(event(70, "challenge", source="192.0.2.99"))  # never answered
    with get_store(app).reading() as session:
        kinds = [item["kind"] for item in boot_records(session, "805ec0123456")["events"]]
    assert len(kinds) == BOOT_LIMIT
    assert kinds == ["challenge", *["full-credentials"] * (BOOT_LIMIT - 1)]
    get_store(app).dispose()
