"""The Cisco ``<flat-profile>`` shared by SPA5xx and MPP phones: one element per parameter,
per-line parameters suffixed ``_N_``; function keys through ``Extended_Function_N_``."""

from __future__ import annotations

from lxml import etree

from provisioner.phones.model import Key, PhoneConfig, TimeZoneRule
from provisioner.phones.xml import element, load_skeleton, serialize

TRANSPORTS = {"udp": "UDP", "tcp": "TCP", "tls": "TLS"}
LANGUAGES = {"nl": "Dutch", "en": "English", "de": "German", "fr": "French"}
LOCALES = {"nl": "nl-NL", "en": "en-US", "de": "de-DE", "fr": "fr-FR"}
# Language_Selection only picks among the languages the phone has loaded; English is built in,
# every other one comes from a dictionary file named in Dictionary_Server_Script
# (``serv=<url>;d0=<language>;x0=<file>;d1=...``; wazo-provd-plugins wazo_cisco_spa v7_5_5 and
# wazo_cisco_sip v12_0_7 templates; Cisco SPA500 administration guide, "Regional"). The files are
# Cisco's, per model family and firmware; we name them by language and family, and the operator
# puts Cisco's files under these names (docs/phones.md), answered 404 until then.
DICTIONARY_PATH = "cisco/dictionaries/"


def _offset(minutes: int) -> str:
    hours, rest = divmod(abs(minutes), 60)
    return f"GMT{'-' if minutes < 0 else '+'}{hours:02d}:{rest:02d}"


def summer_time_rule(zone: TimeZoneRule) -> str:
    """``start=3/-1/7/2:0:0;end=10/-1/7/3:0:0;save=1:0:0`` (day -1 last, weekday 7 Sunday)."""

    def edge(month: int, week: int, weekday: int, hour: int) -> str:
        day = -1 if week == 5 else (week - 1) * 7 + 1
        return f"{month}/{day}/{weekday + 1}/{hour}:0:0"

    saved = zone.summer_offset_minutes - zone.standard_offset_minutes
    return (
        f"start={edge(zone.start_month, zone.start_week, zone.start_weekday, zone.start_hour)};"
        f"end={edge(zone.end_month, zone.end_week, zone.end_weekday, zone.end_hour)};"
        f"save={saved // 60}:{saved % 60}:0"
    )


def _set(profile: etree._Element, name: str, value: str | int) -> None:
    element(profile, name, value, ua="na")


def _lines(profile: etree._Element, config: PhoneConfig) -> None:
    for line in config.lines:
        index = line.index
        for name, value in (
            ("Line_Enable", "Yes"),
            ("Proxy", f"{config.registrar}:{config.registrar_port}"),
            ("User_ID", line.number),
            ("Auth_ID", line.auth_name),
            ("Use_Auth_ID", "Yes"),
            ("Password", line.password),
            ("Display_Name", line.display_name),
            ("Short_Name", line.label),
            ("Extension", index),
            ("SIP_Transport", TRANSPORTS[config.transport]),
        ):
            _set(profile, f"{name}_{index}_", value)


# Extended_Function is ``;``-separated ``name=value`` fields and expands ``$`` macros, so a
# label keeps neither (a name like "Sales; Support $MA" would add a field and a MAC).
_FUNCTION_NAME = str.maketrans({";": ",", "$": None})


def _function(key: Key) -> str:
    name = key.label.translate(_FUNCTION_NAME)
    if key.type == "blf":
        # sub= is watched, ext= is dialled by the key's speed dial (Cisco's form
        # "fnc=blf+sd+cp;sub=<BLF_URI>;ext=$USER@$PROXY"); without ext= the key dials nothing.
        return f"fnc=blf+sd+cp;sub={key.value}@$PROXY;ext={key.value}@$PROXY;nme={name}"
    # Speed dial for ring groups, park orbits and pickup codes alike: one press dials it.
    return f"fnc=sd;ext={key.value}@$PROXY;nme={name}"


def _pickup_codes(profile: etree._Element, config: PhoneConfig) -> None:
    """The switch's directed pickup, ``*8`` + extension, for the BLF key and the softkey.

    A BLF key's pickup dials the Attendant Console Call Pickup Code (factory ``*98``); a
    trailing ``#`` stands for the watched user, so ``*8#`` dials ``*8241``. The pickup
    softkey dials the Call Pickup Code before the number the user types."""
    if config.lines:
        _set(profile, "Call_Pickup_Code", config.pickup_prefix)
        _set(profile, "Attendant_Console_Call_Pickup_Code", f"{config.pickup_prefix}#")


def _keys(profile: etree._Element, config: PhoneConfig) -> None:
    _pickup_codes(profile, config)
    for key in config.keys:
        if key.type == "line":
            _set(profile, f"Extension_{key.position}_", key.line)
            continue
        _set(profile, f"Extension_{key.position}_", "Disabled")
        _set(profile, f"Short_Name_{key.position}_", key.label)
        _set(profile, f"Extended_Function_{key.position}_", _function(key))


def dictionary_family(model: str | None) -> str:
    """The dictionary files' family: Cisco ships one set per phone family."""
    name = (model or "").upper()
    if name.startswith("88"):
        return "88xx"
    if name.startswith(("78", "68")):
        return "78xx_68xx"
    if name.startswith("SPA525"):
        return "spa525"
    return "spa50x"


def dictionary_script(config: PhoneConfig, family: str) -> str:
    """English built in as d0, the tenant's language as d1, from our dictionary path."""
    # The dictionaries are no secret: the common path, also for a paired phone (whose
    # provisioning URL is the authenticated ``.../a/``).
    base = config.provisioning_url.removesuffix("a/") if config.lines else config.provisioning_url
    return (
        f"serv={base}{DICTIONARY_PATH};d0=English;x0=en-US_{family}.xml;"
        f"d1={LANGUAGES[config.language]};x1={LOCALES[config.language]}_{family}.xml"
    )


def _settings(
    profile: etree._Element,
    config: PhoneConfig,
    admin_element: str,
    device_rule: str,
    family: str,
) -> None:
    zone = config.timezone
    _set(profile, "Primary_NTP_Server", config.ntp_server)
    _set(profile, "Time_Zone", _offset(zone.standard_offset_minutes))
    _set(profile, "Daylight_Saving_Time_Enable", "Yes" if zone.has_summer_time else "No")
    if zone.has_summer_time:
        _set(profile, "Daylight_Saving_Time_Rule", summer_time_rule(zone))
    _set(profile, "Language_Selection", LANGUAGES.get(config.language, "English"))
    if config.language in LANGUAGES and config.language != "en":
        _set(profile, "Dictionary_Server_Script", dictionary_script(config, family))
    _set(profile, "Locale", LOCALES.get(config.language, "en-US"))
    _set(profile, "Resync_Periodic", config.resync_seconds)
    _profile_rules(profile, config, device_rule)
    if config.vlan is not None:
        _set(profile, "Enable_VLAN", "Yes")
        _set(profile, "VLAN_ID", config.vlan)
    if config.admin_password:
        _set(profile, admin_element, config.admin_password)
    if config.firmware_url:
        _set(profile, "Upgrade_Rule", config.firmware_url)
    for name, value in config.overrides:
        _set(profile, name, value)


def _profile_rules(profile: etree._Element, config: PhoneConfig, device_rule: str) -> None:
    """Bootstrap: rule B fetches the device file next. Paired: the main rule fetches it with
    the device's credentials, and rule B is cleared, so the common file (which would point
    back at the path without credentials) is not asked for again."""
    if not (config.provisioning_username and config.provisioning_password):
        _set(profile, "Profile_Rule_B", f"{config.provisioning_url}{device_rule}")
        return
    # --key: the phone decrypts what this rule fetches (openssl enc -aes-256-cbc) from now on.
    key = f" --key {config.file_key}" if config.file_key else ""
    credentials = (
        f"[--uid {config.provisioning_username} --pwd {config.provisioning_password}{key}]"
    )
    _set(profile, "Profile_Rule", f"{credentials}{config.provisioning_url}{device_rule}")
    _set(profile, "Profile_Rule_B", "")


def render_profile(config: PhoneConfig, vendor: str, admin_element: str, device_rule: str) -> bytes:
    """The flat profile for ``config``; the bootstrap has only time, language and the rule."""
    profile = load_skeleton(vendor, config.model)
    _lines(profile, config)
    _keys(profile, config)
    _settings(profile, config, admin_element, device_rule, dictionary_family(config.model))
    return serialize(profile)
