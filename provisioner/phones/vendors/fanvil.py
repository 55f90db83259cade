"""Fanvil X-series (newer firmware): ``<sysConf>`` XML.

Boot: a model common file (``F0V00X600000.cfg``, ``f0X4hw1.100.cfg``, ...), then ``<mac>.cfg``.
Keys are memory keys: type 1 with ``<number>@<line>/<mode>``, type 2 a line.
"""

from __future__ import annotations

import re

from lxml import etree

from provisioner.phones.model import FileKind, PhoneConfig
from provisioner.phones.vendors.base import MAC, FileRule, PhoneModel, PhoneVendor, models_by_name
from provisioner.phones.xml import element, find_or_add, load_skeleton, serialize, set_text

MODELS = models_by_name(
    PhoneModel("X3S", lines=2, keys=2),
    PhoneModel("X4U", lines=6, keys=12),
    PhoneModel("X5U", lines=16, keys=30),
    PhoneModel("X6U", lines=20, keys=60),
    PhoneModel("X6U-PRO", lines=20, keys=60),
    PhoneModel("X7", lines=20, keys=60),
)
TRANSPORTS = {"udp": 0, "tcp": 1, "tls": 3}
MODES = {"blf": "ba", "speed_dial": "f", "park": "c", "group_pickup": "f"}
# Summer time as the firmware reads it (wazo-provd-plugins wazo_fanvil, base-new.tpl and
# common.py): a rule by month/week/weekday is type 2, and the last week of a month is -1. Our
# rules come from the zone data, which describes every current rule that way (a fixed day of the
# month no longer occurs), so no other type is written.
DST_BY_WEEK = 2
LAST_WEEK = -1


def _find(root: etree._Element, path: str) -> etree._Element:
    found = root.find(path)
    assert found is not None, f"the fanvil skeleton lacks {path}"
    return found


def _lines(root: etree._Element, config: PhoneConfig) -> None:
    sip = _find(root, "sip")
    for line in config.lines:
        entry = element(sip, "line", index=str(line.index))
        for tag, value in (
            ("PhoneNumber", line.number),
            ("DisplayName", line.display_name),
            ("RegisterAddr", config.registrar or ""),
            ("RegisterPort", config.registrar_port),
            ("RegisterUser", line.auth_name),
            ("RegisterPswd", line.password),
            ("EnableReg", 1),
            ("Transport", TRANSPORTS[config.transport]),
        ):
            element(entry, tag, value)


def _keys(root: etree._Element, config: PhoneConfig) -> None:
    page = element(_find(root, "dsskey"), "dssSide", index="1")
    for line in config.lines:
        key = element(page, "Fkey", index=str(line.index))
        element(key, "Type", 2)
        element(key, "Value", f"SIP{line.index}")
        element(key, "Title", line.label)
    for function in config.keys:
        key = element(page, "Fkey", index=str(function.position))
        if function.type == "line":
            element(key, "Type", 2)
            element(key, "Value", f"SIP{function.line}")
        else:
            value = f"{function.value}@{function.line}/{MODES[function.type]}"
            if function.type == "blf":
                value += f"{config.pickup_prefix}{function.value}"
            element(key, "Type", 1)
            element(key, "Value", value)
        element(key, "Title", function.label)


def _time(root: etree._Element, config: PhoneConfig) -> None:
    date, zone = _find(root, "phone/date"), config.timezone
    set_text(date, "EnableSNTP", 1)
    set_text(date, "SNTPServer", config.ntp_server)
    set_text(date, "TimeZone", zone.standard_offset_minutes // 15)  # quarter hours
    hours = zone.standard_offset_minutes / 60
    set_text(date, "TimeZoneName", f"UTC{hours:+g}")
    set_text(date, "EnableDST", 2 if zone.has_summer_time else 0)
    if zone.has_summer_time:
        set_text(date, "DSTFixedType", DST_BY_WEEK)
        for prefix, month, week, weekday, hour in (
            ("DSTStart", zone.start_month, zone.start_week, zone.start_weekday, zone.start_hour),
            ("DSTEnd", zone.end_month, zone.end_week, zone.end_weekday, zone.end_hour),
        ):
            set_text(date, f"{prefix}Mon", month)
            set_text(date, f"{prefix}Week", LAST_WEEK if week == 5 else week)
            set_text(date, f"{prefix}Wday", (weekday + 1) % 7)  # 0 = Sunday
            set_text(date, f"{prefix}Hour", hour)
        set_text(date, "DSTMinOffset", zone.summer_offset_minutes - zone.standard_offset_minutes)
    set_text(_find(root, "phone"), "DefaultLanguage", config.language)


def _device(root: etree._Element, config: PhoneConfig) -> None:
    provisioning = _find(root, "ap")
    set_text(provisioning, "FlashServerIP", config.provisioning_url)
    set_text(provisioning, "FlashFileName", "$mac.cfg")
    set_text(provisioning, "FlashInterval", max(config.resync_seconds // 86400, 1))
    if config.provisioning_username and config.provisioning_password:
        set_text(provisioning, "DefaultUsername", config.provisioning_username)
        set_text(provisioning, "DefaultPassword", config.provisioning_password)
    if config.vlan is not None:
        set_text(_find(root, "qos"), "EnableVLAN", 1)
        set_text(_find(root, "qos"), "VLANID", config.vlan)
    if config.admin_password:
        account = element(_find(root, "web"), "account", index="1")
        element(account, "Name", "admin")
        element(account, "Password", config.admin_password)
        element(account, "Level", 10)
    if config.firmware_url:
        set_text(_find(root, "fwCheck"), "EnableAutoUpgrade", 1)
        set_text(_find(root, "fwCheck"), "UpgradeServer1", config.firmware_url)
    for name, value in config.overrides:
        _override(root, name, value)


def _override(root: etree._Element, name: str, value: str) -> None:
    """``phone.date.SNTPServer`` names ``<phone><date><SNTPServer>``; created when missing."""
    *sections, leaf = name.split(".")
    parent = root
    for section in sections:
        parent = find_or_add(parent, section)
    set_text(parent, leaf, value)


def render_device(config: PhoneConfig, file: str) -> bytes:
    """``<mac>.cfg`` (and the model common file, which is the bootstrap)."""
    root = load_skeleton("fanvil", config.model)
    _lines(root, config)
    _keys(root, config)
    _time(root, config)
    _device(root, config)
    return serialize(root)


def device_file(mac: str, model: str) -> str:
    """``<mac>.cfg``, lower case."""
    return f"{mac}.cfg"


def boot_files(mac: str, model: str) -> tuple[str, ...]:
    """What an X-series phone asks for at boot, in order (X4U's common name as the example)."""
    return ("f0X4hw1.100.cfg", device_file(mac, model))


VENDOR = PhoneVendor(
    name="fanvil",
    label="Fanvil",
    ouis=("0c383e",),
    user_agents=(
        re.compile(
            r"^Fanvil (?P<model>[A-Za-z]+\d*[A-Za-z0-9-]*(?: Pro)?) (?P<firmware>[\d.]+)"
            r"(?: (?P<mac>[0-9a-fA-F]{12}))?$"
        ),
    ),
    files=(
        FileRule(
            re.compile(r"^(?![0-9a-f]{12}\.cfg$)[fF]0[0-9A-Za-z.]{4,30}\.cfg$"),
            FileKind.COMMON,
            unique=True,
        ),
        FileRule(re.compile(r"^fanvil_\w+_hwv\d+_\d+\.txt$"), FileKind.ABSENT, unique=True),
        FileRule(re.compile(rf"^{MAC}\.cfg$"), FileKind.DEVICE),
    ),
    models=MODELS,
    model_aliases={"X6U PRO": "X6U-PRO"},
    content_type="application/xml",
    render_device=render_device,
    render_common=render_device,
    device_file=device_file,
    boot_files=boot_files,
)
