"""Identification: every real User-Agent string from the reference, and file names."""

from __future__ import annotations

import pytest

from provisioner.phones.identify import clean_path, from_user_agent, identify
from provisioner.phones.model import DeviceInfo, FileKind, RequestInfo

# (User-Agent, vendor, model, firmware, MAC): User-Agents real phones sent, each with where it
# was seen. Sources (read, not copied):
#   WZ-<vendor> = wazo-platform/wazo-provd-plugins at 2321a3f3, the User-Agents listed in the
#                 comments of plugins/wazo_<vendor>/.../common.py (collected from devices);
#   REF = shared/reference/phones.md (vendor manuals quoted there);
#   GS-PEER = a Laravel provisioning controller's comment (find_string id 21850049240);
#   GEMEINSCHAFT = the Gemeinschaft PBX's Tiptel provisioning, htdocs/prov/tiptel/settings.php,
#                 whose comment lists what each Tiptel model sent (find_string id 6047190841);
#   POLY-PEERS = a PHP provisioning server's test comment (find_string id 27681058009) and a
#                TypeScript parser's test (find_string id 44047101211);
#   SNOM-M9 = FreePBX-Swiss's Snom provisioning script (Urs Rueedi, 2009; find_string id
#             6139167094).
USER_AGENTS = [
    # Yealink (WZ-yealink common/common.py, plus REF section 3.2 for the newer models).
    ("Yealink CP860 37.72.0.5 00:15:65:8a:37:86", "yealink", "CP860", "37.72.0.5", "0015658a3786"),
    ("yealink SIP-T18 18.0.0.80 00:15:65:27:3e:05", "yealink", "T18", "18.0.0.80", "001565273e05"),
    (
        "Yealink SIP-T19P_E2 53.80.0.3 00:15:65:4c:4c:26",
        "yealink",
        "T19P_E2",
        "53.80.0.3",
        "0015654c4c26",
    ),
    (
        "Yealink SIP-T20P 9.72.0.30 00:15:65:5e:16:7c",
        "yealink",
        "T20P",
        "9.72.0.30",
        "0015655e167c",
    ),
    (
        "Yealink SIP-T21P 34.72.0.1 00:15:65:4c:4c:26",
        "yealink",
        "T21P",
        "34.72.0.1",
        "0015654c4c26",
    ),
    (
        "Yealink SIP-T21P_E2 52.80.0.3 00:15:65:4c:4c:26",
        "yealink",
        "T21P_E2",
        "52.80.0.3",
        "0015654c4c26",
    ),
    (
        "Yealink SIP-T22P 7.72.0.30 00:15:65:39:31:fc",
        "yealink",
        "T22P",
        "7.72.0.30",
        "0015653931fc",
    ),
    (
        "Yealink SIP-T23G 44.80.0.60 00:15:65:93:70:f2",
        "yealink",
        "T23G",
        "44.80.0.60",
        "0015659370f2",
    ),
    (
        "Yealink SIP-T26P 6.72.0.30 00:15:65:4b:57:d2",
        "yealink",
        "T26P",
        "6.72.0.30",
        "0015654b57d2",
    ),
    (
        "Yealink SIP-T27P 45.80.0.25 00:15:65:8c:48:12",
        "yealink",
        "T27P",
        "45.80.0.25",
        "0015658c4812",
    ),
    (
        "yealink SIP-T28P 2.70.0.140 00:15:65:13:ae:0b",
        "yealink",
        "T28P",
        "2.70.0.140",
        "00156513ae0b",
    ),
    (
        "Yealink SIP-T38G  38.70.0.125 00:15:65:2f:c3:5e",
        "yealink",
        "T38G",
        "38.70.0.125",
        "0015652fc35e",
    ),
    (
        "Yealink SIP-T40P 54.80.0.10 00:15:65:94:86:64",
        "yealink",
        "T40P",
        "54.80.0.10",
        "001565948664",
    ),
    (
        "Yealink SIP-T41P 36.72.0.1 00:15:65:53:83:22",
        "yealink",
        "T41P",
        "36.72.0.1",
        "001565538322",
    ),
    (
        "Yealink SIP-T42G 29.72.0.1 00:15:65:4c:3b:b0",
        "yealink",
        "T42G",
        "29.72.0.1",
        "0015654c3bb0",
    ),
    (
        "Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37",
        "yealink",
        "T46G",
        "28.72.0.1",
        "0015654aa937",
    ),
    (
        "Yealink SIP-T48G 35.72.0.6 00:15:65:5c:60:82",
        "yealink",
        "T48G",
        "35.72.0.6",
        "0015655c6082",
    ),
    (
        "Yealink SIP VP-T49G 51.80.0.10 00:15:65:9b:5a:44",
        "yealink",
        "T49G",
        "51.80.0.10",
        "0015659b5a44",
    ),
    (
        "Yealink SIP-W52P 25.73.0.20 00:15:65:40:ae:35",
        "yealink",
        "W52P",
        "25.73.0.20",
        "00156540ae35",
    ),
    ("W52P 25.30.0.2 00:15:65:44:b3:7c", "yealink", "W52P", "25.30.0.2", "00156544b37c"),
    ("Yealink W52P 25.80.0.15 00:15:65:b8:60:05", "yealink", "W52P", "25.80.0.15", "001565b86005"),
    # The last field is a hardware version, not a MAC: the MAC comes from the file name.
    ("Yealink-T46G 28.71.0.81 28.1.0.128.0.0.0", "yealink", "T46G", "28.71.0.81", None),
    ("VP530P 23.70.0.40 00:15:65:31:4b:c0", "yealink", "VP530P", "23.70.0.40", "001565314bc0"),
    ("VP530 23.70.0.41 00:15:65:3d:58:e3", "yealink", "VP530", "23.70.0.41", "0015653d58e3"),
    (
        "Yealink SIP-T46G 28.83.0.120 00:15:65:4a:a9:37",
        "yealink",
        "T46G",
        "28.83.0.120",
        "0015654aa937",
    ),  # REF 3.2
    (
        "Yealink SIP-T54W 96.85.0.5 80:5e:c0:71:01:38",
        "yealink",
        "T54W",
        "96.85.0.5",
        "805ec0710138",
    ),  # REF 3.2
    (
        "Yealink W80B 103.83.0.90 80:5e:c0:71:01:38",
        "yealink",
        "W80B",
        "103.83.0.90",
        "805ec0710138",
    ),  # REF 3.2
    (
        "Yealink SIP-T56A 58.80.0.25 001565f429a4",
        "yealink",
        "T56A",
        "58.80.0.25",
        "001565f429a4",
    ),  # REF 3.2
    (
        "Yealink W70B 146.87.0.15 80:5e:0c:1d:65:4e",
        "yealink",
        "W70B",
        "146.87.0.15",
        "805e0c1d654e",
    ),  # REF 3.2
    # Poly (WZ-polycom common/common.py; REF 4.2). No MAC in these: the file name has it.
    (
        "FileTransport PolycomSoundPointIP-SPIP_335-UA/3.2.1.0078",
        "polycom",
        "SPIP335",
        "3.2.1.0078",
        None,
    ),
    (
        "FileTransport PolycomSoundPointIP-SPIP_335-UA/4.2.1.0275",
        "polycom",
        "SPIP335",
        "4.2.1.0275",
        None,
    ),
    (
        "FileTransport PolycomSoundPointIP-SPIP_450-UA/3.2.3.1734",
        "polycom",
        "SPIP450",
        "3.2.3.1734",
        None,
    ),
    (
        "FileTransport PolycomSoundPointIP-SPIP_550-UA/3.2.3.1734",
        "polycom",
        "SPIP550",
        "3.2.3.1734",
        None,
    ),
    (
        "FileTransport PolycomSoundStationIP-SSIP_6000-UA/4.0.4.2906 Type/Application",
        "polycom",
        "SSIP6000",
        "4.0.4.2906",
        None,
    ),
    (
        "FileTransport PolycomSoundStationIP-SSIP_6000-UA/5.0.3.1667 Type/Updater",
        "polycom",
        "SSIP6000",
        "5.0.3.1667",
        None,
    ),
    (
        "FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 Type/Application",
        "polycom",
        "VVX400",
        "4.1.4.7430",
        None,
    ),
    (
        "FileTransport PolycomVVX-VVX_101-UA/5.4.3.1014 Type/Application",
        "polycom",
        "VVX101",
        "5.4.3.1014",
        None,
    ),
    # Poly with the serial number, which is the MAC, in the User-Agent (POLY-PEERS).
    (
        "FileTransport PolycomSoundStationIP-SSIP_5000-UA/4.0.3.7562 (SN:0004f2e765da)"
        " Type/Application",
        "polycom",
        "SSIP5000",
        "4.0.3.7562",
        "0004f2e765da",
    ),
    (
        "FileTransport PolycomSoundPointIP-SPIP_335-UA/4.0.13.1445 (SN:0004f249d83f)"
        " Type/Application",
        "polycom",
        "SPIP335",
        "4.0.13.1445",
        "0004f249d83f",
    ),
    # Snom M9, lower case and a one-digit model (SNOM-M9).
    ("Mozilla/4.0 (compatible; snom m9 9.1.43)", "snom", "m9", "9.1.43", None),
    # Snom (WZ-snom common/common.py and common_dect/common.py); older firmware has no MAC.
    ("Mozilla/4.0 (compatible; snom lid 3605)", "snom", None, None, None),
    (
        "Mozilla/4.0 (compatible; snom320-SIP 6.5.20; snom320 jffs2 v3.36; snom320 linux 3.38)",
        "snom",
        "320",
        "6.5.20",
        None,
    ),
    ("Mozilla/4.0 (compatible; snom320-SIP 7.3.30 1.1.3-u)", "snom", "320", "7.3.30", None),
    ("Mozilla/4.0 (compatible; snom320-SIP 8.4.18 1.1.3-s)", "snom", "320", "8.4.18", None),
    (
        "Mozilla/4.0 (compatible; snom710-SIP 8.7.3.19 1.1.5-IFX-05.01.12)",
        "snom",
        "710",
        "8.7.3.19",
        None,
    ),
    (
        "Mozilla/4.0 (compatible; snom710-SIP 8.7.5.35 1.1.5-IFX-05.01.12 000413741767)",
        "snom",
        "710",
        "8.7.5.35",
        "000413741767",
    ),
    ("Mozilla/4.0 (compatible; snom760-SIP 8.7.3.19 2010.06)", "snom", "760", "8.7.3.19", None),
    (
        "Mozilla/4.0 (compatible; snom820-SIP 8.4.35 1.1.4-IFX-26.11.09)",
        "snom",
        "820",
        "8.4.35",
        None,
    ),
    (
        "Mozilla/4.0 (compatible; snom870-SIP 8.4.35 SPEAr300 SNOM 1.4)",
        "snom",
        "870",
        "8.4.35",
        None,
    ),
    ("Mozilla/4.0 (compatible; snomPA1-SIP 8.4.35 1.1.3-s)", "snom", "PA1", "8.4.35", None),
    (
        "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24"
        " SXM:0 UXM:0)",
        "snom",
        "D785",
        "10.1.33.33",
        "000413922d24",
    ),
    (
        "Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)",
        "snom",
        "M900",
        "05.20.0001",
        "000413b60680",
    ),
    # Grandstream (WZ-grandstream common/common.py and common_ata/common.py; GS-PEER).
    (
        "Grandstream Model HW GXP1405 SW 1.0.4.23 DevId 000b8240d55c",
        "grandstream",
        "GXP1405",
        "1.0.4.23",
        "000b8240d55c",
    ),
    (
        "Grandstream Model HW GXP1628 SW 1.0.4.138 DevId c074ad2bd859",
        "grandstream",
        "GXP1628",
        "1.0.4.138",
        "c074ad2bd859",
    ),
    (
        "Grandstream Model HW GXP2200 V2.2A SW 1.0.1.33 DevId 000b82462d97",
        "grandstream",
        "GXP2200",
        "1.0.1.33",
        "000b82462d97",
    ),
    (
        "Grandstream Model HW GXV3240 V1.6B SW 1.0.1.27 DevId 000b82632815",
        "grandstream",
        "GXV3240",
        "1.0.1.27",
        "000b82632815",
    ),
    (
        "Grandstream Model HW GXV3350  V1.3A SW 1.0.1.8 DevId c074ad150b88",
        "grandstream",
        "GXV3350",
        "1.0.1.8",
        "c074ad150b88",
    ),
    (
        "Grandstream GXP2000 (gxp2000e.bin:1.2.5.3/boot55e.bin:1.1.6.9) DevId 000b822726c8",
        "grandstream",
        "GXP2000",
        "1.2.5.3",
        "000b822726c8",
    ),
    (
        "Grandstream Model HW GRP2614 SW 1.0.5.15 DevId c074ad0b63ee",
        "grandstream",
        "GRP2614",
        "1.0.5.15",
        "c074ad0b63ee",
    ),
    (
        "Grandstream Model HW HT801 V1.1A SW 1.0.17.5 DevId c074ad273a10",
        "grandstream",
        "HT801",
        "1.0.17.5",
        "c074ad273a10",
    ),
    (
        "Grandstream Model HW HT802V2 V1.0A SW 1.0.5.4 DevId ec74d763e419",
        "grandstream",
        "HT802V2",
        "1.0.5.4",
        "ec74d763e419",
    ),
    (
        "Grandstream Model HW GRP2616 SW 1.0.13.59 DevId ec74d7800474",
        "grandstream",
        "GRP2616",
        "1.0.13.59",
        "ec74d7800474",
    ),  # GS-PEER
    # Cisco SPA and Linksys (WZ-cisco_spa common/common.py): "(<MAC>)(<serial>)", the MAC may be
    # missing; Linksys' parenthesis holds a serial number, not a MAC.
    (
        "Cisco/SPA501G-7.4.4 (8843E157DDCC)(CBT141100HR)",
        "cisco_spa",
        "SPA501G",
        "7.4.4",
        "8843e157ddcc",
    ),
    (
        "Cisco/SPA508G-7.4.4 (0002FDFF2103)(CBT141400UK)",
        "cisco_spa",
        "SPA508G",
        "7.4.4",
        "0002fdff2103",
    ),
    (
        "Cisco/SPA508G-7.4.8a (0002FDFF2103)(CBT141400UK)",
        "cisco_spa",
        "SPA508G",
        "7.4.8a",
        "0002fdff2103",
    ),
    ("Cisco/SPA525G-7.4.4 (CBT141900G7)", "cisco_spa", "SPA525G", "7.4.4", None),
    ("Cisco/SPA525G-7.4.7 (CBT141900G7)", "cisco_spa", "SPA525G", "7.4.7", None),
    ("Linksys/SPA-942-6.1.5(a) (88019FA42805)", "cisco_spa", "SPA-942", "6.1.5(a)", None),
    ("Linksys/SPA-962-6.1.5(a) (4MM00F903042)", "cisco_spa", "SPA-962", "6.1.5(a)", None),
    # Cisco MPP (WZ-cisco_sip v12_0_7/common.py).
    ("Cisco-CP-7832-3PCC/11.0.1 (00562b043615)", "cisco_mpp", "7832", "11.0.1", "00562b043615"),
    # Fanvil (WZ-fanvil common/common.py).
    ("Fanvil X4 2.10.2.6887 0c383e07e16c", "fanvil", "X4", "2.10.2.6887", "0c383e07e16c"),
    ("Fanvil X6U Pro 0.0.10 0c383e2cd782", "fanvil", "X6U-Pro", "0.0.10", "0c383e2cd782"),
    ("Fanvil V67 2.6.6.187 0c383e2b29e6", "fanvil", "V67", "2.6.6.187", "0c383e2b29e6"),
    ("Fanvil i10SV 2.12.10.1 0c383e2397f4", "fanvil", "i10SV", "2.12.10.1", "0c383e2397f4"),
    ("Fanvil i53W 2.12.9 0c383e10a440", "fanvil", "i53W", "2.12.9", "0c383e10a440"),
    ("Fanvil V65 2.12.2.4 0c383e38e123", "fanvil", "V65", "2.12.2.4", "0c383e38e123"),
    ("Fanvil H2U-V2 2.12.0 0c383e32342e", "fanvil", "H2U-V2", "2.12.0", "0c383e32342e"),
    ("Fanvil W620W 2.16.10 0c383e7dd216", "fanvil", "W620W", "2.16.10", "0c383e7dd216"),
    ("Fanvil X5U-V2 2.12.16.17 0c383e557eb1", "fanvil", "X5U-V2", "2.12.16.17", "0c383e557eb1"),
    # Tiptel: Yealink-built (a Yealink OUI), sold under Tiptel's name (GEMEINSCHAFT).
    (
        "Tiptel IP 28xs 18.0.13.3 00:15:65:17:0a:3a",
        "yealink",
        "IP-28xs",
        "18.0.13.3",
        "001565170a3a",
    ),
    ("Tiptel IP 280 9.43.13.6 00:15:65:13:f0:7f", "yealink", "IP-280", "9.43.13.6", "00156513f07f"),
    ("Tiptel IP 284 6.43.13.8 00:15:65:13:ec:1d", "yealink", "IP-284", "6.43.13.8", "00156513ec1d"),
    ("Tiptel IP 286 2.43.13.6 00:15:65:13:eb:6f", "yealink", "IP-286", "2.43.13.6", "00156513eb6f"),
    # Gigaset (WZ-gigaset common/common.py and Nx70_83_v2_62_1/common.py).
    (
        "Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605",
        "gigaset",
        "N870",
        "83.V2.11.0+build.a546b91",
        "7c2f80e0d605",
    ),
    (
        "Gigaset N720 DM PRO/70.089.00.000.000;7C2F80CA21E4",
        "gigaset",
        "N720",
        "70.089.00.000.000",
        "7c2f80ca21e4",
    ),
    ("Gigaset N720 DM PRO/70.108.00.000.000", "gigaset", "N720", "70.108.00.000.000", None),
    (
        "N510 IP PRO/42.245.00.000.000;7C2F804DF9A9",
        "gigaset",
        "N510",
        "42.245.00.000.000",
        "7c2f804df9a9",
    ),
    ("N510 IP PRO/42.245.00.000.000", "gigaset", "N510", "42.245.00.000.000", None),
    (
        "N510 IP PRO/42.258.00.000.000;7C2F806257D7",
        "gigaset",
        "N510",
        "42.258.00.000.000",
        "7c2f806257d7",
    ),
    ("N510 IP PRO/42.258.00.000.000", "gigaset", "N510", "42.258.00.000.000", None),
    # Panasonic (WZ-panasonic common/common.py; REF 11.2, whose own example has 11 digits: no
    # MAC rather than a wrong one).
    ("Panasonic_KX-UT113/01.133 (0080f0c8c381)", "panasonic", "KX-UT113", "01.133", "0080f0c8c381"),
    ("Panasonic_KX-UT670/01.022 (0080f000000)", "panasonic", "KX-UT670", "01.022", None),
]


@pytest.mark.parametrize(
    ("user_agent", "vendor", "model", "firmware", "mac"),
    USER_AGENTS,
    ids=[row[0][:48] for row in USER_AGENTS],
)
def test_real_user_agent(
    user_agent: str, vendor: str, model: str | None, firmware: str | None, mac: str | None
) -> None:
    assert from_user_agent(user_agent) == DeviceInfo(vendor, model, firmware, mac)


def test_the_table_holds_sixty_real_user_agents_at_least() -> None:
    assert len({row[0] for row in USER_AGENTS}) >= 60


# Forms the sources describe but for which no captured string was found; each row says what it is
# derived from (the reasoning is in docs/phones.md, "User-Agents").
DERIVED_FORMS = [
    # Grandstream writes its DevId with colons on some firmware (issue 13): the MAC either way.
    (
        "Grandstream Model HW GXP2170 SW 1.0.9.135 DevId 00:0b:82:12:34:56",
        DeviceInfo("grandstream", "GXP2170", "1.0.9.135", "000b82123456"),
    ),
    # MPP phones with the SPA form "(<MAC>)(<serial>)" or other text after the MAC (the
    # User-Agent is the HTTP_User_Agent_Name template, REF 8.2).
    (
        "Cisco-CP-8841-3PCC/12.0.7 (00562b043615)(FCH2443D9R4)",
        DeviceInfo("cisco_mpp", "8841", "12.0.7", "00562b043615"),
    ),
    (
        "Cisco-CP-6851-3PCC/11.3.1 (00562b043615) SN:FCH2443D9R4",
        DeviceInfo("cisco_mpp", "6851", "11.3.1", "00562b043615"),
    ),
    # N870E (a model Gigaset lists with the N870, teamwork.gigaset.com pageId 1391168731).
    (
        "Gigaset N870E IP PRO/83.V2.65.0+build.1c2d3e4;7C2F80E0D605",
        DeviceInfo("gigaset", "N870E", "83.V2.65.0+build.1c2d3e4", "7c2f80e0d605"),
    ),
    (
        '"Gigaset N670 IP PRO/83.V2.62.1+build.d1d6a22;7C2F80E0D605;Handset=2"',
        DeviceInfo("gigaset", "N670", "83.V2.62.1+build.d1d6a22", "7c2f80e0d605"),
    ),
    # A field Gigaset may add after the MAC (the ";Handset=" tail shows the form can grow): the
    # vendor, model, firmware and MAC stay; only the unknown field is left aside.
    (
        "Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605;Role=Integrator",
        DeviceInfo("gigaset", "N870", "83.V2.11.0+build.a546b91", "7c2f80e0d605"),
    ),
    (
        "Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605;Handset=2;Role=DM",
        DeviceInfo("gigaset", "N870", "83.V2.11.0+build.a546b91", "7c2f80e0d605"),
    ),
    # An M-series base whose firmware leaves the MAC out (the file name carries it).
    ("Mozilla/4.0 (compatible; Snom M700 10.7.0.13)", DeviceInfo("snom", "M700", "10.7.0.13")),
    # A Yealink-built phone under another brand: the Yealink form with a Yealink MAC.
    (
        "Telefonica SIP-T46S 66.86.0.15 80:5e:c0:12:34:56",
        DeviceInfo("yealink", "T46S", "66.86.0.15", "805ec0123456"),
    ),
]


@pytest.mark.parametrize(
    ("user_agent", "expected"), DERIVED_FORMS, ids=[r[0][:40] for r in DERIVED_FORMS]
)
def test_derived_user_agent_forms(user_agent: str, expected: DeviceInfo) -> None:
    assert from_user_agent(user_agent) == expected


def test_a_brand_on_the_yealink_form_is_not_believed_without_a_yealink_mac() -> None:
    assert from_user_agent("Telefonica SIP-T46S 66.86.0.15 aa:bb:cc:12:34:56") == DeviceInfo()
    assert from_user_agent("Tiptel IP 286 2.43.13.6 aa:bb:cc:13:eb:6f") == DeviceInfo()


@pytest.mark.parametrize(
    "user_agent",
    [
        "Yealink SIP-T46U 108.86.0.90 00:00:00:00:00:00",
        "Fanvil X4U 2.12.16.17 000000000000",
        "Grandstream Model HW GRP2614 SW 1.0.5.15 DevId 000000000000",
        "Cisco-CP-8841-3PCC/12.0.7 (000000000000)",
        "Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;000000000000",
        "Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12 000000000000 SXM:0 UXM:0)",
    ],
)
def test_an_all_zero_mac_is_never_a_device(user_agent: str) -> None:
    info = from_user_agent(user_agent)
    assert info.vendor is not None and info.model is not None
    assert info.mac is None


def test_an_all_zero_mac_in_the_user_agent_does_not_become_the_agent_mac() -> None:
    agent = "Yealink SIP-T46U 108.86.0.90 00:00:00:00:00:00"
    found = identify(RequestInfo("805ec0123456.cfg", "127.0.0.1", "http", agent))
    assert found is not None and found.mac == "805ec0123456" and found.agent_mac is None


@pytest.mark.parametrize(
    "user_agent",
    [
        "",
        "curl/8.5.0",
        "Mozilla/5.0 (X11; Linux x86_64)",
        "Yealink",
        # Cisco's ATA191 (WZ-cisco_sip v11_1_0): an adapter we do not provision.
        "Cisco/ATA191-MPP-11-1-0-MSR4 (FCH2443D9R4)",
    ],
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


def test_a_phones_request_is_worked_out_once_and_odd_ones_are_not_kept() -> None:
    from provisioner.phones import identify as identification

    agent = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:12:34:99"
    first = identify(RequestInfo(path="805ec0123499.cfg", source="192.0.2.7", user_agent=agent))
    kept = identification._kept_identified.cache_info().currsize
    again = identify(RequestInfo(path="805ec0123499.cfg", source="192.0.2.7", user_agent=agent))
    assert again is first  # the same answer, not worked out again
    assert identification._kept_identified.cache_info().currsize == kept
    for number in range(20):  # a flood of long User-Agents holds nothing
        identify(
            RequestInfo(
                path="805ec0123499.cfg", source="192.0.2.7", user_agent=f"{number} " + "x" * 300
            )
        )
    assert identification._kept_identified.cache_info().currsize == kept
