"""A phone's boot, read from the real bytes our server hands it: its SIP account and its keys.

Each lab phone fetches its files over HTTP with its vendor's User-Agent, in the order the
vendor's firmware asks for them, inside the first-use window the technician's pairing opened.
The SIP account it then registers with, and the string each BLF key dials to pick up a call
ringing at the colleague it watches, are read from those files, per vendor, as the phone
reads them. So the phone files, the switch's directory answers and the dialplan are proven to
agree, or a test fails.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from tests.e2e.agents import PhoneAccount


@dataclass(frozen=True)
class LabPhone:
    """A phone on the technician's bench: its MAC, model, extension and how it boots."""

    vendor: str
    model: str
    mac: str
    extension: str
    user_agent: str
    files: tuple[str, ...]


@dataclass
class ProvisionedPhone:
    """What the phone took from its files."""

    account: PhoneAccount
    server: str
    pickup_dial: dict[str, str] = field(default_factory=dict)  # watched extension -> dialled


LAB_PHONES = (
    LabPhone(
        "yealink",
        "T46U",
        "805ec0123456",
        "240",
        "Yealink SIP-T46U 108.86.0.20 80:5e:c0:12:34:56",
        ("y000000000124.cfg", "805ec0123456.cfg"),
    ),
    LabPhone(
        "snom",
        "D785",
        "000413aabb01",
        "241",
        "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12 000413aabb01 SXM:0 UXM:0)",
        ("snomD785.htm", "snomD785-000413AABB01.htm"),
    ),
    LabPhone(
        "polycom",
        "VVX450",
        "0004f2aabb02",
        "242",
        "FileTransport PolycomVVX-VVX_450-UA/6.4.6.2118 Type/Application",
        ("000000000000.cfg", "0004f2aabb02-provisioner.cfg"),
    ),
    LabPhone(
        "yealink",
        "T54W",
        "805ec0aabb03",
        "243",
        "Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:03",
        ("y000000000096.cfg", "805ec0aabb03.cfg"),
    ),
)


def fetch(url: str, user_agent: str) -> bytes:
    """One file, as the phone asks for it."""
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
        content: bytes = answer.read()
    return content


def boot_phone(server_url: str, phone: LabPhone) -> ProvisionedPhone:
    """Fetch the phone's files in boot order; read its account from the last (its own)."""
    contents = [fetch(f"{server_url}/p/{name}", phone.user_agent) for name in phone.files]
    return READERS[phone.vendor](contents[-1])


def yealink_settings(content: bytes) -> dict[str, str]:
    """``key = value`` lines (comments and the ``#!version`` line skipped)."""
    settings = {}
    for line in content.decode().splitlines():
        if line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        settings[key.strip()] = value.strip()
    return settings


def read_yealink(content: bytes) -> ProvisionedPhone:
    """Account 1 and the BLF keys (type 16: ``pickup_value`` + ``value`` is dialled)."""
    settings = yealink_settings(content)
    account = PhoneAccount(
        user=settings["account.1.user_name"],
        auth_user=settings["account.1.auth_name"],
        password=settings["account.1.password"],
        domain=settings["account.1.sip_server.1.address"],
        display_name=settings.get("account.1.display_name", ""),
    )
    pickups = {}
    for key, value in settings.items():
        if key.startswith("linekey.") and key.endswith(".type") and value == "16":
            prefix = key.removesuffix(".type")
            watched = settings[f"{prefix}.value"]
            pickups[watched] = settings.get(f"{prefix}.pickup_value", "") + watched
    server = f"{account.domain}:{settings['account.1.sip_server.1.port']}"
    return ProvisionedPhone(account, server, pickups)


def read_snom(content: bytes) -> ProvisionedPhone:
    """Identity 1 and the ``blf <user>|<pickup prefix>`` function keys."""
    root = etree.fromstring(content)

    def setting(name: str) -> str:
        found = root.find(f"phone-settings/{name}[@idx='1']")
        assert found is not None, f"the Snom file has no {name} idx=1"
        return found.text or ""

    account = PhoneAccount(
        user=setting("user_name"),
        auth_user=setting("user_pname"),
        password=setting("user_pass"),
        domain=setting("user_host"),
        display_name=setting("user_realname"),
    )
    pickups = {}
    for key in root.iterfind("functionKeys/fkey"):
        kind, _, target = (key.text or "").partition(" ")
        if kind == "blf":
            watched, _, prefix = target.partition("|")
            watched = watched.removeprefix("<sip:").split("@")[0].rstrip(">")
            pickups[watched] = prefix + watched
    return ProvisionedPhone(account, setting("user_outbound").split(";")[0], pickups)


def read_polycom(content: bytes) -> ProvisionedPhone:
    """``reg.1`` and the attendant's resource list, picked up with the directed pickup string."""
    settings: dict[str, str] = {}
    for element in etree.fromstring(content).iter():
        settings.update({str(name): str(value) for name, value in element.attrib.items()})
    account = PhoneAccount(
        user=settings["reg.1.address"],
        auth_user=settings["reg.1.auth.userId"],
        password=settings["reg.1.auth.password"],
        domain=settings["reg.1.server.1.address"],
        display_name=settings.get("reg.1.displayName", ""),
    )
    prefix = settings.get("call.directedCallPickupString", "")
    pickups = {
        value: prefix + value
        for name, value in settings.items()
        if name.startswith("attendant.resourceList.") and name.endswith(".address")
    }
    server = f"{account.domain}:{settings.get('reg.1.server.1.port', '5060')}"
    return ProvisionedPhone(account, server, pickups)


READERS: dict[str, Callable[[bytes], ProvisionedPhone]] = {
    "yealink": read_yealink,
    "snom": read_snom,
    "polycom": read_polycom,
}
