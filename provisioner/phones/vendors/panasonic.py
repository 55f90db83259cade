"""Panasonic KX-UT / KX-HDV: text ``NAME="value"`` lines (CRLF) after a fixed first line.

Boot: ``<MODEL>.cfg`` (common) sets ``CFG_STANDARD_FILE_PATH`` to ``Config{MAC}.cfg``, the
per-device file (MAC upper case).

Flexible buttons: a colleague is a BLF key (``X_PANASONIC_IPTEL_BLF``, argument the extension:
the lamp shows its state, a press while it rings picks the call up with the directed-pickup
code ``NUM_PLAN_PICKUP_DIRECT``); a speed dial is a one-touch key (``X_PANASONIC_IPTEL_ONETOUCH``
with an empty argument and the number in ``FLEX_BUTTON_QUICK_DIALn``). Sources: a KX-HDV key
generator (find_string id 1790994597) and FusionPBX's KX-UT670 template for the pickup code and
``DEFAULT_LANGUAGE`` (written ``en-US``; the Dutch value ``nl-NL`` follows that form, unverified).
"""

from __future__ import annotations

import re

from provisioner.phones.keyvalue import QuotedWriter
from provisioner.phones.model import FileKind, PhoneConfig
from provisioner.phones.vendors.base import FileRule, PhoneModel, PhoneVendor, models_by_name

FIRST_LINE = "# Panasonic SIP Phone Standard Format File # DO NOT CHANGE THIS LINE!"
MODELS = models_by_name(
    PhoneModel("KX-UT133", lines=4, keys=24),
    PhoneModel("KX-UT136", lines=6, keys=24),
    PhoneModel("KX-HDV230", lines=6, keys=24),
    PhoneModel("KX-HDV330", lines=12, keys=24),
    PhoneModel("KX-HDV430", lines=16, keys=24),
)
TRANSPORTS = {"udp": 0, "tcp": 1, "tls": 2}
LANGUAGES = {"nl": "nl-NL", "en": "en-US", "de": "de-DE", "fr": "fr-FR"}
LINE, BLF, ONE_TOUCH = "X_PANASONIC_IPTEL_DN", "X_PANASONIC_IPTEL_BLF", "X_PANASONIC_IPTEL_ONETOUCH"
# The format has no escape for a double quote; names shown on the phone get a single one.
_SHOWN = str.maketrans({'"': "'"})


def _lines(writer: QuotedWriter, config: PhoneConfig) -> None:
    for line in config.lines:
        number = line.index
        for name, value in (
            ("SIP_RGSTR_ADDR", config.registrar or ""),
            ("SIP_PRXY_ADDR", config.registrar or ""),
            ("SIP_RGSTR_PORT", config.registrar_port),
            ("SIP_PRXY_PORT", config.registrar_port),
            ("PHONE_NUMBER", line.number),
            ("SIP_URI", f"sip:{line.number}@{config.registrar}"),
            ("SIP_AUTHID", line.auth_name),
            ("SIP_PASS", line.password),
            ("DISPLAY_NAME", line.display_name.translate(_SHOWN)),
            ("SIP_TRANSPORT", TRANSPORTS[config.transport]),
        ):
            writer.set(f"{name}_{number}", value)


def _keys(writer: QuotedWriter, config: PhoneConfig) -> None:
    for key in config.keys:
        number = key.position
        if key.type == "line":
            writer.set(f"FLEX_BUTTON_FACILITY_ACT{number}", LINE)
            writer.set(f"FLEX_BUTTON_FACILITY_ARG{number}", key.line)
        elif key.type == "blf":
            writer.set(f"FLEX_BUTTON_FACILITY_ACT{number}", BLF)
            writer.set(f"FLEX_BUTTON_FACILITY_ARG{number}", key.value)
        else:  # ring groups, park orbits and pickup codes: one press dials the number
            writer.set(f"FLEX_BUTTON_FACILITY_ACT{number}", ONE_TOUCH)
            writer.set(f"FLEX_BUTTON_FACILITY_ARG{number}", "")
            writer.set(f"FLEX_BUTTON_QUICK_DIAL{number}", key.value)
        writer.set(f"FLEX_BUTTON_LABEL{number}", key.label.translate(_SHOWN))
    if any(key.type == "blf" for key in config.keys):
        writer.set("NUM_PLAN_PICKUP_DIRECT", config.pickup_prefix)


def _time(writer: QuotedWriter, config: PhoneConfig) -> None:
    zone = config.timezone
    writer.set("NTP_ADDR", config.ntp_server)
    writer.set("TIME_ZONE", zone.standard_offset_minutes)
    writer.set("DST_ENABLE", "Y" if zone.has_summer_time else "N")
    if zone.has_summer_time:
        writer.set("DST_OFFSET", zone.summer_offset_minutes - zone.standard_offset_minutes)
        for prefix, month, week, weekday, hour in (
            ("DST_START", zone.start_month, zone.start_week, zone.start_weekday, zone.start_hour),
            ("DST_STOP", zone.end_month, zone.end_week, zone.end_weekday, zone.end_hour),
        ):
            writer.set(f"{prefix}_MONTH", month)
            writer.set(f"{prefix}_ORDINAL_DAY", week)  # 5 = last (unverified, docs/phones.md)
            writer.set(f"{prefix}_DAY_OF_WEEK", (weekday + 1) % 7)  # 0 = Sunday
            writer.set(f"{prefix}_TIME", hour * 60)


def render_device(config: PhoneConfig, file: str) -> bytes:
    """``Config<MAC>.cfg`` (and ``<MODEL>.cfg``, which is the bootstrap)."""
    writer = QuotedWriter(FIRST_LINE)
    _lines(writer, config)
    _keys(writer, config)
    _time(writer, config)
    if config.language in LANGUAGES:
        writer.set("DEFAULT_LANGUAGE", LANGUAGES[config.language])
    writer.set("CFG_STANDARD_FILE_PATH", f"{config.provisioning_url}Config{{MAC}}.cfg")
    writer.set("CFG_CYCLIC", "Y")
    writer.set("CFG_CYCLIC_INTVL", config.resync_seconds // 60)
    if config.provisioning_username and config.provisioning_password:
        writer.set("HTTP_AUTH_ID", config.provisioning_username)
        writer.set("HTTP_AUTH_PASSWORD", config.provisioning_password)
    if config.vlan is not None:
        writer.set("VLAN_ENABLE", "Y")
        writer.set("VLAN_ID_IP_PHONE", config.vlan)
    if config.admin_password:
        writer.set("ADMIN_ID", "admin")
        writer.set("ADMIN_PASS", config.admin_password)
    if config.firmware_url:
        writer.set("FIRM_UPGRADE_ENABLE", "Y")
        writer.set("FIRM_FILE_PATH", config.firmware_url)
        writer.set("FIRM_VERSION", config.firmware_version or "")
    for name, value in config.overrides:
        writer.set(name, value)
    return writer.render()


def device_file(mac: str, model: str) -> str:
    """``Config<MAC>.cfg``, upper case."""
    return f"Config{mac.upper()}.cfg"


def boot_files(mac: str, model: str) -> tuple[str, ...]:
    """What a KX-UT/HDV asks for at boot, in order."""
    return (f"{model}.cfg", device_file(mac, model))


VENDOR = PhoneVendor(
    name="panasonic",
    label="Panasonic",
    ouis=("0080f0", "bcc342", "080023"),
    user_agents=(
        re.compile(
            r"^Panasonic_(?P<model>[^ /]+)/(?P<firmware>[^ ]+)(?: \((?P<mac>[0-9a-fA-F]{11,12})\))?"
        ),
    ),
    files=(
        FileRule(re.compile(r"^Config(?P<mac>[0-9A-F]{12})\.cfg$"), FileKind.DEVICE, unique=True),
        FileRule(
            re.compile(r"^Config(?:Common|KX-[A-Z]+\d+\w*)\.cfg$"), FileKind.ABSENT, unique=True
        ),
        FileRule(re.compile(r"^(?P<model>KX-[A-Z]+\d+\w*)\.cfg$"), FileKind.COMMON, unique=True),
    ),
    models=MODELS,
    content_type="text/plain; charset=utf-8",
    render_device=render_device,
    render_common=render_device,
    device_file=device_file,
    boot_files=boot_files,
)
