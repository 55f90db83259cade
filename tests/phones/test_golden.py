"""Golden files per vendor and model for the demo tenant (Marc 240), each parsed back and
checked field by field. Regenerate after a deliberate change with UPDATE_GOLDEN=1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provisioner.phones.config import Secrets, bootstrap_config, phone_config
from provisioner.phones.vendors import VENDORS, by_name
from provisioner.tenants.schema.devices import Phone
from provisioner.tenants.yaml_io import read_tenant_file
from tests.conftest import DEMO_FILE
from tests.phones.readers import EXPECTED_TIMEZONE, READERS, check_full

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "phones"
BASE_URL = "http://prov.example.net/p/"
SECRETS = Secrets(
    sip_passwords={"240": "Marc240Secret0", "241": "x", "242": "y", "243": "z"},
    provisioning_username="device-user",
    provisioning_password="DevicePass123",
    admin_password="AdminPass456",
)
# Every vendor with one or two of its models.
CASES = [
    ("yealink", "T46U", "805ec0123456"),
    ("yealink", "T54W", "805ec0123457"),
    ("polycom", "VVX450", "64167f123456"),
    ("snom", "D785", "000413123456"),
    ("grandstream", "GRP2614", "c074ad123456"),
    ("grandstream", "GXP2170", "000b82123456"),
    ("cisco_mpp", "8841", "00562b123456"),
    ("cisco_spa", "SPA508G", "0002fd123456"),
    ("fanvil", "X4U", "0c383e123456"),
    ("gigaset", "N870", "7c2f80123456"),
    ("panasonic", "KX-HDV230", "0080f0123456"),
]
IDS = [f"{vendor}_{model}" for vendor, model, _ in CASES]


def rendered(vendor_name: str, model: str, mac: str) -> dict[str, bytes]:
    document, _ = read_tenant_file(DEMO_FILE)
    phone = Phone(mac=mac, vendor=vendor_name, model=model, lines=["240"])
    config = phone_config(document, phone, model, SECRETS, BASE_URL)
    vendor = by_name(vendor_name)
    files = {"device": vendor.render_device(config, vendor.device_file(mac, model))}
    if vendor_name == "polycom":
        files["directory"] = vendor.render_device(config, f"{mac}-directory.xml")
    return files


def golden_name(vendor: str, model: str, part: str) -> Path:
    suffix = "" if part == "device" else f"-{part}"
    extension = "cfg" if vendor in ("yealink", "panasonic") else "xml"
    return GOLDEN / f"{vendor}_{model}{suffix}.{extension}"


@pytest.mark.parametrize(("vendor", "model", "mac"), CASES, ids=IDS)
def test_golden_file(vendor: str, model: str, mac: str) -> None:
    files = rendered(vendor, model, mac)
    for part, body in files.items():
        path = golden_name(vendor, model, part)
        if os.environ.get("UPDATE_GOLDEN"):
            path.write_bytes(body)
        assert path.read_bytes() == body, f"{path.name} differs; UPDATE_GOLDEN=1 if deliberate"


@pytest.mark.parametrize(("vendor", "model", "mac"), CASES, ids=IDS)
def test_golden_file_parses_back_field_by_field(vendor: str, model: str, mac: str) -> None:
    files = {
        part: golden_name(vendor, model, part).read_bytes() for part in rendered(vendor, model, mac)
    }
    check_full(vendor, READERS[vendor](files), "Marc240Secret0")
    text = b"".join(files.values()).decode()
    assert "AdminPass456" in text
    assert "DevicePass123" in text
    assert "prov.example.net/p/a/" in text  # a paired phone comes back with its credentials


@pytest.mark.parametrize("vendor", VENDORS, ids=[vendor.name for vendor in VENDORS])
def test_bootstrap_has_no_secret_and_no_mac(vendor: object) -> None:
    from provisioner.phones.vendors.base import PhoneVendor

    assert isinstance(vendor, PhoneVendor)
    config = bootstrap_config(vendor.name, None, BASE_URL, "Europe/Amsterdam", "nl", "ntp.example")
    body = vendor.render_device(config, vendor.device_file("805ec0123456", "X"))
    facts = READERS[vendor.name]({"device": body})
    assert facts.user is None and facts.password is None and not facts.blf
    assert facts.timezone == EXPECTED_TIMEZONE[vendor.name]
    assert b"805ec0123456" not in body.lower() and BASE_URL.encode() in body


def test_vendor_registry_names_are_unique_and_ouis_are_hex() -> None:
    names = [vendor.name for vendor in VENDORS]
    assert len(names) == len(set(names))
    for vendor in VENDORS:
        assert vendor.ouis and all(len(oui) == 6 and int(oui, 16) >= 0 for oui in vendor.ouis)
        assert vendor.models and vendor.user_agents and vendor.files


@pytest.mark.parametrize(("vendor", "model", "mac"), CASES, ids=IDS)
def test_overrides_land_in_each_format(vendor: str, model: str, mac: str) -> None:
    document, _ = read_tenant_file(DEMO_FILE)
    phone = Phone(
        mac=mac, vendor=vendor, model=model, lines=["240"], overrides={"Custom.Setting": "x<&>y"}
    )
    config = phone_config(document, phone, model, SECRETS, BASE_URL)
    body = by_name(vendor).render_device(config, by_name(vendor).device_file(mac, model))
    if vendor in ("yealink",):
        assert "Custom.Setting = x<&>y" in body.decode().splitlines()
    elif vendor == "panasonic":
        assert 'Custom.Setting="x<&>y"' in body.decode().split("\r\n")
    else:
        from lxml import etree

        found = set()
        for node in etree.fromstring(body).iter():
            if node.tag in ("Custom.Setting", "Setting"):  # Cisco, Snom; Fanvil nests sections
                found.add(node.text)
            if "Custom.Setting" in node.attrib:  # Poly: parameters are attributes
                found.add(node.get("Custom.Setting"))
            if node.get("name") == "Custom.Setting":  # Gigaset params, Grandstream items
                found.add(node.get("value", node.text))
        assert "x<&>y" in found
