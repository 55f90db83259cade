"""The ``routers`` part of the tenant document: validated like the rest, secrets generated and
encrypted at rest, exported only when asked, one serial per router across tenants."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from flask import Flask
from sqlalchemy import select

from provisioner.errors import ValidationFailed
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store, models
from provisioner.tenants.repository import find_tenant, load_document, save_document
from provisioner.tenants.validation import parse_document
from provisioner.tenants.yaml_io import export_tenant

SITE = {"name": "Kantoor"}


def tenant(*routers: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return {
        "name": "acme",
        "sip_domain": "acme.example.net",
        "sites": [SITE],
        "routers": list(routers),
        **settings,
    }


def router(**fields: Any) -> dict[str, Any]:
    return {
        "name": "gw",
        "site": "Kantoor",
        "vendor": "openwrt",
        "serial": "SN-0001",
        "voice_vlan": 20,
        "voice_network": "10.20.0.0/24",
        "snmp_allowed_from": "198.51.100.0/28",
        **fields,
    }


def problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_document(data)
    return {problem.path: problem.reason for problem in caught.value.problems}


def test_a_router_needs_a_known_site_a_voice_vlan_and_its_own_serial() -> None:
    found = problems(
        tenant(
            router(site="Elders"),
            router(name="gw2", voice_vlan=None, serial="SN-0001"),
        )
    )
    assert found["routers[0].site"] == "no site 'Elders' (sites: Kantoor)"
    assert found["routers[1].voice_vlan"] == "required when the tenant has no provisioning.vlan"
    assert found["routers[1].serial"] == "SN-0001 is listed twice in routers"


def test_a_router_needs_the_network_its_snmp_answers() -> None:
    found = problems(tenant(router(snmp_allowed_from=None)))
    assert found == {
        "routers[0].snmp_allowed_from": "required: the network our poller asks from (the "
        "router answers SNMP from there only), e.g. 198.51.100.0/28"
    }


def test_the_tenant_vlan_is_the_default() -> None:
    document = parse_document(tenant(router(voice_vlan=None), provisioning={"vlan": 30}))
    assert document.routers[0].voice_vlan is None


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("voice_network", "10.20.0.1/24", "is not an IPv4 network"),
        ("voice_network", "10.0.0.0/8", "use a network from /16 to /28"),
        ("vendor", "juniper", "Input should be 'mikrotik', 'openwrt' or 'cisco_ios'"),
        ("name", "Gw;reboot", "String should match pattern"),
        ("serial", "SN 1", "String should match pattern"),
        ("rtp_ports", "9-1", "is not a port range"),
        ("snmp_auth_key", "short", "String should match pattern"),
        ("management_address", "router.example", "is not an IPv4 address"),
        ("snmp_allowed_from", "198.51.100.1/28", "is not an IPv4 network"),
    ],
)
def test_bad_router_fields_are_named(field: str, value: str, reason: str) -> None:
    found = problems(tenant(router(**{field: value})))
    assert reason in found[f"routers[0].{field}"]


@pytest.mark.parametrize(
    ("vendor", "label", "site", "character"),
    [
        ("openwrt", "OpenWrt (uci)", 'Kantoor "Noord"', '"'),
        ("openwrt", "OpenWrt (uci)", "Kantoor\nNoord", "\n"),
        ("openwrt", "OpenWrt (uci)", "Kantoor, Noord", ","),
        ("mikrotik", "MikroTik RouterOS", "Kantoor $[reboot]", "$"),
        ("mikrotik", "MikroTik RouterOS", "Kantoor [Noord]", "["),
        ("cisco_ios", "Cisco IOS", "Kantoor Noord?", "?"),
        ("cisco_ios", "Cisco IOS", "Kantoor 'Noord'", "'"),
    ],
)
def test_a_site_name_a_router_config_cannot_hold_is_refused_at_import(
    vendor: str, label: str, site: str, character: str
) -> None:
    found = problems(tenant(router(site=site, vendor=vendor), sites=[{"name": site}]))
    assert found == {
        "routers[0].site": f"{site!r} contains {character!r}, which would break out of its "
        f"line in router gw's {label} configuration; remove it"
    }


def test_a_site_name_is_judged_by_its_router_platform() -> None:
    # A comma breaks only OpenWrt's DHCP option lists (dnsmasq splits on it).
    site = {"name": "Kantoor, Noord"}
    document = parse_document(tenant(router(site=site["name"], vendor="mikrotik"), sites=[site]))
    assert document.routers[0].site == "Kantoor, Noord"
    found = problems(
        tenant(
            router(site=site["name"], vendor="openwrt"),
            router(name="gw2", serial="SN-0002", site=site["name"], vendor="cisco_ios"),
            router(name="gw3", serial="SN-0003", site=site["name"]),
            sites=[site],
        )
    )
    assert set(found) == {"routers[0].site", "routers[2].site"}


def save(app: Flask, data: dict[str, Any]) -> None:
    with get_store(app).transaction() as session:
        save_document(session, parse_document(data), "test", get_secret_box(app))


def test_secrets_are_generated_and_stored_only_encrypted(app: Flask) -> None:
    save(app, tenant(router()))
    with get_store(app).reading() as session:
        row = session.scalar(select(models.Router))
        assert row is not None
        box = get_secret_box(app)
        keys = [box.decrypt(row.snmp_auth_key_encrypted), box.decrypt(row.snmp_priv_key_encrypted)]
        assert all(len(key) >= 12 and key not in row.snmp_auth_key_encrypted for key in keys)
        assert keys[0] != keys[1]
        document = load_document(session, find_tenant(session, "acme"), box)
    assert document.routers[0].snmp_auth_key == keys[0]
    assert document.routers[0].fetch_secret


def test_export_leaves_router_secrets_out_unless_asked(app: Flask) -> None:
    save(app, tenant(router(model="hEX-S")))
    with get_store(app).reading() as session:
        plain, _ = export_tenant(session, "acme", get_secret_box(app))
        full, _ = export_tenant(session, "acme", get_secret_box(app), include_secrets=True)
    exported = yaml.safe_load(plain)["routers"][0]
    assert exported["serial"] == "SN-0001" and exported["model"] == "hEX-S"
    assert not {"snmp_auth_key", "snmp_priv_key", "fetch_secret"} & set(exported)
    assert yaml.safe_load(full)["routers"][0]["fetch_secret"]


def test_reimporting_keeps_the_generated_secrets(app: Flask) -> None:
    save(app, tenant(router()))
    with get_store(app).reading() as session:
        before = session.scalar(select(models.Router.fetch_secret_encrypted))
    save(app, tenant(router(model="RB4011")))
    with get_store(app).reading() as session:
        row = session.scalar(select(models.Router))
        assert row is not None and row.model == "RB4011"
        assert row.fetch_secret_encrypted == before


def test_a_serial_belongs_to_one_tenant(app: Flask) -> None:
    save(app, tenant(router()))
    other = tenant(router(), name="beta", sip_domain="beta.example.net")
    with pytest.raises(ValidationFailed) as caught:
        save(app, other)
    assert [(p.path, p.reason) for p in caught.value.problems] == [
        ("routers[0].serial", "SN-0001 is another tenant's router")
    ]
