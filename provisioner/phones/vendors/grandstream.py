"""Grandstream GXP/GRP: ``<gs_provision>`` XML with config version 2 (named items); the
GXP21xx get config version 1 (P-values, ``grandstream_pvalues``), which all their firmware reads.

Boot: ``cfg<mac>`` (legacy binary, 404 here), ``cfg<mac>.xml`` (per device), else
``cfg<model>.xml`` and ``cfg.xml`` (common). Keys are on-screen VPKs (``pks.vpk.N``).
"""

from __future__ import annotations

import re

from lxml import etree

from provisioner.phones.model import FileKind, PhoneConfig
from provisioner.phones.timezone import posix_time_zone
from provisioner.phones.vendors.base import MAC, FileRule, PhoneModel, PhoneVendor, models_by_name
from provisioner.phones.vendors.grandstream_pvalues import is_pvalue_model, render_pvalues
from provisioner.phones.xml import element, load_skeleton, serialize

# Capacities: accounts, and virtual (VPK) plus programmable keys (unsure for some models).
MODELS = models_by_name(
    PhoneModel("GRP2612", lines=2, keys=16),
    PhoneModel("GRP2613", lines=3, keys=24),
    PhoneModel("GRP2614", lines=4, keys=16 + 24),
    PhoneModel("GRP2615", lines=5, keys=40),
    PhoneModel("GRP2616", lines=6, keys=16 + 24),
    PhoneModel("GXP1628", lines=2, keys=8),
    # GXP21xx: the VPKs of Grandstream's configuration template (the last of each model).
    PhoneModel("GXP2130", lines=3, keys=12),
    PhoneModel("GXP2140", lines=4, keys=16),
    PhoneModel("GXP2160", lines=6, keys=24),
    PhoneModel("GXP2170", lines=6, keys=48),
)
# Models whose keys go on past the on-screen VPKs as MPKs (the GRP2614/2616 side screen):
# how many VPKs come first (wazo-provd-plugins wazo_grandstream MODEL_FKEYS: 16 VPK, 24 MPK).
VIRTUAL_KEYS = {"GRP2614": 16, "GRP2616": 16}
KEY_MODES = {
    "line": "Line",
    "blf": "BLF",
    "speed_dial": "SpeedDial",
    "park": "CallPark",
    "group_pickup": "SpeedDial",
}
TRANSPORTS = {"udp": "UDP", "tcp": "TCP", "tls": "TlsOrTcp"}
LANGUAGES = {"nl": "nl", "en": "en", "de": "de", "fr": "fr"}


def _item(config_element: etree._Element, name: str, value: str | int) -> None:
    element(config_element, "item", value, name=name)


def _accounts(items: etree._Element, config: PhoneConfig) -> None:
    for line in config.lines:
        prefix = f"account.{line.index}"
        for name, value in (
            ("enable", "Yes"),
            ("name", line.label),
            ("sip.server.1.address", f"{config.registrar}:{config.registrar_port}"),
            ("sip.userid", line.number),
            ("sip.subscriber.userid", line.auth_name),
            ("sip.subscriber.password", line.password),
            ("sip.subscriber.name", line.display_name),
            ("sip.transport", TRANSPORTS[config.transport]),
            ("sip.blf.callPickup.prefix", config.pickup_prefix),
        ):
            _item(items, f"{prefix}.{name}", value)


def _keys(items: etree._Element, config: PhoneConfig) -> None:
    virtual = VIRTUAL_KEYS.get(config.model or "")
    for key in config.keys:
        if virtual is None or key.position <= virtual:
            prefix, account = f"pks.vpk.{key.position}", str(key.line - 1)
        else:  # an MPK names its account "Account<n>" where a VPK has its index
            prefix, account = f"pks.mpk.{key.position - virtual}", f"Account{key.line}"
        _item(items, f"{prefix}.keyMode", KEY_MODES[key.type])
        _item(items, f"{prefix}.account", account)
        _item(items, f"{prefix}.description", key.label)
        _item(items, f"{prefix}.value", key.value)


def _settings(items: etree._Element, config: PhoneConfig) -> None:
    _item(items, "dateTime.ntp.server.1", config.ntp_server)
    _item(items, "dateTime.timezone", posix_time_zone(config.timezone))
    _item(items, "language.gui", LANGUAGES.get(config.language, "en"))
    _item(items, "provisioning.config.serverPath", config.provisioning_url)
    _item(
        items,
        "provisioning.config.protocol",
        "HTTPS" if config.provisioning_url.startswith("https") else "HTTP",
    )
    _item(items, "provisioning.auto.mode", "YesUpgradeMin")
    _item(items, "provisioning.auto.minute", config.resync_seconds // 60)
    if config.provisioning_username and config.provisioning_password:
        _item(items, "provisioning.config.username", config.provisioning_username)
        _item(items, "provisioning.config.password", config.provisioning_password)
        _item(items, "provisioning.alwaysAuthenticateBeforeChallenge", "Yes")
    if config.vlan is not None:
        _item(items, "network.port.eth.1.vlan.enable", "Yes")
        _item(items, "network.port.eth.1.vlan.tag", config.vlan)
        _item(items, "network.port.eth.1.vlan.priority", 5)
    if config.admin_password:
        _item(items, "users.admin.password", config.admin_password)
    if config.firmware_url:
        _item(items, "provisioning.firmware.serverPath", config.firmware_url)
    for name, value in config.overrides:
        _item(items, name, value)


def render_device(config: PhoneConfig, file: str) -> bytes:
    """``cfg<mac>.xml``; the bootstrap leaves out the MAC, accounts, keys and secrets."""
    if is_pvalue_model(config.model):
        return render_pvalues(config)
    root = load_skeleton("grandstream", config.model)
    items = root.find("config")
    assert items is not None, "the grandstream skeleton lacks <config>"
    if config.mac:
        # When present it must match the phone; the phone refuses someone else's file.
        mac = etree.Element("mac")
        mac.text = config.mac
        root.insert(0, mac)
    _accounts(items, config)
    _keys(items, config)
    _settings(items, config)
    return serialize(root)


def device_file(mac: str, model: str) -> str:
    """``cfg<mac>.xml``."""
    return f"cfg{mac}.xml"


def boot_files(mac: str, model: str) -> tuple[str, ...]:
    """What a GXP/GRP asks for at boot, in order (the first is answered 404)."""
    return (f"cfg{mac}", device_file(mac, model))


VENDOR = PhoneVendor(
    name="grandstream",
    label="Grandstream",
    ouis=("000b82", "c074ad", "ec74d7"),
    user_agents=(
        # The DevId is the MAC, written without separators or with colons.
        re.compile(
            r"^Grandstream Model HW (?P<model>\w+)(?:\s+V[^ ]+)? SW (?P<firmware>[^ ]+)"
            r" DevId (?P<mac>[0-9a-fA-F]{2}(?::?[0-9a-fA-F]{2}){5})\b"
        ),
        # Old GXP2000: "(gxp2000e.bin:1.2.5.3/boot55e.bin:1.1.6.9)", the program image first.
        re.compile(
            r"^Grandstream (?P<model>GXP\d+) \((?:\w+\.bin:)?(?P<firmware>[\d.]+)[^)]*\)"
            r" DevId (?P<mac>[0-9a-fA-F]{2}(?::?[0-9a-fA-F]{2}){5})\b"
        ),
    ),
    files=(
        FileRule(re.compile(rf"^cfg{MAC}(?:\.bin)?$"), FileKind.ABSENT, unique=True),
        FileRule(re.compile(rf"^cfg{MAC}\.xml$"), FileKind.DEVICE, unique=True),
        FileRule(
            re.compile(r"^cfg(?P<model>(?:gxp|grp|gxv|ht)\w+)\.xml$"), FileKind.COMMON, unique=True
        ),
        FileRule(re.compile(r"^cfg\.xml$"), FileKind.COMMON, unique=True),
        FileRule(re.compile(r"^(?:gxp|grp)\w*fw\.bin$"), FileKind.ABSENT, unique=True),
    ),
    models=MODELS,
    content_type="application/xml",
    render_device=render_device,
    render_common=render_device,
    device_file=device_file,
    boot_files=boot_files,
    firmware_directory=True,  # P192 is a folder; the phone asks for e.g. gxp2140fw.bin in it
)
