"""Yealink T4x/T5x (and W-series bases): ``key = value`` files, boot files from firmware 81 on.

Boot: ``<mac>.boot`` (else ``y000000000000.boot``), which includes the common file
``y0000000000XX.cfg`` (XX = the model's hardware code) and then ``<mac>.cfg``.
"""

from __future__ import annotations

import re

from provisioner.phones.encryption import Scheme
from provisioner.phones.keyvalue import KeyValueWriter
from provisioner.phones.model import FileKind, Key, PhoneConfig, SipLine, TimeZoneRule
from provisioner.phones.vendors.base import MAC, FileRule, PhoneModel, PhoneVendor, models_by_name

# Capacities from the data sheets: accounts, and programmable line keys over all pages (not
# checked on devices, docs/phones.md; a wrong number only moves where the capacity error fires).
MODELS = models_by_name(
    PhoneModel("T31G", lines=2, keys=2, code="123"),
    PhoneModel("T41S", lines=6, keys=15, code="68"),
    PhoneModel("T42S", lines=12, keys=15, code="67"),
    PhoneModel("T42U", lines=12, keys=15, code="116"),
    PhoneModel("T43U", lines=12, keys=21, code="107"),
    PhoneModel("T46S", lines=16, keys=27, code="66"),
    PhoneModel("T46U", lines=16, keys=27, code="108"),
    PhoneModel("T48S", lines=16, keys=29, code="65"),
    PhoneModel("T48U", lines=16, keys=29, code="109"),
    PhoneModel("T53W", lines=12, keys=21, code="95"),
    PhoneModel("T54W", lines=16, keys=27, code="96"),
    PhoneModel("T57W", lines=16, keys=29, code="97"),
    PhoneModel("T58W", lines=16, keys=27, code="150"),
)
KEY_TYPES = {"line": 15, "blf": 16, "speed_dial": 13, "park": 10, "group_pickup": 13}
TRANSPORTS = {"udp": 0, "tcp": 1, "tls": 2}
# Yealink's own names for a zone; the phone applies summer time from its table (summer_time 2).
ZONE_NAMES = {"Europe/Amsterdam": "Netherlands(Amsterdam)"}
# Dutch is in current T4xU/T5x firmware (unverified for older T4xS, which keep
# English; docs/phones.md "Unverified vendor facts").
LANGUAGES = {"nl": "Dutch", "en": "English", "de": "German", "fr": "French"}


def _offset(minutes: int) -> str:
    hours, rest = divmod(abs(minutes), 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{hours}" + (f":{rest:02d}" if rest else "")


def _time_and_place(writer: KeyValueWriter, config: PhoneConfig) -> None:
    zone: TimeZoneRule = config.timezone
    writer.set("local_time.time_zone", _offset(zone.standard_offset_minutes))
    if zone.name in ZONE_NAMES:
        writer.set("local_time.time_zone_name", ZONE_NAMES[zone.name])
    writer.set("local_time.summer_time", 2 if zone.has_summer_time else 0)
    writer.set("local_time.ntp_server1", config.ntp_server)
    writer.set("lang.gui", LANGUAGES.get(config.language, "English"))
    writer.set("lang.wui", LANGUAGES.get(config.language, "English"))


def _provisioning(writer: KeyValueWriter, config: PhoneConfig) -> None:
    writer.set("static.auto_provision.server.url", config.provisioning_url)
    if config.provisioning_username and config.provisioning_password:
        writer.set("static.auto_provision.server.username", config.provisioning_username)
        writer.set("static.auto_provision.server.password", config.provisioning_password)
    writer.set("static.auto_provision.power_on", 1)
    writer.set("static.auto_provision.repeat.enable", 1)
    writer.set("static.auto_provision.repeat.minutes", config.resync_seconds // 60)
    writer.set("static.auto_provision.pnp_enable", 0)
    if config.file_key:
        # The key the phone decrypts its <MAC>.cfg with from now on; older firmware reads
        # the aes_key_16 name, newer aes_key (docs/phones.md, "Encrypted configuration files").
        writer.set("static.auto_provision.aes_key.mac", config.file_key)
        writer.set("static.auto_provision.aes_key_16.mac", config.file_key)


def _account(writer: KeyValueWriter, config: PhoneConfig, line: SipLine) -> None:
    prefix = f"account.{line.index}"
    writer.set(f"{prefix}.enable", 1)
    writer.set(f"{prefix}.label", line.label)
    writer.set(f"{prefix}.display_name", line.display_name)
    writer.set(f"{prefix}.user_name", line.number)
    writer.set(f"{prefix}.auth_name", line.auth_name)
    writer.set(f"{prefix}.password", line.password)
    writer.set(f"{prefix}.sip_server.1.address", config.registrar or "")
    writer.set(f"{prefix}.sip_server.1.port", config.registrar_port)
    writer.set(f"{prefix}.sip_server.1.transport_type", TRANSPORTS[config.transport])


def _line_key(writer: KeyValueWriter, config: PhoneConfig, key: Key) -> None:
    prefix = f"linekey.{key.position}"
    writer.set(f"{prefix}.type", KEY_TYPES[key.type])
    writer.set(f"{prefix}.line", key.line)
    writer.set(f"{prefix}.value", key.value)
    writer.set(f"{prefix}.label", key.label)
    if key.type == "blf":
        # Older firmware reads pickup_value, newer extension; both are harmless.
        writer.set(f"{prefix}.extension", config.pickup_prefix)
        writer.set(f"{prefix}.pickup_value", config.pickup_prefix)


def render_device(config: PhoneConfig, file: str) -> bytes:
    """``<mac>.cfg``: accounts, keys, time, language, VLAN, provisioning, admin, firmware."""
    writer = KeyValueWriter()
    for line in config.lines:
        _account(writer, config, line)
    for index, line in enumerate(config.lines, start=1):
        _line_key(writer, config, Key(index, "line", "", line.label, line.index))
    for key in config.keys:
        _line_key(writer, config, key)
    _time_and_place(writer, config)
    if config.vlan is not None:
        writer.set("static.network.vlan.internet_port_enable", 1)
        writer.set("static.network.vlan.internet_port_vid", config.vlan)
        writer.set("static.network.vlan.internet_port_priority", 5)
    _provisioning(writer, config)
    if config.admin_password:
        writer.set("static.security.user_name.admin", "admin")
        writer.set("static.security.user_password", f"admin:{config.admin_password}")
    if config.firmware_url:
        writer.set("static.firmware.url", config.firmware_url)
    for name, value in config.overrides:
        writer.set(name, value)
    return writer.render()


def render_common(config: PhoneConfig, file: str) -> bytes:
    """Boot files and the common ``y0000000000XX.cfg`` (what every device file agrees on)."""
    if file.endswith(".boot"):
        writer = KeyValueWriter()
        writer.raw('include:config "y000000000000.cfg"')
        if file != "y000000000000.boot":
            writer.raw(f'include:config "{file.removesuffix(".boot")}.cfg"')
        writer.set("overwrite_mode", 1)
        return writer.render()
    return _render_shared(config)


def _render_shared(config: PhoneConfig) -> bytes:
    """The common ``y0000000000XX.cfg``. The phone reads ``<mac>.cfg`` over it, and that file
    carries the time, language, NTP server and resync period (the bootstrap's or the
    tenant's), so the common file leaves them out. It names the provisioning server, which
    moves a phone that came over TFTP to HTTP; a paired phone's file then names its
    authenticated path."""
    writer = KeyValueWriter()
    writer.set("static.auto_provision.server.url", config.provisioning_url)
    writer.set("static.auto_provision.power_on", 1)
    writer.set("static.auto_provision.repeat.enable", 1)
    writer.set("static.auto_provision.pnp_enable", 0)
    return writer.render()


def device_file(mac: str, model: str) -> str:
    """``<mac>.cfg``, lower case."""
    return f"{mac}.cfg"


def boot_files(mac: str, model: str) -> tuple[str, ...]:
    """What a T4x/T5x asks for at boot, in order."""
    return (f"{mac}.boot", "y000000000000.cfg", f"{mac}.cfg")


_AGENT_MAC = r"(?P<mac>[0-9A-Fa-f]{2}(?::?[0-9A-Fa-f]{2}){5})"
# Model names carry a suffix after an underscore on some families (T19P_E2, T21P_E2).
_AGENT_MODEL = r"(?P<model>[A-Z][A-Za-z0-9]*\d[A-Za-z0-9]*(?:_[A-Za-z0-9]+)?)"
USER_AGENTS = (
    # "Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37", "yealink SIP-T18 ...", "Yealink SIP VP-T49G
    # ...", "Yealink W52P ...", "Yealink-T46G 28.71.0.81 28.1.0.128.0.0.0" (a hardware version
    # where the MAC usually is) -- forms listed by wazo-provd-plugins wazo_yealink/common.
    re.compile(
        rf"^[yY]ealink[\s-]+(?:SIP(?: VP)?-)?{_AGENT_MODEL}\s+(?P<firmware>\d+(?:\.\d+){{2,4}})"
        rf"(?:\s+{_AGENT_MAC}|\s+[\d.]+)?\s*$"
    ),
    # Older W52P bases and VP530 video phones leave the brand out: "W52P 25.30.0.2 <mac>".
    re.compile(rf"^(?P<model>W52P|VP530P?)\s+(?P<firmware>\d+(?:\.\d+){{2,4}})\s+{_AGENT_MAC}\s*$"),
)
# Yealink-built phones sold under another name keep the Yealink form after their own brand
# ("<Brand> SIP-T46S <firmware> <mac>"); believed only for a Yealink MAC.
OEM_USER_AGENTS = (
    # Tiptel's Yealink-built IP 28x: "Tiptel IP 286 2.43.13.6 00:15:65:13:eb:6f" (the model is
    # Tiptel's name; the Gemeinschaft PBX's Tiptel provisioning lists these forms).
    re.compile(
        rf"^Tiptel\s+(?P<model>IP\s?\d\w*)\s+(?P<firmware>\d+(?:\.\d+){{3}})\s+{_AGENT_MAC}\s*$"
    ),
    re.compile(
        rf"^[A-Za-z][\w-]*\s+(?:SIP(?: VP)?-)?(?P<model>T\d{{2}}[A-Za-z0-9]*(?:_[A-Za-z0-9]+)?)"
        rf"\s+(?P<firmware>\d+(?:\.\d+){{3}})\s+{_AGENT_MAC}\s*$"
    ),
)

VENDOR = PhoneVendor(
    name="yealink",
    label="Yealink",
    ouis=(
        "001565",
        "805ec0",
        "805e0c",
        "249ad8",
        "44dbd2",
        "c4fc22",
        "e434d7",
        "3497d7",
        "644f56",
        "b061a9",
        "ec1da9",
        "f01653",
    ),
    user_agents=USER_AGENTS,
    oem_user_agents=OEM_USER_AGENTS,
    files=(
        FileRule(re.compile(rf"^{MAC}\.boot$"), FileKind.COMMON, unique=True),
        FileRule(re.compile(r"^y000000000000\.boot$"), FileKind.COMMON, unique=True),
        FileRule(re.compile(r"^y0{9,10}(?P<model>\d{2,3})\.cfg$"), FileKind.COMMON, unique=True),
        FileRule(re.compile(rf"^{MAC}\.cfg$"), FileKind.DEVICE),
        FileRule(re.compile(rf"^{MAC}-local\.cfg$"), FileKind.ABSENT, unique=True),
        FileRule(re.compile(rf"^(?i:{MAC})-contact\.xml$"), FileKind.ABSENT, unique=True),
        FileRule(re.compile(r"^.+(?:_Security)?\.enc$"), FileKind.ABSENT),
    ),
    models=MODELS,
    content_type="text/plain; charset=utf-8",
    render_device=render_device,
    render_common=render_common,
    device_file=device_file,
    boot_files=boot_files,
    file_encryption=Scheme.AES_128_ECB,
)
