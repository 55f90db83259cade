"""Vendor files read as the device reads them, beyond the common facts of the golden test:
Gigaset handset slots, tones and server URL; Cisco's dictionary server for a Dutch screen."""

from __future__ import annotations

import pytest
from lxml import etree

from provisioner.phones.config import bootstrap_config, phone_config
from provisioner.phones.identify import identify
from provisioner.phones.model import FileKind, RequestInfo
from provisioner.phones.vendors import by_name
from provisioner.tenants.schema.devices import FunctionKey, Phone
from provisioner.tenants.yaml_io import read_tenant_file
from tests.conftest import DEMO_FILE
from tests.phones.test_golden import BASE_URL, SECRETS


def full_file(vendor: str, model: str, mac: str, lines: list[str] | None = None) -> bytes:
    document, _ = read_tenant_file(DEMO_FILE)
    phone = Phone(mac=mac, vendor=vendor, model=model, lines=lines or ["240"])
    config = phone_config(document, phone, model, SECRETS, BASE_URL)
    return by_name(vendor).render_device(config, by_name(vendor).device_file(mac, model))


def bootstrap_file(vendor: str, model: str, language: str = "nl") -> bytes:
    config = bootstrap_config(vendor, model, BASE_URL, "Europe/Amsterdam", language, "ntp")
    return by_name(vendor).render_common(config, "common")


# Gigaset Nx70 (wazo-provd-plugins 2321a3f3 wazo_gigaset/Nx70_83_v2_62_1/templates/base.tpl, and
# a second provisioning generator, find_string id 34901722802): an account belongs to a handset
# slot created by <oper name="add_hs" value="<slot>"> with hs.RegStatus ToReg.


def test_gigaset_binds_each_account_to_a_handset_slot_waiting_for_registration() -> None:
    nvm = etree.fromstring(full_file("gigaset", "N870", "7c2f80123456")).find("nvm")
    assert nvm is not None
    opers = [node for node in nvm if node.tag == "oper" and node.get("name") == "add_hs"]
    assert [oper.get("value") for oper in opers] == ["00001"]
    assert [(p.get("name"), p.get("value")) for p in opers[0]] == [("hs.RegStatus", "ToReg")]
    names = [node.get("name") for node in nvm]
    # The slot exists before anything is written into it.
    assert names.index("add_hs") < names.index("SipAccount.00001.UserName")
    params = {node.get("name"): node.get("value") for node in nvm.iter("param")}
    assert params["hs.00001.DECT_AC"] == "0240"  # the registration PIN: the extension's last four


def test_gigaset_bootstrap_binds_no_handset() -> None:
    root = etree.fromstring(bootstrap_file("gigaset", "N870"))
    assert root.find("nvm/oper") is None


def test_gigaset_plays_dutch_tones() -> None:
    params = {
        node.get("name"): node.get("value")
        for node in etree.fromstring(bootstrap_file("gigaset", "N870")).iter("param")
    }
    assert params["Telephony.0.ToneScheme"] == "Netherlands"


def test_gigaset_server_url_carries_the_credentials_gigaset_documents() -> None:
    # "Redirect server URL format = http(s)://<username>:<password>@URL" (teamwork.gigaset.com
    # pageId 1391168731, Nx70 from software 2.53): the base then answers Digest with them.
    params = {
        node.get("name"): node.get("value")
        for node in etree.fromstring(full_file("gigaset", "N870", "7c2f80123456")).iter("param")
    }
    server = params["Provisioning.global.ProvisioningServer"]
    assert server == "http://device-user:DevicePass123@prov.example.net/p/a/"


# Cisco: Language_Selection alone leaves an English screen; the phone loads the language from
# the dictionary files that Dictionary_Server_Script names (wazo-provd-plugins wazo_cisco_spa
# v7_5_5 and wazo_cisco_sip v12_0_7 templates; Cisco SPA500 administration guide, "Regional").


@pytest.mark.parametrize(
    ("vendor", "model", "family"),
    [
        ("cisco_mpp", "8841", "88xx"),
        ("cisco_mpp", "7841", "78xx_68xx"),
        ("cisco_spa", "SPA508G", "spa50x"),
    ],
)
def test_cisco_dutch_screen_names_its_dictionary(vendor: str, model: str, family: str) -> None:
    values = {node.tag: node.text or "" for node in etree.fromstring(bootstrap_file(vendor, model))}
    assert values["Language_Selection"] == "Dutch"
    fields = dict(part.split("=", 1) for part in values["Dictionary_Server_Script"].split(";"))
    assert fields["serv"] == f"{BASE_URL}cisco/dictionaries/"
    assert (fields["d0"], fields["x0"]) == ("English", f"en-US_{family}.xml")
    assert (fields["d1"], fields["x1"]) == ("Dutch", f"nl-NL_{family}.xml")


def test_cisco_english_needs_no_dictionary() -> None:
    values = {node.tag for node in etree.fromstring(bootstrap_file("cisco_mpp", "8841", "en"))}
    assert "Dictionary_Server_Script" not in values


def test_cisco_dictionary_files_are_answered_not_found_without_a_miss() -> None:
    found = identify(RequestInfo("cisco/dictionaries/nl-NL_88xx.xml", "127.0.0.1", "http", ""))
    assert found is not None and found.vendor == "cisco_mpp" and found.kind is FileKind.ABSENT


# Cisco BLF keys: ``sub=`` is what the key watches, ``ext=`` what it dials (its speed dial),
# "fnc=blf+sd+cp;sub=<BLF_URI>;ext=$USER@$PROXY" (Cisco, "Add an extended feature to a KEM
# line key", help.webex.com). Its pickup dials the Attendant Console Call Pickup Code (SPA
# factory *98); a trailing ``#`` stands for the watched user, so ``*8#`` dials *8 + 241
# (2600Hz Kazoo's SPA504G notes; the same ``*8#`` in a provisioner for Asterisk). The
# Call_Pickup_Code is what the phone's own pickup softkey dials before the number typed.


@pytest.mark.parametrize(("vendor", "model"), [("cisco_mpp", "8841"), ("cisco_spa", "SPA508G")])
def test_cisco_blf_key_dials_the_colleague_and_picks_up_with_star_8(
    vendor: str, model: str
) -> None:
    values = {
        node.tag: node.text or ""
        for node in etree.fromstring(full_file(vendor, model, "00562b123456"))
    }
    fields = dict(part.split("=", 1) for part in values["Extended_Function_3_"].split(";"))
    assert fields["fnc"] == "blf+sd+cp"
    assert fields["sub"] == fields["ext"] == "241@$PROXY"
    assert values["Attendant_Console_Call_Pickup_Code"] == "*8#"
    assert values["Call_Pickup_Code"] == "*8"


def test_cisco_bootstrap_sets_no_pickup_code() -> None:
    values = {node.tag for node in etree.fromstring(bootstrap_file("cisco_mpp", "8841"))}
    assert "Attendant_Console_Call_Pickup_Code" not in values


# Poly: call.directedCallPickupString alone does nothing; directed pickup from a BLF key is off
# until feature.directedCallPickup.enabled is 1, and call.directedCallPickupMethod "legacy"
# makes the phone dial the string + the watched extension ("native" signals with SIP instead,
# which our switch does not answer) (Poly UC Software administrator guide, "Directed Call
# Pickup" parameters; FreePBX's polycomphones module and SARK's templates write the same three).


def test_poly_blf_pickup_is_enabled_and_dials_star_8_then_the_extension() -> None:
    attributes: dict[str, str] = {}
    for node in etree.fromstring(full_file("polycom", "VVX450", "64167f123456")).iter():
        attributes.update({str(name): str(value) for name, value in node.attrib.items()})
    assert attributes["feature.directedCallPickup.enabled"] == "1"
    assert attributes["call.directedCallPickupMethod"] == "legacy"
    assert attributes["call.directedCallPickupString"] == "*8"


# Grandstream GRP2614/2616: 16 on-screen VPKs, then 24 MPKs on the side screen (wazo-provd-plugins
# wazo_grandstream common.py MODEL_FKEYS); an MPK names its account as "Account<n>", not a number
# (wazo's base_v2.tpl; FusionPBX's GRP template: "pks.mpk.{i}.account uses STRING").


def grandstream_items(body: bytes) -> dict[str, str]:
    return {item.get("name"): item.text or "" for item in etree.fromstring(body).iter("item")}


def test_grandstream_grp_keys_after_the_sixteenth_are_side_screen_mpks() -> None:
    document, _ = read_tenant_file(DEMO_FILE)
    keys = [FunctionKey(type="blf", value=str(300 + index)) for index in range(20)]
    phone = Phone(
        mac="c074ad123456", vendor="grandstream", model="GRP2614", lines=["240"], function_keys=keys
    )
    config = phone_config(document, phone, "GRP2614", SECRETS, BASE_URL)
    items = grandstream_items(by_name("grandstream").render_device(config, "cfgc074ad123456.xml"))
    assert items["pks.vpk.16.value"] == "314"  # key 15 is the 16th VPK (the line is the first)
    assert "pks.vpk.17.keyMode" not in items
    assert (items["pks.mpk.1.keyMode"], items["pks.mpk.1.value"]) == ("BLF", "315")
    assert items["pks.mpk.1.account"] == "Account1"
    assert items["pks.mpk.5.value"] == "319"


def test_grandstream_grp2614_has_room_for_forty_keys() -> None:
    model = by_name("grandstream").model("GRP2614")
    assert model is not None and model.keys == 16 + 24


# Grandstream GXP21xx: Grandstream's configuration templates for firmware 1.0.9.127 and 1.0.10.35
# are P-values only (<config version="1">); alias names come with the 1.0.11.79 template. Every
# firmware line reads P-values. Numbers from Grandstream's 1.0.10.35 template (FusionPBX
# gxp2170 template at that version): account 1 P271/P270/P47/P35/P36/P34/P3/P130/P1347,
# account 2 P401.. (block of 100), VPK 1-6 mode P1363+2(n-1) (description +102, value +103),
# VPK 7-48 from P23800 in fours; fixed VPKs count modes from 10 (BLF 11), dynamic ones from 0.


def pvalues(body: bytes) -> dict[str, str]:
    root = etree.fromstring(body)
    config = root.find("config")
    assert config is not None and config.get("version") == "1"
    assert root.find(".//item") is None  # no alias names a 1.0.10 firmware would ignore
    return {node.tag: node.text or "" for node in config}


def test_grandstream_gxp2170_gets_pvalues_with_its_account_and_fixed_keys() -> None:
    values = pvalues(full_file("grandstream", "GXP2170", "000b82123456"))
    assert (values["P271"], values["P35"], values["P34"]) == ("1", "240", "Marc240Secret0")
    assert values["P47"] == "demo.sip.example.net:5060"
    assert values["P1347"] == "*8"
    # VPK 3 (fixed on a GXP2170, 12 fixed): BLF 11, account 0, Sanne, 241.
    assert (values["P1367"], values["P1368"], values["P1469"], values["P1470"]) == (
        "11",
        "0",
        "Sanne",
        "241",
    )
    # The server path without its scheme, the protocol apart (P212 1: HTTP), as the template.
    assert (values["P237"], values["P212"]) == ("prov.example.net/p/a/", "1")
    assert values["P64"] == "CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00"


def test_grandstream_gxp2140_dynamic_keys_count_modes_from_zero() -> None:
    # One line: VPK 2-4 are fixed (four on a GXP2140), VPK 5 is the first dynamic one.
    values = pvalues(full_file("grandstream", "GXP2140", "000b82123456"))
    assert values["P1365"] == "10"  # VPK 2, the ring group: speed dial on a fixed key
    assert (values["P1371"], values["P1474"]) == ("1", "243")  # VPK 5: BLF on a dynamic key


def test_grandstream_gxp21xx_second_account_and_keys_past_six() -> None:
    values = pvalues(full_file("grandstream", "GXP2170", "000b82123456", ["240", "241"]))
    assert (values["P401"], values["P404"], values["P406"]) == ("1", "241", "x")
    document, _ = read_tenant_file(DEMO_FILE)
    keys = [FunctionKey(type="blf", value=str(300 + index)) for index in range(8)]
    phone = Phone(
        mac="000b82123456", vendor="grandstream", model="GXP2170", lines=["240"], function_keys=keys
    )
    config = phone_config(document, phone, "GXP2170", SECRETS, BASE_URL)
    values = pvalues(by_name("grandstream").render_device(config, "cfg000b82123456.xml"))
    assert (values["P23800"], values["P23803"]) == ("11", "305")  # VPK 7


def test_grandstream_gxp21xx_bootstrap_is_pvalues_too() -> None:
    values = pvalues(bootstrap_file("grandstream", "GXP2140"))
    assert values["P237"] == "prov.example.net/p/" and "P35" not in values


def test_grandstream_gxp21xx_firmware_folder_without_scheme_and_its_protocol() -> None:
    document, _ = read_tenant_file(DEMO_FILE)
    phone = Phone(mac="000b82123456", vendor="grandstream", model="GXP2140", lines=["240"])
    folder = "https://prov.example.net/p/a/firmware/grandstream/1.0.11.79/"
    config = phone_config(document, phone, "GXP2140", SECRETS, BASE_URL, folder, "1.0.11.79")
    values = pvalues(by_name("grandstream").render_device(config, "cfg000b82123456.xml"))
    assert (values["P192"], values["P6767"]) == (folder.removeprefix("https://"), "2")


# Yealink reads the common file, then <mac>.cfg over it. The common file is the same for every
# phone and cannot know the tenant, so it names nothing that a device file may set otherwise
# (it said pool.ntp.org, the bootstrap's, where the device file said the tenant's
# nl.pool.ntp.org): the time, language, NTP server and resync period are the device file's
# alone. The provisioning server is the one deliberate difference: the common file sends any
# phone (one that came over TFTP too) to the server, a paired phone's file to its own path.


@pytest.mark.parametrize("common", ["y000000000000.cfg", "y000000000108.cfg"])
def test_yealink_common_file_never_disagrees_with_the_device_file(common: str) -> None:
    def settings(body: bytes) -> dict[str, str]:
        lines = body.decode().splitlines()[1:]
        return dict(line.split(" = ", 1) for line in lines if " = " in line)

    config = bootstrap_config("yealink", "T46U", BASE_URL, "Europe/Amsterdam", "nl", "pool.ntp.org")
    shared = settings(by_name("yealink").render_common(config, common))
    device = settings(full_file("yealink", "T46U", "805ec0123456"))
    assert "local_time.ntp_server1" not in shared
    assert device["local_time.ntp_server1"] == "nl.pool.ntp.org"
    assert shared.pop("static.auto_provision.server.url") == BASE_URL
    assert device["static.auto_provision.server.url"] == f"{BASE_URL}a/"
    assert {name: device[name] for name in shared if name in device} == {
        name: value for name, value in shared.items() if name in device
    }


# Gigaset Nx70 (wazo-provd-plugins wazo_gigaset Nx70_83_v2_62_1 base.tpl): DeleteNotProvisionedHS
# first, so handsets the file no longer lists leave the base; then, after the slots, the
# operation that opens the base's DECT registration window, <oper name="update_dm"
# value="local"> with RegStart (seconds since the epoch: when the file was built) and
# RegDuration 900, so a handset registers with its PIN without anyone opening it by hand.


def test_gigaset_opens_the_registration_window_when_the_file_is_built() -> None:
    document, _ = read_tenant_file(DEMO_FILE)
    phone = Phone(mac="7c2f80123456", vendor="gigaset", model="N870", lines=["240"])
    config = phone_config(document, phone, "N870", SECRETS, BASE_URL, issued_at=1_790_000_000)
    nvm = etree.fromstring(by_name("gigaset").render_device(config, "7C2F80123456.xml"))[0]
    operations = [node.get("name") for node in nvm if node.tag == "oper"]
    assert operations == ["DeleteNotProvisionedHS", "add_hs", "update_dm"]
    window = nvm[-1]
    assert (window.get("name"), window.get("value")) == ("update_dm", "local")
    params = {param.get("name"): param.get("value") for param in window}
    assert params["RegStart"] == "1790000000"
    assert params["RegDuration"] == "900"


def test_gigaset_bootstrap_neither_deletes_handsets_nor_opens_registration() -> None:
    root = etree.fromstring(bootstrap_file("gigaset", "N870"))
    assert not [node for node in root.iter("oper")]
