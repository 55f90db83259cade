"""Snom D7xx (and D3xx/7xx with firmware 8+): ``<settings><phone-settings>`` XML.

Boot: ``snom<model>.htm`` (common: where to provision, time, language), then
``snom<model>-<MAC>.htm`` (per device, MAC upper case). Function keys are 0-based ``fkey``.
"""

from __future__ import annotations

import re

from lxml import etree

from provisioner.phones.model import FileKind, PhoneConfig
from provisioner.phones.vendors.base import FileRule, PhoneModel, PhoneVendor, models_by_name
from provisioner.phones.xml import element, load_skeleton, serialize

MODEL = r"(?P<model>D\d{3}\w*|7\d\d|3\d\d)"
MAC = r"(?P<mac>[0-9A-F]{12})"
# Capacities: identities, and programmable keys (self-labelling keys incl. pages; unsure).
MODELS = models_by_name(
    PhoneModel("D713", lines=4, keys=4),
    PhoneModel("D717", lines=6, keys=18),
    PhoneModel("D735", lines=12, keys=32),
    PhoneModel("D785", lines=12, keys=24),
    PhoneModel("D385", lines=12, keys=48),
    PhoneModel("D345", lines=12, keys=48),
    PhoneModel("D315", lines=4, keys=5),
    PhoneModel("710", lines=4, keys=5),
    PhoneModel("715", lines=4, keys=5),
)
LANGUAGES = {"nl": "Nederlands", "en": "English", "de": "Deutsch", "fr": "Francais"}
# Snom names zones by country and offset; Europe/Amsterdam is NLD+1.
ZONES = {
    "Europe/Amsterdam": "NLD+1",
    "Europe/Brussels": "BEL+1",
    "Europe/Berlin": "GER+1",
    "Europe/Paris": "FRA+1",
}
TONES = {"nl": "NLD", "de": "GER", "fr": "FRA", "en": "GBR"}


def _setting(parent: etree._Element, name: str, value: str | int, index: int | None = None) -> None:
    attributes = {"perm": "R"} if index is None else {"idx": str(index), "perm": "R"}
    element(parent, name, value, **attributes)


def _identity(settings: etree._Element, config: PhoneConfig) -> None:
    outbound = f"{config.registrar}:{config.registrar_port};transport={config.transport}"
    for line in config.lines:
        for name, value in (
            ("user_active", "on"),
            ("user_host", config.registrar or ""),
            ("user_outbound", outbound),
            ("user_name", line.number),
            ("user_pname", line.auth_name),
            ("user_pass", line.password),
            ("user_realname", line.display_name),
            ("user_idle_text", line.label),
        ):
            _setting(settings, name, value, line.index)


def _function_keys(keys: etree._Element, config: PhoneConfig) -> None:
    for line in config.lines:
        element(
            keys,
            "fkey",
            "line",
            idx=str(line.index - 1),
            context="active",
            label=line.label,
            perm="R",
        )
    for key in config.keys:
        if key.type == "blf":
            text = f"blf {key.value}|{config.pickup_prefix}"
        elif key.type == "park":
            text = f"orbit {key.value}"
        elif key.type == "line":
            text = "line"
        else:
            text = f"speed {key.value}"
        element(
            keys,
            "fkey",
            text,
            idx=str(key.position - 1),
            context="active",
            label=key.label,
            perm="R",
        )


def _place(settings: etree._Element, config: PhoneConfig) -> None:
    _setting(settings, "ntp_server", config.ntp_server)
    if config.timezone.name in ZONES:
        _setting(settings, "timezone", ZONES[config.timezone.name])
    _setting(settings, "language", LANGUAGES.get(config.language, "English"))
    _setting(settings, "web_language", LANGUAGES.get(config.language, "English"))
    _setting(settings, "tone_scheme", TONES.get(config.language, "GBR"))
    _setting(settings, "setting_server", config.provisioning_url)
    _setting(settings, "settings_refresh_timer", config.resync_seconds)


def _device(settings: etree._Element, config: PhoneConfig) -> None:
    if config.vlan is not None:
        _setting(settings, "vlan_id", config.vlan)
        _setting(settings, "vlan_qos", 5)
    if config.provisioning_username and config.provisioning_password:
        _setting(settings, "http_client_user", config.provisioning_username)
        _setting(settings, "http_client_pass", config.provisioning_password)
    if config.admin_password:
        _setting(settings, "admin_mode_password", config.admin_password)
        _setting(settings, "http_user", "admin")
        _setting(settings, "http_pass", config.admin_password)
    if config.firmware_url:
        _setting(settings, "firmware", config.firmware_url)
        _setting(settings, "update_policy", "auto_update")  # install without asking
    for name, value in config.overrides:
        _setting(settings, name, value)


def render_device(config: PhoneConfig, file: str) -> bytes:
    """A settings file: identities, keys, time, language, provisioning, admin, firmware."""
    root = load_skeleton("snom", config.model)
    settings, keys = root.find("phone-settings"), root.find("functionKeys")
    assert settings is not None and keys is not None, "the snom skeleton lacks its sections"
    _identity(settings, config)
    _place(settings, config)
    _device(settings, config)
    _function_keys(keys, config)
    return serialize(root)


def device_file(mac: str, model: str) -> str:
    """``snom<model>-<MAC>.htm``, MAC upper case."""
    return f"snom{model}-{mac.upper()}.htm"


def boot_files(mac: str, model: str) -> tuple[str, ...]:
    """What a D7xx asks for at boot, in order."""
    return (f"snom{model}.htm", device_file(mac, model))


VENDOR = PhoneVendor(
    name="snom",
    label="Snom",
    ouis=("000413",),
    user_agents=(
        re.compile(
            r"\bsnom(?P<model>\w+)-SIP\s(?P<firmware>[\d.]+)\s.+\s(?P<mac>[0-9A-Fa-f]{12})\b"
        ),
        # Older firmware leaves the MAC out ("snom320-SIP 8.4.18 1.1.3-s"); it comes from the
        # file name then (wazo-provd-plugins wazo_snom/common lists these forms).
        re.compile(r"\bsnom(?P<model>\w+)-SIP\s(?P<firmware>[\d.]+)"),
        # M-series DECT bases: "Snom M900 05.20.0001 000413b60680", the MAC may be missing; the
        # older M9 writes "snom m9 9.1.43".
        re.compile(
            r"\b[sS]nom\s?(?P<model>[Mm]\d{1,3}\w*)\s(?P<firmware>[\d.]+)"
            r"(?:\s(?P<mac>[0-9A-Fa-f]{12}))?\b"
        ),
        # Firmware 6.5 says only "snom lid 3605": a Snom, model and version unknown.
        re.compile(r"\(compatible; snom lid \d+\)"),
    ),
    files=(
        FileRule(re.compile(rf"^snom{MODEL}\.htm$"), FileKind.COMMON, unique=True),
        FileRule(re.compile(rf"^snom{MODEL}-{MAC}\.htm$"), FileKind.DEVICE, unique=True),
        FileRule(re.compile(rf"^snom{MODEL}-firmware\.xml$"), FileKind.ABSENT, unique=True),
    ),
    models=MODELS,
    content_type="application/xml",
    render_device=render_device,
    render_common=render_device,
    device_file=device_file,
    boot_files=boot_files,
)
