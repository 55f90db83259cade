"""Poly (Polycom) VVX with UC Software 5.x/6.x: XML whose parameters are attributes.

Boot: ``<mac>.cfg`` (404 here) -> master ``000000000000.cfg`` naming
``<mac>-provisioner.cfg`` -> ``<mac>-directory.xml`` (speed dials). The phone PUTs its logs and
user overrides. ``device.*`` parameters apply only with their ``.set="1"`` companion.
"""

from __future__ import annotations

import re

from lxml import etree

from provisioner.phones.model import FileKind, PhoneConfig, TimeZoneRule
from provisioner.phones.vendors.base import MAC, FileRule, PhoneModel, PhoneVendor, models_by_name
from provisioner.phones.xml import clean, load_skeleton, serialize

MODELS = models_by_name(
    PhoneModel("VVX150", lines=2, keys=2),
    PhoneModel("VVX250", lines=4, keys=4),
    PhoneModel("VVX350", lines=6, keys=6),
    PhoneModel("VVX400", lines=12, keys=12),
    PhoneModel("VVX450", lines=12, keys=12),
    PhoneModel("VVX500", lines=12, keys=12),
    PhoneModel("VVX600", lines=16, keys=16),
)
LANGUAGES = {
    "nl": "Dutch_Netherlands",
    "en": "English_United_Kingdom",
    "de": "German_Germany",
    "fr": "French_France",
}
TRANSPORTS = {"udp": "UDPOnly", "tcp": "TCPOnly", "tls": "TLS"}
CATEGORIES = {
    "line": "Line",
    "blf": "BLF",
    "speed_dial": "SpeedDial",
    "park": "SpeedDial",
    "group_pickup": "SpeedDial",
}


def _set(group: etree._Element, name: str, value: str | int, device: bool = False) -> None:
    group.set(name, clean(value))
    if device:
        group.set(f"{name}.set", "1")


def _group(root: etree._Element, tag: str) -> etree._Element:
    found = root.find(tag)
    assert found is not None, f"the polycom skeleton lacks <{tag}>"
    return found


def _time(root: etree._Element, config: PhoneConfig) -> None:
    group, zone = _group(root, "tcpIpApp"), config.timezone
    _set(group, "tcpIpApp.sntp.address", config.ntp_server)
    _set(group, "tcpIpApp.sntp.gmtOffset", zone.standard_offset_minutes * 60)
    _set(group, "tcpIpApp.sntp.daylightSavings.enable", int(zone.has_summer_time))
    if zone.has_summer_time:
        _summer_time(group, zone)
    _set(
        _group(root, "lcl"), "lcl.ml.lang", LANGUAGES.get(config.language, "English_United_Kingdom")
    )


def _summer_time(group: etree._Element, zone: TimeZoneRule) -> None:
    prefix = "tcpIpApp.sntp.daylightSavings"
    _set(group, f"{prefix}.fixedDayEnable", 0)
    for edge, month, week, weekday, hour in (
        ("start", zone.start_month, zone.start_week, zone.start_weekday, zone.start_hour),
        ("stop", zone.end_month, zone.end_week, zone.end_weekday, zone.end_hour),
    ):
        _set(group, f"{prefix}.{edge}.month", month)
        _set(group, f"{prefix}.{edge}.dayOfWeek", (weekday + 1) % 7 + 1)  # 1 = Sunday
        _set(group, f"{prefix}.{edge}.dayOfWeek.lastInMonth", int(week == 5))
        _set(group, f"{prefix}.{edge}.date", 1 if week == 5 else (week - 1) * 7 + 1)
        _set(group, f"{prefix}.{edge}.time", hour)


def _accounts(root: etree._Element, config: PhoneConfig) -> None:
    group = _group(root, "reg")
    for line in config.lines:
        prefix = f"reg.{line.index}"
        for name, value in (
            ("address", line.number),
            ("auth.userId", line.auth_name),
            ("auth.password", line.password),
            ("displayName", line.display_name),
            ("label", line.label),
            ("lineKeys", 1),
            ("server.1.address", config.registrar or ""),
            ("server.1.port", config.registrar_port),
            ("server.1.transport", TRANSPORTS[config.transport]),
        ):
            _set(group, f"{prefix}.{name}", value)


def _pickup(root: etree._Element, config: PhoneConfig) -> None:
    """A BLF key picks up by dialling the string + the watched extension: the feature must be
    on (off by default), and "legacy" is the dialling method ("native" is SIP signalling)."""
    _set(_group(root, "feature"), "feature.directedCallPickup.enabled", 1)
    call = _group(root, "call")
    _set(call, "call.directedCallPickupMethod", "legacy")
    _set(call, "call.directedCallPickupString", config.pickup_prefix)


def _keys(root: etree._Element, config: PhoneConfig) -> None:
    line_keys, attendant = _group(root, "lineKey"), _group(root, "attendant")
    _pickup(root, config)
    for line in config.lines:
        _set(line_keys, f"lineKey.{line.index}.category", "Line")
        _set(line_keys, f"lineKey.{line.index}.index", line.index)
    blf, speed = 0, 0
    for key in config.keys:
        _set(line_keys, f"lineKey.{key.position}.category", CATEGORIES[key.type])
        if key.type == "blf":
            blf += 1
            _set(attendant, f"attendant.resourceList.{blf}.address", key.value)
            _set(attendant, f"attendant.resourceList.{blf}.label", key.label)
            _set(attendant, f"attendant.resourceList.{blf}.type", "normal")
            _set(line_keys, f"lineKey.{key.position}.index", 0)  # 0: the next BLF entry
        elif key.type != "line":
            speed += 1  # speed dials come from <mac>-directory.xml, by sd index
            _set(line_keys, f"lineKey.{key.position}.index", speed)
        else:
            _set(line_keys, f"lineKey.{key.position}.index", key.line)


def _device(root: etree._Element, config: PhoneConfig) -> None:
    device, prov = _group(root, "device"), _group(root, "prov")
    _set(device, "device.prov.serverName", config.provisioning_url, device=True)
    _set(device, "device.prov.serverType", "HTTP", device=True)
    _set(prov, "prov.polling.period", config.resync_seconds)
    if config.provisioning_username and config.provisioning_password:
        _set(device, "device.prov.user", config.provisioning_username, device=True)
        _set(device, "device.prov.password", config.provisioning_password, device=True)
    if config.vlan is not None:
        _set(device, "device.net.vlanId", config.vlan, device=True)
    if config.admin_password:
        _set(device, "device.auth.localAdminPassword", config.admin_password, device=True)
    if config.firmware_url:
        _set(device, "device.prov.upgradeServer", config.firmware_url, device=True)
    for name, value in config.overrides:
        _set(_group(root, "overrides"), name, value)


def _directory(config: PhoneConfig) -> bytes:
    root = load_skeleton("polycom", "directory")
    items = root.find("item_list")
    assert items is not None
    speed_dials = [key for key in config.keys if key.type not in ("blf", "line")]
    for index, key in enumerate(speed_dials, start=1):
        item = etree.SubElement(items, "item")
        for tag, text in (("fn", key.label), ("ct", key.value), ("sd", str(index))):
            etree.SubElement(item, tag).text = clean(text)
    return serialize(root)


def render_device(config: PhoneConfig, file: str) -> bytes:
    """``<mac>-provisioner.cfg`` (or the directory): accounts, keys, time, device settings."""
    if file.endswith("-directory.xml"):
        return _directory(config)
    root = load_skeleton("polycom", config.model)
    _accounts(root, config)
    _keys(root, config)
    _time(root, config)
    _device(root, config)
    return serialize(root)


def render_common(config: PhoneConfig, file: str) -> bytes:
    """The master file ``000000000000.cfg``."""
    return serialize(load_skeleton("polycom", "master"))


def device_file(mac: str, model: str) -> str:
    """``<mac>-provisioner.cfg``, named by the master file."""
    return f"{mac}-provisioner.cfg"


def boot_files(mac: str, model: str) -> tuple[str, ...]:
    """What a VVX asks for at boot, in order (the first is answered 404)."""
    return (f"{mac}.cfg", "000000000000.cfg", f"{mac}-provisioner.cfg", f"{mac}-directory.xml")


VENDOR = PhoneVendor(
    name="polycom",
    label="Poly",
    ouis=("0004f2", "64167f", "482567", "00907a"),
    user_agents=(
        # Some firmware adds "(SN:<serial>)"; a Poly's serial number is its MAC.
        re.compile(
            r"^FileTransport Polycom\w+-(?P<model>\w+?)-UA/(?P<firmware>[\d.]+)"
            r"(?: \(SN:(?P<mac>[0-9A-Fa-f]{12})\))?"
        ),
    ),
    files=(
        FileRule(re.compile(r"^000000000000\.cfg$"), FileKind.COMMON, unique=True),
        FileRule(re.compile(rf"^{MAC}-provisioner\.cfg$"), FileKind.DEVICE, unique=True),
        FileRule(re.compile(rf"^{MAC}-directory\.xml$"), FileKind.DEVICE, unique=True),
        FileRule(re.compile(rf"^{MAC}-(?:phone|web)\.cfg$"), FileKind.UPLOAD, unique=True),
        FileRule(re.compile(rf"^{MAC}-(?:boot|app)\.log$"), FileKind.UPLOAD, unique=True),
        FileRule(re.compile(r"^(?:[0-9a-f]{12})-license\.cfg$"), FileKind.ABSENT, unique=True),
        FileRule(re.compile(r"^000000000000-directory\.xml$"), FileKind.ABSENT, unique=True),
        FileRule(re.compile(r"^(?:[\w-]+\.)?sip\.(?:ld|ver)$"), FileKind.ABSENT, unique=True),
        FileRule(re.compile(rf"^{MAC}\.cfg$"), FileKind.ABSENT),
    ),
    models=MODELS,
    content_type="application/xml",
    render_device=render_device,
    render_common=render_common,
    device_file=device_file,
    boot_files=boot_files,
    uploads=re.compile(rf"^{MAC}-(?:boot\.log|app\.log|phone\.cfg|web\.cfg|directory\.xml)$"),
)
