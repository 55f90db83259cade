"""Test-side readers: parse each vendor's file with lxml or a key=value parser, written from
the reference, into the same neutral facts, so one set of checks covers every vendor."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree


@dataclass
class Facts:
    user: str | None = None
    password: str | None = None
    blf: dict[str, str] = field(default_factory=dict)
    speed: dict[str, str] = field(default_factory=dict)
    timezone: tuple[str, ...] = ()
    language: str | None = None
    everything: str = ""


def key_values(data: bytes, separator: str = " = ") -> dict[str, str]:
    """``key = value`` lines (Yealink); the first line must be the version marker."""
    lines = data.decode("utf-8").split("\n")
    assert lines[0] == "#!version:1.0.0.1"
    values: dict[str, str] = {}
    for line in lines[1:]:
        if line and not line.startswith("#") and not line.startswith("include:"):
            key, found, value = line.partition(separator)
            assert found, f"not a setting line: {line!r}"
            assert key not in values, f"{key} twice"
            values[key] = value
    return values


def quoted_values(data: bytes) -> dict[str, str]:
    """Panasonic: a marker line, ``NAME="value"`` lines with CRLF, an empty last line."""
    text = data.decode("utf-8")
    assert text.endswith("\r\n\r\n") and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")
    assert lines[0].startswith("# Panasonic SIP Phone Standard Format File #")
    values = {}
    for line in filter(None, lines[1:]):
        name, _, quoted = line.partition("=")
        assert quoted.startswith('"') and quoted.endswith('"') and quoted.count('"') == 2
        values[name] = quoted[1:-1]
    return values


def read_yealink(files: dict[str, bytes]) -> Facts:
    values = key_values(files["device"])
    facts = Facts(values.get("account.1.user_name"), values.get("account.1.password"))
    for key, value in values.items():
        if key.startswith("linekey.") and key.endswith(".type"):
            prefix = key.removesuffix(".type")
            target = {"16": facts.blf, "13": facts.speed}.get(value)
            if target is not None:
                target[values[f"{prefix}.value"]] = values[f"{prefix}.label"]
    facts.timezone = (
        values.get("local_time.time_zone", ""),
        values.get("local_time.time_zone_name", ""),
    )
    facts.language = values.get("lang.gui")
    return facts


def _attributes(data: bytes) -> dict[str, str]:
    root = etree.fromstring(data)
    return {name: value for node in root.iter() for name, value in node.attrib.items()}


def read_polycom(files: dict[str, bytes]) -> Facts:
    values = _attributes(files["device"])
    facts = Facts(values.get("reg.1.address"), values.get("reg.1.auth.password"))
    index = 1
    while f"attendant.resourceList.{index}.address" in values:
        facts.blf[values[f"attendant.resourceList.{index}.address"]] = values[
            f"attendant.resourceList.{index}.label"
        ]
        index += 1
    for item in etree.fromstring(files.get("directory", b"<directory/>")).iter("item"):
        facts.speed[item.findtext("ct")] = item.findtext("fn")
    prefix = "tcpIpApp.sntp"
    facts.timezone = tuple(
        values.get(name, "")
        for name in (
            f"{prefix}.gmtOffset",
            f"{prefix}.daylightSavings.start.month",
            f"{prefix}.daylightSavings.stop.month",
            f"{prefix}.daylightSavings.start.dayOfWeek.lastInMonth",
        )
    )
    facts.language = values.get("lcl.ml.lang")
    return facts


def read_snom(files: dict[str, bytes]) -> Facts:
    root = etree.fromstring(files["device"])
    settings = root.find("phone-settings")
    first = {node.tag: node.text for node in settings if node.get("idx") == "1"}
    facts = Facts(first.get("user_name"), first.get("user_pass"))
    for key in root.iter("fkey"):
        kind, _, value = (key.text or "").partition(" ")
        if kind == "blf":
            facts.blf[value.split("|")[0]] = key.get("label")
        elif kind == "speed":
            facts.speed[value] = key.get("label")
    facts.timezone = (settings.findtext("timezone") or "",)
    facts.language = settings.findtext("language")
    return facts


def read_grandstream(files: dict[str, bytes]) -> Facts:
    root = etree.fromstring(files["device"])
    assert root.tag == "gs_provision"
    if root.find("config").get("version") == "1":
        return read_grandstream_pvalues(root)
    assert root.find("config").get("version") == "2"
    items = {item.get("name"): item.text or "" for item in root.iter("item")}
    facts = Facts(items.get("account.1.sip.userid"), items.get("account.1.sip.subscriber.password"))
    for name, value in items.items():
        if name.startswith("pks.vpk.") and name.endswith(".keyMode"):
            prefix = name.removesuffix(".keyMode")
            target = {"BLF": facts.blf, "SpeedDial": facts.speed}.get(value)
            if target is not None:
                target[items[f"{prefix}.value"]] = items[f"{prefix}.description"]
    facts.timezone = (items.get("dateTime.timezone", ""),)
    facts.language = items.get("language.gui")
    return facts


def read_grandstream_pvalues(root: etree._Element) -> Facts:
    """GXP21xx P-values: account 1, VPKs 1-6 (P1363 + 2(n-1)) and 7-48 (P23800 + 4(n-7))."""
    values = {node.tag: node.text or "" for node in root.find("config")}
    facts = Facts(values.get("P35"), values.get("P34"))
    for position in range(1, 49):
        if position <= 6:
            mode = 1363 + 2 * (position - 1)
            description, value = mode + 102, mode + 103
        else:
            mode = 23800 + 4 * (position - 7)
            description, value = mode + 2, mode + 3
        # fixed VPKs: speed dial 10, BLF 11; dynamic ones: 0 and 1
        target = {"10": facts.speed, "0": facts.speed, "11": facts.blf, "1": facts.blf}
        found = target.get(values.get(f"P{mode}", ""))
        if found is not None and f"P{value}" in values:
            found[values[f"P{value}"]] = values[f"P{description}"]
    facts.timezone = (values.get("P64", ""),)
    facts.language = values.get("P1362")
    return facts


def read_cisco(files: dict[str, bytes]) -> Facts:
    root = etree.fromstring(files["device"])
    assert root.tag == "flat-profile"
    values = {node.tag: node.text or "" for node in root}
    facts = Facts(values.get("User_ID_1_"), values.get("Password_1_"))
    for name, value in values.items():
        if name.startswith("Extended_Function_"):
            parts = dict(part.split("=", 1) for part in value.split(";"))
            target = facts.blf if "blf" in parts["fnc"].split("+") else facts.speed
            number = (parts.get("sub") or parts.get("ext", "")).split("@")[0]
            target[number] = parts["nme"]
    facts.timezone = (values.get("Time_Zone", ""), values.get("Daylight_Saving_Time_Rule", ""))
    facts.language = values.get("Language_Selection")
    return facts


def read_fanvil(files: dict[str, bytes]) -> Facts:
    root = etree.fromstring(files["device"])
    assert root.tag == "sysConf"
    line = root.find("sip/line[@index='1']")
    facts = Facts(
        line.findtext("PhoneNumber") if line is not None else None,
        line.findtext("RegisterPswd") if line is not None else None,
    )
    for key in root.iter("Fkey"):
        if key.findtext("Type") == "1":
            number_line, _, mode = key.findtext("Value").partition("/")
            target = facts.blf if mode.startswith("b") else facts.speed
            target[number_line.split("@")[0]] = key.findtext("Title")
    date = root.find("phone/date")
    facts.timezone = tuple(
        date.findtext(tag) or ""
        for tag in ("TimeZone", "DSTStartMon", "DSTEndMon", "DSTFixedType", "DSTStartWeek")
    )
    facts.language = root.findtext("phone/DefaultLanguage")
    return facts


def read_gigaset(files: dict[str, bytes]) -> Facts:
    root = etree.fromstring(files["device"])
    params = {param.get("name"): param.get("value") for param in root.iter("param")}
    facts = Facts(
        params.get("SipAccount.00001.UserName"), params.get("SipAccount.00001.AuthPassword")
    )
    facts.timezone = (params.get("DmGlobal.0.TimeZone", ""),)
    return facts


def read_panasonic(files: dict[str, bytes]) -> Facts:
    values = quoted_values(files["device"])
    facts = Facts(values.get("PHONE_NUMBER_1"), values.get("SIP_PASS_1"))
    for name, value in values.items():
        if not name.startswith("FLEX_BUTTON_FACILITY_ACT"):
            continue
        number = name.removeprefix("FLEX_BUTTON_FACILITY_ACT")
        label = values[f"FLEX_BUTTON_LABEL{number}"]
        if value == "X_PANASONIC_IPTEL_BLF":  # lamp and pickup: the argument is the extension
            facts.blf[values[f"FLEX_BUTTON_FACILITY_ARG{number}"]] = label
        elif value == "X_PANASONIC_IPTEL_ONETOUCH":  # the number is in the quick-dial entry
            assert values[f"FLEX_BUTTON_FACILITY_ARG{number}"] == ""
            facts.speed[values[f"FLEX_BUTTON_QUICK_DIAL{number}"]] = label
    if facts.blf:
        assert values.get("NUM_PLAN_PICKUP_DIRECT"), "BLF keys pick up with the pickup code"
    facts.language = values.get("DEFAULT_LANGUAGE")
    facts.timezone = tuple(
        values.get(name, "")
        for name in (
            "TIME_ZONE",
            "DST_START_MONTH",
            "DST_STOP_MONTH",
            "DST_START_TIME",
            "DST_STOP_TIME",
        )
    )
    return facts


READERS = {
    "yealink": read_yealink,
    "polycom": read_polycom,
    "snom": read_snom,
    "grandstream": read_grandstream,
    "cisco_mpp": read_cisco,
    "cisco_spa": read_cisco,
    "fanvil": read_fanvil,
    "gigaset": read_gigaset,
    "panasonic": read_panasonic,
}

# What the reference says each vendor's file should hold for Europe/Amsterdam and Dutch.
EXPECTED_TIMEZONE = {
    "yealink": ("+1", "Netherlands(Amsterdam)"),
    "polycom": ("3600", "3", "10", "1"),
    "snom": ("NLD+1",),
    "grandstream": ("CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00",),
    "cisco_mpp": ("GMT+01:00", "start=3/-1/7/2:0:0;end=10/-1/7/3:0:0;save=1:0:0"),
    "cisco_spa": ("GMT+01:00", "start=3/-1/7/2:0:0;end=10/-1/7/3:0:0;save=1:0:0"),
    "fanvil": ("4", "3", "10", "2", "-1"),  # by week; the last week is -1
    "gigaset": ("Europe/Amsterdam",),
    "panasonic": ("60", "3", "10", "120", "180"),
}
EXPECTED_DUTCH = {
    "yealink": "Dutch",
    "polycom": "Dutch_Netherlands",
    "snom": "Nederlands",
    "grandstream": "nl",
    "cisco_mpp": "Dutch",
    "cisco_spa": "Dutch",
    "fanvil": "nl",
    "gigaset": None,  # no language parameter in our sources
    "panasonic": "nl-NL",  # DEFAULT_LANGUAGE in FusionPBX's en-US form (Dutch value unverified)
}
# Vendors whose BLF keys exist (all but Gigaset's DECT handsets).
BLF_KIND = {"gigaset": None}
COLLEAGUES = {"241": "Sanne", "242": "Pieter", "243": "Fatima"}


def check_full(vendor: str, facts: Facts, password: str) -> None:
    """The facts every paired phone's files must carry for Marc 240 in the demo tenant."""
    assert facts.user == "240"
    assert facts.password == password
    kind = BLF_KIND.get(vendor, "blf")
    if kind == "blf":
        assert facts.blf == COLLEAGUES
    if kind is not None:
        assert facts.speed.get("*8500") == "ALLEN"
    if kind == "speed":
        assert COLLEAGUES.items() <= facts.speed.items()
    assert facts.timezone == EXPECTED_TIMEZONE[vendor]
    assert facts.language == EXPECTED_DUTCH[vendor]
