"""Grandstream GXP21xx (GXP2130/2140/2160/2170): ``<config version="1">`` with P-values.

Grandstream's own configuration templates for GXP21xx firmware 1.0.9.127 and 1.0.10.35 are
P-values only; the alias names (``<config version="2">``, ``account.1.sip.userid``) first come
with the template for 1.0.11.79. P-values are read by every firmware line, so these phones get
them (numbers below from Grandstream's 1.0.10.35 template, as FusionPBX ships it).
"""

from __future__ import annotations

from lxml import etree

from provisioner.phones.model import Key, PhoneConfig
from provisioner.phones.timezone import posix_time_zone
from provisioner.phones.xml import element, load_skeleton, serialize

# The first VPKs of each model are fixed (one per line key; edit only) and count key modes
# from 10; the dynamic ones after them count from 0 and must follow each other without a gap.
FIXED_VIRTUAL_KEYS = {"GXP2130": 3, "GXP2140": 4, "GXP2160": 6, "GXP2170": 12}
FIXED_KEY_MODES = {"line": 0, "speed_dial": 10, "blf": 11, "park": 19, "group_pickup": 10}
NO_KEY = -1  # "None": a dynamic VPK cannot be a line
TRANSPORTS = {"udp": 0, "tcp": 1, "tls": 2}  # TLS is "TLS/TCP"
# Account 1's P-values; accounts 2-6 are a block each at ACCOUNT_BLOCKS + an offset.
FIRST_ACCOUNT = {
    "enable": 271,
    "name": 270,
    "server": 47,
    "userid": 35,
    "authid": 36,
    "password": 34,
    "display": 3,
    "transport": 130,
    "pickup": 1347,
}
ACCOUNT_BLOCKS = {2: 400, 3: 500, 4: 600, 5: 1700, 6: 1800}
ACCOUNT_OFFSETS = {
    "enable": 1,
    "name": 17,
    "server": 2,
    "userid": 4,
    "authid": 5,
    "password": 6,
    "display": 7,
    "transport": 48,
    "pickup": 81,
}


def is_pvalue_model(model: str | None) -> bool:
    """True for the models that get P-values."""
    return (model or "").upper() in FIXED_VIRTUAL_KEYS


def account_pvalue(index: int, field: str) -> int:
    """The P-value of ``field`` of account ``index`` (1-6)."""
    if index == 1:
        return FIRST_ACCOUNT[field]
    return ACCOUNT_BLOCKS[index] + ACCOUNT_OFFSETS[field]


def virtual_key_pvalues(position: int) -> tuple[int, int, int, int]:
    """Mode, account, description and value of VPK ``position`` (1-48)."""
    if position <= 6:
        mode = 1363 + 2 * (position - 1)
        return (mode, mode + 1, mode + 102, mode + 103)
    mode = 23800 + 4 * (position - 7)
    return (mode, mode + 1, mode + 2, mode + 3)


def key_mode(key: Key, fixed: int) -> int:
    """The numeric mode of ``key``: fixed VPKs count from 10, dynamic ones from 0."""
    mode = FIXED_KEY_MODES[key.type]
    if key.position <= fixed:
        return mode
    return NO_KEY if key.type == "line" else mode - 10


def _set(items: etree._Element, pvalue: int | str, value: str | int) -> None:
    name = pvalue if isinstance(pvalue, str) else f"P{pvalue}"
    element(items, name, value)


def _accounts(items: etree._Element, config: PhoneConfig) -> None:
    for line in config.lines:
        for field, value in (
            ("enable", 1),
            ("name", line.label),
            ("server", f"{config.registrar}:{config.registrar_port}"),
            ("userid", line.number),
            ("authid", line.auth_name),
            ("password", line.password),
            ("display", line.display_name),
            ("transport", TRANSPORTS[config.transport]),
            ("pickup", config.pickup_prefix),
        ):
            _set(items, account_pvalue(line.index, field), value)


def _keys(items: etree._Element, config: PhoneConfig) -> None:
    fixed = FIXED_VIRTUAL_KEYS[(config.model or "").upper()]
    for key in config.keys:
        mode, account, description, value = virtual_key_pvalues(key.position)
        _set(items, mode, key_mode(key, fixed))
        _set(items, account, key.line - 1)
        _set(items, description, key.label)
        _set(items, value, key.value)


def server_path(url: str) -> tuple[str, int]:
    """A server path as Grandstream's template writes it (no scheme) and its "via" number:
    1 HTTP, 2 HTTPS."""
    scheme, _, path = url.partition("://")
    return path, 2 if scheme == "https" else 1


def _settings(items: etree._Element, config: PhoneConfig) -> None:
    path, via = server_path(config.provisioning_url)
    for pvalue, value in (
        (30, config.ntp_server),
        (64, posix_time_zone(config.timezone)),
        (1362, config.language if config.language in ("nl", "en", "de", "fr") else "en"),
        (237, path),  # the configuration server
        (212, via),
        (194, 1),  # check for a new configuration every P193 minutes
        (193, max(config.resync_seconds // 60, 60)),  # the template allows 60 and up
    ):
        _set(items, pvalue, value)
    if config.provisioning_username and config.provisioning_password:
        _set(items, 1360, config.provisioning_username)
        _set(items, 1361, config.provisioning_password)
        _set(items, 20713, 1)  # always authenticate before the challenge
    if config.vlan is not None:
        _set(items, 51, config.vlan)
        _set(items, 87, 5)
    if config.admin_password:
        _set(items, 2, config.admin_password)
    if config.firmware_url:
        firmware_path, firmware_via = server_path(config.firmware_url)
        _set(items, 192, firmware_path)
        _set(items, 6767, firmware_via)
    for name, value in config.overrides:
        _set(items, name, value)


def render_pvalues(config: PhoneConfig) -> bytes:
    """``cfg<mac>.xml`` in P-values; the bootstrap leaves out the MAC, accounts and keys."""
    root = load_skeleton("grandstream", "pvalues")
    items = root.find("config")
    assert items is not None, "the grandstream pvalues skeleton lacks <config>"
    if config.mac:
        mac = etree.Element("mac")
        mac.text = config.mac
        root.insert(0, mac)
    _accounts(items, config)
    _keys(items, config)
    _settings(items, config)
    return serialize(root)
