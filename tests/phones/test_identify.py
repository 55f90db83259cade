"""Identification: every real User-Agent string from the reference, and file names."""

from __future__ import annotations

import pytest

from provisioner.phones.identify import clean_path, from_user_agent, identify
from provisioner.phones.model import DeviceInfo, FileKind, RequestInfo

# (User-Agent, vendor, model, firmware, MAC) -- the strings are the reference's real ones.
USER_AGENTS = [
    (
        "Yealink SIP-T46G 28.83.0.120 00:15:65:4a:a9:37",
        "yealink",
        "T46G",
        "28.83.0.120",
        "0015654aa937",
    ),
    (
        "Yealink SIP-T54W 96.85.0.5 80:5e:c0:71:01:38",
        "yealink",
        "T54W",
        "96.85.0.5",
        "805ec0710138",
    ),
    (
        "Yealink W80B 103.83.0.90 80:5e:c0:71:01:38",
        "yealink",
        "W80B",
        "103.83.0.90",
        "805ec0710138",
    ),
    ("Yealink SIP-T56A 58.80.0.25 001565f429a4", "yealink", "T56A", "58.80.0.25", "001565f429a4"),
    (
        "Yealink W70B 146.87.0.15 80:5e:0c:1d:65:4e",
        "yealink",
        "W70B",
        "146.87.0.15",
        "805e0c1d654e",
    ),
    (
        "FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 Type/Application",
        "polycom",
        "VVX400",
        "4.1.4.7430",
        None,
    ),
    (
        "FileTransport PolycomVVX-VVX_400-UA/5.0.3.1667 Type/Updater",
        "polycom",
        "VVX400",
        "5.0.3.1667",
        None,
    ),
    (
        "FileTransport PolycomVVX-VVX_101-UA/5.4.3.1014 Type/Application",
        "polycom",
        "VVX101",
        "5.4.3.1014",
        None,
    ),
    (
        "FileTransport PolycomSoundPointIP-SPIP_335-UA/3.2.1.0078",
        "polycom",
        "SPIP335",
        "3.2.1.0078",
        None,
    ),
    (
        "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5"
        " 000413922D24 SXM:0 UXM:0)",
        "snom",
        "D785",
        "10.1.33.33",
        "000413922d24",
    ),
    (
        "snom710-SIP 8.7.5.35 1.1.5-IFX-05.01.12 000413741767",
        "snom",
        "710",
        "8.7.5.35",
        "000413741767",
    ),
    (
        "Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)",
        "snom",
        "M900",
        "05.20.0001",
        "000413b60680",
    ),
    (
        "Grandstream Model HW GRP2614 SW 1.0.5.15 DevId c074ad0b63ee",
        "grandstream",
        "GRP2614",
        "1.0.5.15",
        "c074ad0b63ee",
    ),
    (
        "Grandstream Model HW GXP2200 V2.2A SW 1.0.1.33 DevId 000b82462d97",
        "grandstream",
        "GXP2200",
        "1.0.1.33",
        "000b82462d97",
    ),
    (
        "Grandstream GXP2000 (gxp2000e.bin:1.2.5.3/boot55e.bin:1.1.6.9) DevId 000b822726c8",
        "grandstream",
        "GXP2000",
        None,
        "000b822726c8",
    ),
    (
        "Cisco/SPA508G-7.4.8a (0002FDFF2103)(CBT141400UK)",
        "cisco_spa",
        "SPA508G",
        "7.4.8a",
        "0002fdff2103",
    ),
    ("Cisco/SPA525G-7.4.7 (CBT141900G7)", "cisco_spa", "SPA525G", "7.4.7", None),
    ("Linksys/SPA-942-6.1.5(a) (88019FA42805)", "cisco_spa", "SPA-942", "6.1.5(a)", None),
    ("Cisco-CP-7832-3PCC/11.0.1 (00562b043615)", "cisco_mpp", "7832", "11.0.1", "00562b043615"),
    ("Fanvil X4 2.10.2.6887 0c383e07e16c", "fanvil", "X4", "2.10.2.6887", "0c383e07e16c"),
    ("Fanvil X6U Pro 0.0.10 0c383e2cd782", "fanvil", "X6U-Pro", "0.0.10", "0c383e2cd782"),
    ("Fanvil X5U-V2 2.12.16.17 0c383e557eb1", "fanvil", "X5U-V2", "2.12.16.17", "0c383e557eb1"),
    (
        "Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605",
        "gigaset",
        "N870",
        "83.V2.11.0+build.a546b91",
        "7c2f80e0d605",
    ),
    (
        "N510 IP PRO/42.245.00.000.000;7C2F804DF9A9",
        "gigaset",
        "N510",
        "42.245.00.000.000",
        "7c2f804df9a9",
    ),
    (
        "N510 IP PRO/42.258.00.000.000;7C2F806257D7",
        "gigaset",
        "N510",
        "42.258.00.000.000",
        "7c2f806257d7",
    ),
    (
        "Gigaset N720 DM PRO/70.089.00.000.000;7C2F80CA21E4",
        "gigaset",
        "N720",
        "70.089.00.000.000",
        "7c2f80ca21e4",
    ),
    ("Panasonic_KX-UT113/01.133 (0080f0c8c381)", "panasonic", "KX-UT113", "01.133", "0080f0c8c381"),
    # The reference's own example has 11 digits: no MAC, rather than a wrong one.
    ("Panasonic_KX-UT670/01.022 (0080f000000)", "panasonic", "KX-UT670", "01.022", None),
]


@pytest.mark.parametrize(
    ("user_agent", "vendor", "model", "firmware", "mac"),
    USER_AGENTS,
    ids=[row[0][:48] for row in USER_AGENTS],
)
def test_real_user_agent(
    user_agent: str, vendor: str, model: str, firmware: str | None, mac: str | None
) -> None:
    info = from_user_agent(user_agent)
    assert info.vendor == vendor
    assert info.model == model
    if firmware is not None:
        assert info.firmware == firmware
    assert info.mac == mac


@pytest.mark.parametrize(
    "user_agent", ["", "curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64)", "Yealink"]
)
def test_other_user_agents_say_nothing(user_agent: str) -> None:
    assert from_user_agent(user_agent) == DeviceInfo()


# (path, User-Agent, vendor or None, kind) for requests without a decisive User-Agent too.
FILES = [
    ("805ec0123456.boot", "", "yealink", FileKind.COMMON),
    ("y000000000000.boot", "", "yealink", FileKind.COMMON),
    ("y000000000108.cfg", "", "yealink", FileKind.COMMON),
    ("805ec0123456.cfg", "", "yealink", FileKind.DEVICE),  # by OUI
    ("0c383e123456.cfg", "", "fanvil", FileKind.DEVICE),  # by OUI
    ("64167f123456.cfg", "", "polycom", FileKind.ABSENT),  # Poly moves on to its master file
    ("aabbcc123456.cfg", "", None, None),  # unknown OUI, no User-Agent: nobody can tell
    ("aabbcc123456.cfg", "Fanvil X4U 2.12.16.17 aabbcc123456", "fanvil", FileKind.DEVICE),
    ("000000000000.cfg", "", "polycom", FileKind.COMMON),
    ("64167f123456-provisioner.cfg", "", "polycom", FileKind.DEVICE),
    ("64167f123456-app.log", "", "polycom", FileKind.UPLOAD),
    ("snomD785.htm", "", "snom", FileKind.COMMON),
    ("snomD785-000413123456.htm", "", "snom", FileKind.DEVICE),
    ("cfgc074ad123456", "", "grandstream", FileKind.ABSENT),
    ("cfgc074ad123456.xml", "", "grandstream", FileKind.DEVICE),
    ("cfggrp2614.xml", "", "grandstream", FileKind.COMMON),
    ("cfg.xml", "", "grandstream", FileKind.COMMON),
    ("8841-3PCC.xml", "", "cisco_mpp", FileKind.COMMON),
    ("CP-8841-3PCC.xml", "", "cisco_mpp", FileKind.COMMON),
    ("Cisco/CP-8841-3PCC/00562b123456.cfg", "", "cisco_mpp", FileKind.DEVICE),
    ("00562b123456.xml", "", "cisco_mpp", FileKind.DEVICE),
    ("/spa508G.cfg", "", "cisco_spa", FileKind.COMMON),  # TFTP's leading slash
    ("spa0002fd123456.xml", "", "cisco_spa", FileKind.DEVICE),
    ("f0X4hw1.100.cfg", "", "fanvil", FileKind.COMMON),
    ("F0V00X600000.cfg", "", "fanvil", FileKind.COMMON),
    ("f01653123456.cfg", "", "yealink", FileKind.DEVICE),  # a Yealink MAC, not a Fanvil model file
    ("7C2F80123456.xml", "", "gigaset", FileKind.DEVICE),
    ("7c2f80123456.xml", "", "gigaset", FileKind.DEVICE),
    ("provisioning.xml", "", "gigaset", FileKind.ABSENT),
    ("KX-HDV230.cfg", "", "panasonic", FileKind.COMMON),
    ("Config0080F0123456.cfg", "", "panasonic", FileKind.DEVICE),
    ("../etc/passwd", "", None, None),
    ("index.html", "", None, None),
    ("805ec0123456.cfg\x00.txt", "", None, None),
]


@pytest.mark.parametrize(
    ("path", "user_agent", "vendor", "kind"), FILES, ids=[row[0] for row in FILES]
)
def test_file_names(path: str, user_agent: str, vendor: str | None, kind: FileKind | None) -> None:
    found = identify(RequestInfo(path, "127.0.0.1", "http", user_agent))
    assert (found.vendor if found else None) == vendor
    assert (found.kind if found else None) == kind


def test_another_vendors_phone_does_not_get_the_file() -> None:
    agent = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:12:34:56"
    assert identify(RequestInfo("snomD785-000413123456.htm", "127.0.0.1", "http", agent)) is None


def test_user_agent_mac_is_kept_apart_from_the_file_mac() -> None:
    agent = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:99:99:99"
    found = identify(RequestInfo("805ec0123456.cfg", "127.0.0.1", "http", agent))
    assert found is not None and found.mac == "805ec0123456" and found.agent_mac == "805ec0999999"


@pytest.mark.parametrize("path", ["/a.cfg", "a.cfg"])
def test_one_leading_slash_is_stripped(path: str) -> None:
    assert clean_path(path) == "a.cfg"
