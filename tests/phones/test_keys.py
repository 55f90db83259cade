"""Keys: defaults from the tenant, per-phone overrides, capacity errors at save time."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from provisioner.phones.keys import default_keys, phone_book
from provisioner.tenants.schema.devices import Phone
from provisioner.tenants.yaml_io import read_tenant_file
from tests.conftest import DEMO_FILE
from tests.firmware.conftest import add_image, trust

MAC = "805ec0123456"
PHONE = f"/api/v1/tenants/demo/phones/{MAC}"


def test_defaults_for_240_are_the_ring_group_then_colleagues() -> None:
    document, _ = read_tenant_file(DEMO_FILE)
    keys = default_keys(phone_book(document), Phone(mac=MAC, lines=["240"]))
    assert [(key.type, key.value, key.label) for key in keys] == [
        ("speed_dial", "*8500", "ALLEN"),
        ("blf", "241", "Sanne"),
        ("blf", "242", "Pieter"),
        ("blf", "243", "Fatima"),
    ]


def test_defaults_stop_where_the_keys_end() -> None:
    document, _ = read_tenant_file(DEMO_FILE)
    keys = default_keys(phone_book(document), Phone(mac=MAC, lines=["240"]), room=2)
    assert [key.value for key in keys] == ["*8500", "241"]
    assert default_keys(phone_book(document), Phone(mac=MAC, lines=["240"]), room=0) == []


def _linekeys(body: str) -> dict[int, str]:
    """Yealink's ``linekey.N.value`` lines of a file: position -> value."""
    found = {}
    for line in body.splitlines():
        name, _, value = line.partition(" = ")
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "linekey" and parts[2] == "type":
            found[int(parts[1])] = value
    return found


def test_a_tenant_of_45_extensions_saves_and_each_phone_gets_its_models_keys(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    """The defaults used to be a BLF key per colleague, so past ~27 colleagues no phone
    without its own key list could be saved; now they are cut to what the model has."""
    for number in range(300, 341):
        added = client.post(
            "/api/v1/tenants/demo/extensions",
            json={"number": str(number), "name": f"Collega {number}"},
            headers=admin_headers,
        )
        assert added.status_code == 201, added.json
    small = {"mac": "805ec0000031", "vendor": "yealink", "model": "T31G", "lines": ["241"]}
    answer = client.post("/api/v1/tenants/demo/phones", json=small, headers=admin_headers)
    assert answer.status_code == 201, answer.json
    for mac, extension, keys in ((MAC, "240", 27), ("805ec0000031", "241", 2)):
        client.post(
            f"/api/v1/tenants/demo/phones/{mac}/pairing",
            json={"extension": extension},
            headers=admin_headers,
        )
        agent = "Yealink SIP-T46U 108.86.0.90" if keys == 27 else "Yealink SIP-T31G 124.86.0.40"
        body = client.get(f"/p/{mac}.cfg", headers={"User-Agent": agent}).data.decode()
        assert sorted(_linekeys(body)) == list(range(1, keys + 1))  # exactly the model's keys
    shown = client.get(f"{PHONE}/keys", headers=admin_headers).json
    values = [key["value"] for key in shown["items"]]
    assert len(values) == 26 and values[:4] == ["*8500", "241", "242", "243"]
    assert values[4:] == [str(number) for number in range(300, 322)]  # by number, then cut


def test_explicit_keys_that_overflow_are_refused_with_what_fits(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    many = [{"type": "speed_dial", "value": f"{number}"} for number in range(100, 128)]
    answer = client.put(f"{PHONE}/keys", json={"items": many}, headers=admin_headers)
    assert answer.status_code == 422
    reason = answer.json["error"]["problems"][0]["reason"]
    assert "29 keys (lines plus function_keys) do not fit the T46U's 27" in reason
    assert "list at most 26 keys" in reason


def test_keys_api_defaults_then_override(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    shown = client.get(f"{PHONE}/keys", headers=admin_headers).json
    assert shown["default"] is True and len(shown["items"]) == 4
    mine = [{"type": "blf", "value": "242", "label": "Pieter"}, {"type": "park", "value": "*70"}]
    changed = client.put(f"{PHONE}/keys", json={"items": mine}, headers=admin_headers)
    assert changed.status_code == 200 and changed.json["default"] is False
    assert [key["value"] for key in changed.json["items"]] == ["242", "*70"]
    phone = client.get(f"/p/{MAC}.cfg", headers={"User-Agent": "x"})
    assert phone.status_code == 200
    back = client.put(f"{PHONE}/keys", json={"items": None}, headers=admin_headers)
    assert back.json["default"] is True


def test_too_many_keys_is_an_error_at_save(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    many = [{"type": "speed_dial", "value": f"{number}"} for number in range(100, 130)]
    answer = client.put(f"{PHONE}/keys", json={"items": many}, headers=admin_headers)
    assert answer.status_code == 422
    problem = answer.json["error"]["problems"][0]
    assert (
        problem["path"] == "phones[0].function_keys"
        and "do not fit the T46U's 27" in problem["reason"]
    )
    assert client.get(f"{PHONE}/keys", headers=admin_headers).json["default"] is True  # unchanged


def test_a_smaller_model_takes_the_defaults_that_fit(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    answer = client.patch(
        f"/api/v1/tenants/demo/phones/{MAC}", json={"model": "T31G"}, headers=admin_headers
    )
    assert answer.status_code == 200, answer.json
    shown = client.get(f"{PHONE}/keys", headers=admin_headers).json
    assert [key["value"] for key in shown["items"]] == ["*8500"]


def test_dect_handsets_have_no_default_keys(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    phone = {"mac": "7c2f80000001", "vendor": "gigaset", "model": "N870", "lines": ["241"]}
    assert (
        client.post("/api/v1/tenants/demo/phones", json=phone, headers=admin_headers).status_code
        == 201
    )
    keys = [{"type": "blf", "value": "240"}]
    answer = client.put(
        "/api/v1/tenants/demo/phones/7c2f80000001/keys", json={"items": keys}, headers=admin_headers
    )
    assert answer.status_code == 422


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (
            "function_keys",
            [{"type": "blf", "value": "241", "label": "Sanne\naccount.1.password = x"}],
        ),
        ("function_keys", [{"type": "blf", "value": "241 = 2"}]),
        ("function_keys", [{"type": "teleport", "value": "241"}]),
        ("overrides", {"lang.gui": "Dutch\r\nstatic.security.user_password = admin:x"}),
        ("overrides", {"bad key": "1"}),
        ("firmware_target", "1.0\nstatic.x = 1"),
    ],
)
def test_breaking_values_are_refused(
    client: FlaskClient, admin_headers: dict[str, str], field: str, value: object
) -> None:
    answer = client.patch(f"{PHONE}", json={field: value}, headers=admin_headers)
    assert answer.status_code == 422
    assert answer.json["error"]["problems"][0]["path"].startswith(field)


def test_overrides_and_firmware_target_reach_the_file(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    trust(client.application)
    change = {"overrides": {"features.dnd.enable": "1"}, "firmware_target": "108.86.0.95"}
    assert client.patch(PHONE, json=change, headers=admin_headers).status_code == 200
    client.post(f"{PHONE}/pairing", json={"extension": "240"}, headers=admin_headers)
    agent = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:12:34:56"
    body = client.get(f"/p/{MAC}.cfg", headers={"User-Agent": agent}).data.decode()
    assert "features.dnd.enable = 1" in body.splitlines()
    assert "static.firmware.url" not in body  # the catalogue has no such image: never point
    add_image(client.application, "108.86.0.95")
    body = client.get(f"/p/{MAC}.cfg", headers={"User-Agent": agent}).data.decode()
    assert f"static.firmware.url = http://localhost/p/firmware/{MAC}/" in body
    assert "/T46U-108.86.0.95.rom\n" in body
    same = client.get(f"/p/{MAC}.cfg", headers={"User-Agent": agent.replace(".90", ".95")}).data
    assert b"static.firmware.url" not in same  # already on the target


def test_firmware_url_names_the_vendor_when_the_phone_record_does_not(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    """A phone stored without a vendor (an OUI two vendors share) still gets a firmware URL
    for the vendor that asked (the catalogue's Yealink T46U image)."""
    trust(client.application)
    add_image(client.application, "108.86.0.95")
    mac = "805ec0777777"
    phone = {"mac": mac, "lines": ["241"], "firmware_target": "108.86.0.95"}
    assert (
        client.post("/api/v1/tenants/demo/phones", json=phone, headers=admin_headers).status_code
        == 201
    )
    client.post(
        f"/api/v1/tenants/demo/phones/{mac}/pairing",
        json={"extension": "241"},
        headers=admin_headers,
    )
    client.patch(f"/api/v1/tenants/demo/phones/{mac}", json={"vendor": None}, headers=admin_headers)
    agent = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:77:77:77"
    body = client.get(f"/p/{mac}.cfg", headers={"User-Agent": agent}).data.decode()
    assert "account.1.user_name = 241" in body
    assert f"static.firmware.url = http://localhost/p/firmware/{mac}/" in body


def test_a_long_colleague_name_neither_breaks_saving_nor_the_boot(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    """Names may be 100 characters; a key label 64. Saving such a name used to fail with a 500
    (the default keys could not be built), as did pairing in a tenant that had one."""
    long_name = "Klantenservice en Technische Ondersteuning, Afdeling Noord-Holland Zuid"
    client.post(f"{PHONE}/pairing", json={"extension": "240"}, headers=admin_headers)
    renamed = client.patch(
        "/api/v1/tenants/demo/extensions/241", json={"name": long_name}, headers=admin_headers
    )
    assert renamed.status_code == 200
    agent = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:12:34:56"
    body = client.get(f"/p/{MAC}.cfg", headers={"User-Agent": agent}).data.decode()
    assert f"linekey.3.label = {long_name[:64].rstrip()}" in body.splitlines()  # after ALLEN
