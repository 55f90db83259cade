"""Pairing through the API and the CLI, unpair, swap, credentials, the timeline, uploads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from provisioner.pairing import flush_timeline
from provisioner.store import get_store, models
from tests.conftest import import_demo, make_app, token_for

MAC = "80:5e:c0:ab:cd:ef"
PLAIN = "805ec0abcdef"
UA = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:ab:cd:ef"


def audit_actions(app: Flask, key: str) -> list[str]:
    flush_timeline(app)  # phones' releases are written in batches; a reader here flushes
    with get_store(app).reading() as session:
        return list(
            session.scalars(
                select(models.AuditEvent.action)
                .where(models.AuditEvent.object_key == key)
                .order_by(models.AuditEvent.id)
            )
        )


def test_technician_pairs_and_the_phone_boots(
    client: FlaskClient, demo_app: Flask, technician_headers: dict[str, str]
) -> None:
    answer = client.post(
        f"/api/v1/tenants/demo/phones/{MAC}/pairing",
        json={"extension": "240", "model": "T46U"},
        headers=technician_headers,
    )
    assert answer.status_code == 201, answer.json
    assert answer.json["mac"] == PLAIN and answer.json["username"] == PLAIN
    assert "password" not in answer.json
    phone = client.get(f"/p/{PLAIN}.cfg", headers={"User-Agent": UA})
    assert b"account.1.user_name = 240" in phone.data
    assert audit_actions(demo_app, PLAIN)[-2:] == ["pair", "release-secret"]


def test_support_may_not_pair(client: FlaskClient, support_headers: dict[str, str]) -> None:
    answer = client.post(
        f"/api/v1/tenants/demo/phones/{MAC}/pairing",
        json={"extension": "240"},
        headers=support_headers,
    )
    assert answer.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"extension": "299"}, "extension"),
        ({}, "extension"),
        ({"extension": "240", "model": "T99"}, "phones[1].model"),
    ],
)
def test_pairing_errors_name_the_field(
    client: FlaskClient, admin_headers: dict[str, str], body: dict[str, str], field: str
) -> None:
    answer = client.post(
        f"/api/v1/tenants/demo/phones/{MAC}/pairing", json=body, headers=admin_headers
    )
    assert answer.status_code == 422
    assert field in [problem["path"] for problem in answer.json["error"]["problems"]]


def test_bad_mac_is_a_clear_error(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    answer = client.post(
        "/api/v1/tenants/demo/phones/not-a-mac/pairing",
        json={"extension": "240"},
        headers=admin_headers,
    )
    assert answer.status_code == 422
    assert "twelve hex digits" in answer.json["error"]["problems"][0]["reason"]


def test_credentials_release_is_audited(
    client: FlaskClient,
    demo_app: Flask,
    admin_headers: dict[str, str],
    technician_headers: dict[str, str],
) -> None:
    client.post(
        f"/api/v1/tenants/demo/phones/{MAC}/pairing",
        json={"extension": "240"},
        headers=admin_headers,
    )
    assert (
        client.get(
            f"/api/v1/tenants/demo/phones/{MAC}/credentials", headers=technician_headers
        ).status_code
        == 403
    )
    answer = client.get(f"/api/v1/tenants/demo/phones/{MAC}/credentials", headers=admin_headers)
    assert answer.json["username"] == PLAIN and len(answer.json["password"]) == 24
    assert audit_actions(demo_app, PLAIN)[-1] == "release-secret"


def test_repairing_keeps_the_credentials_and_unpairing_ends_them(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    def password() -> str:
        client.post(
            f"/api/v1/tenants/demo/phones/{MAC}/pairing",
            json={"extension": "240"},
            headers=admin_headers,
        )
        return client.get(
            f"/api/v1/tenants/demo/phones/{MAC}/credentials", headers=admin_headers
        ).json["password"]

    first = password()
    assert password() == first  # the deployed phone still sends these on /p/a/
    client.delete(f"/api/v1/tenants/demo/phones/{MAC}/pairing", headers=admin_headers)
    assert password() != first


def test_repairing_answers_with_the_lines_the_phone_now_has(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    path = f"/api/v1/tenants/demo/phones/{MAC}/pairing"
    client.post(path, json={"extension": "240"}, headers=admin_headers)
    added = client.post(path, json={"extension": "241", "add_line": True}, headers=admin_headers)
    assert added.json["lines"] == ["241", "240"] and added.json["removed_lines"] == []
    replaced = client.post(path, json={"extension": "242"}, headers=admin_headers)
    assert replaced.json["lines"] == ["242"] and replaced.json["removed_lines"] == ["241", "240"]
    wrong = client.post(path, json={"extension": "242", "add_line": "yes"}, headers=admin_headers)
    assert wrong.status_code == 422
    assert wrong.json["error"]["problems"][0]["path"] == "add_line"


def test_unpair_and_swap(
    client: FlaskClient, demo_app: Flask, admin_headers: dict[str, str]
) -> None:
    client.post(
        f"/api/v1/tenants/demo/phones/{MAC}/pairing",
        json={"extension": "241"},
        headers=admin_headers,
    )
    swapped = client.post(
        f"/api/v1/tenants/demo/phones/{MAC}/swap",
        json={"new_mac": "80-5E-C0-00-00-01"},
        headers=admin_headers,
    )
    assert swapped.status_code == 200 and swapped.json["extension"] == "241"
    phones = {
        item["mac"]: item
        for item in client.get("/api/v1/tenants/demo/phones", headers=admin_headers).json["items"]
    }
    assert PLAIN not in phones and phones["805ec0000001"]["lines"] == ["241"]
    gone = client.delete("/api/v1/tenants/demo/phones/805ec0000001/pairing", headers=admin_headers)
    assert gone.status_code == 204
    with get_store(demo_app).reading() as session:
        assert session.scalar(select(func.count()).select_from(models.DeviceCredential)) == 0
    again = client.delete("/api/v1/tenants/demo/phones/805ec0000001/pairing", headers=admin_headers)
    assert again.status_code == 404


def test_mac_of_another_tenant_cannot_be_paired(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    other = {
        "name": "other",
        "sip_domain": "other.sip.example.net",
        "extensions": [{"number": "100", "name": "Eva"}],
    }
    assert client.post("/api/v1/tenants", json=other, headers=admin_headers).status_code == 201
    client.post(
        f"/api/v1/tenants/demo/phones/{MAC}/pairing",
        json={"extension": "240"},
        headers=admin_headers,
    )
    answer = client.post(
        f"/api/v1/tenants/other/phones/{MAC}/pairing",
        json={"extension": "100"},
        headers=admin_headers,
    )
    assert answer.status_code == 409 and "unpair it there first" in answer.json["error"]["message"]


@pytest.mark.parametrize(
    "notation", ["80:5e:c0:ab:cd:ef", "80-5E-C0-AB-CD-EF", "805e.c0ab.cdef", "805EC0ABCDEF"]
)
def test_cli_pair_and_unpair_take_any_notation(tmp_path: Path, notation: str) -> None:
    app = make_app(tmp_path)
    import_demo(app)
    runner = app.test_cli_runner()
    paired = runner.invoke(args=["pair", notation, "240", "--tenant", "demo", "--model", "T46U"])
    assert paired.exit_code == 0, paired.output
    assert f"paired {PLAIN} in demo: its lines are now 240;" in paired.output
    unpaired = runner.invoke(args=["unpair", notation.upper(), "--tenant", "demo"])
    assert unpaired.exit_code == 0 and f"unpaired {PLAIN}" in unpaired.output
    missing = runner.invoke(args=["unpair", notation, "--tenant", "demo"])
    assert missing.exit_code == 1 and "no phone 805ec0abcdef" in missing.output
    get_store(app).dispose()


def test_cli_repair_says_which_lines_the_phone_now_has(demo_app: Flask) -> None:
    runner = demo_app.test_cli_runner()
    runner.invoke(args=["pair", MAC, "240", "--tenant", "demo"])
    added = runner.invoke(args=["pair", MAC, "241", "--tenant", "demo", "--add-line"])
    assert f"paired {PLAIN} in demo: its lines are now 241, 240;" in added.output, added.output
    moved = runner.invoke(args=["pair", MAC, "242", "--tenant", "demo"])
    assert (
        f"paired {PLAIN} in demo: its lines are now 242; it no longer has 241, 240 "
        "(new SIP password for 241, 240); boot it before "
    ) in moved.output, moved.output
    # The demo's zone (Europe/Amsterdam), to the second, as `phones list` shows requests.
    form = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0[12]:00 CES?T"
    assert re.search(rf"boot it before {form}\n$", moved.output)


def test_cli_errors_say_what_to_do(runner: object) -> None:
    from flask.testing import FlaskCliRunner

    assert isinstance(runner, FlaskCliRunner)
    result = runner.invoke(args=["pair", "xyz", "240", "--tenant", "demo"])
    assert result.exit_code == 1 and "twelve hex digits" in result.output
    result = runner.invoke(args=["pair", MAC, "240", "--tenant", "nobody"])
    assert result.exit_code == 1 and "`provisioner tenants list`" in result.output


def test_timeline_is_bounded_per_device(tmp_path: Path) -> None:
    app = make_app(tmp_path, PHONE_TIMELINE_LENGTH=5)
    import_demo(app)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(app, 'admin')}"}
    client.post(
        f"/api/v1/tenants/demo/phones/{MAC}/pairing", json={"extension": "240"}, headers=headers
    )
    for _ in range(8):
        client.get(f"/p/{PLAIN}.cfg", headers={"User-Agent": UA})
    client.get(f"/p/a/{PLAIN}.cfg", headers={"User-Agent": UA})
    items = client.get(f"/api/v1/tenants/demo/phones/{MAC}/timeline", headers=headers).json["items"]
    assert len(items) == 5
    assert [item["answer"] for item in items][:2] == ["denied", "full"]
    assert items[0]["file"] == f"{PLAIN}.cfg" and items[0]["user_agent"] == UA
    assert items[0]["source"] == "127.0.0.1" and items[0]["protocol"] == "http"
    with get_store(app).reading() as session:
        assert session.scalar(select(func.count()).select_from(models.DeviceEvent)) == 5
    get_store(app).dispose()


def test_poly_uploads_are_stored_per_device_within_the_limit(tmp_path: Path) -> None:
    app = make_app(tmp_path, PHONE_UPLOAD_MAX_BYTES=1000)
    import_demo(app)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token_for(app, 'admin')}"}
    mac = "64167f000001"
    client.post(
        f"/api/v1/tenants/demo/phones/{mac}/pairing",
        json={"extension": "240", "model": "VVX450"},
        headers=headers,
    )
    # The phone's GET of its own file binds the first-use window; its uploads go through it.
    assert client.get(f"/p/{mac}-provisioner.cfg").status_code == 200
    assert client.put(f"/p/{mac}-app.log", data=b"x" * 1000).status_code == 204
    assert client.put(f"/p/{mac}-phone.cfg", data=b"<x/>").status_code == 204
    assert client.put(f"/p/{mac}-app.log", data=b"x" * 1001).status_code == 413
    assert client.put(f"/p/{mac}-provisioner.cfg", data=b"x").status_code == 405
    assert client.put("/p/64167f999999-app.log", data=b"x").status_code == 204  # unknown: dropped
    assert client.put(f"/p/a/{mac}-app.log", data=b"x").status_code == 401
    listed = client.get(f"/api/v1/tenants/demo/phones/{mac}/uploads", headers=headers).json["items"]
    assert [(item["name"], item["size"]) for item in listed] == [
        (f"{mac}-app.log", 1000),
        (f"{mac}-phone.cfg", 4),
    ]
    assert client.get(f"/p/{mac}-phone.cfg").status_code == 404  # never served back
    with get_store(app).reading() as session:
        assert session.scalar(select(func.count()).select_from(models.PhoneUpload)) == 2
    get_store(app).dispose()


def test_phone_admin_password_is_one_per_tenant_and_audited(
    client: FlaskClient,
    demo_app: Flask,
    admin_headers: dict[str, str],
    technician_headers: dict[str, str],
) -> None:
    path = "/api/v1/tenants/demo/phone-admin-password"
    assert client.get(path, headers=technician_headers).status_code == 403
    first = client.get(path, headers=admin_headers).json
    assert first["username"] == "admin" and len(first["password"]) == 16
    assert client.get(path, headers=admin_headers).json == first
    client.post(
        f"/api/v1/tenants/demo/phones/{MAC}/pairing",
        json={"extension": "240"},
        headers=admin_headers,
    )
    body = client.get(f"/p/{PLAIN}.cfg", headers={"User-Agent": UA}).data.decode()
    assert f"static.security.user_password = admin:{first['password']}" in body
    with get_store(demo_app).reading() as session:
        stored = session.scalar(select(models.Tenant.phone_admin_password_encrypted))
    assert stored and first["password"] not in stored
    assert "release-secret" in audit_actions(demo_app, "demo")


def test_every_documented_phone_path_exists(demo_app: Flask) -> None:
    from provisioner.http.openapi import openapi_document

    rules = {rule.rule for rule in demo_app.url_map.iter_rules()}
    documented = [path for path in openapi_document()["paths"] if "/phones/{mac}" in path]
    assert len(documented) == 6  # per phone; plus discovered
    for path in documented:
        assert path.replace("{", "<").replace("}", ">") in rules, path


def test_tenant_may_restrict_secrets_to_its_sites_networks(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    restrict = {"provisioning": {"restrict_to_site_networks": True}}
    assert (
        client.patch("/api/v1/tenants/demo", json=restrict, headers=admin_headers).status_code
        == 200
    )
    client.post(
        f"/api/v1/tenants/demo/phones/{MAC}/pairing",
        json={"extension": "240"},
        headers=admin_headers,
    )
    outside = client.get(f"/p/{PLAIN}.cfg", headers={"User-Agent": UA}).data
    assert b"account.1.password" not in outside  # the test client is 127.0.0.1, not 192.0.2.0/24
    site = {"networks": ["192.0.2.0/24", "127.0.0.0/8"]}
    assert (
        client.patch(
            "/api/v1/tenants/demo/sites/Kantoor Amsterdam", json=site, headers=admin_headers
        ).status_code
        == 200
    )
    inside = client.get(f"/p/{PLAIN}.cfg", headers={"User-Agent": UA}).data
    assert b"account.1.password" in inside


def test_discovered_phones_then_paired(
    client: FlaskClient, demo_app: Flask, technician_headers: dict[str, str]
) -> None:
    client.get(f"/p/{PLAIN}.boot", headers={"User-Agent": UA})
    client.get(f"/p/{PLAIN}.cfg", headers={"User-Agent": UA})
    seen = client.get("/api/v1/discovered", headers=technician_headers).json["items"]
    assert [(item["mac"], item["file"], item["answer"]) for item in seen] == [
        (PLAIN, f"{PLAIN}.cfg", "bootstrap")
    ]
    client.post(
        f"/api/v1/tenants/demo/phones/{MAC}/pairing",
        json={"extension": "240"},
        headers=technician_headers,
    )
    assert client.get("/api/v1/discovered", headers=technician_headers).json["items"] == []
    client.get(f"/p/{PLAIN}.cfg", headers={"User-Agent": UA})
    history = client.get(
        f"/api/v1/tenants/demo/phones/{MAC}/timeline", headers=technician_headers
    ).json["items"]
    assert [item["answer"] for item in history] == ["full", "bootstrap", "bootstrap"]


def test_discovered_events_expire(demo_app: Flask) -> None:
    from datetime import timedelta

    from provisioner.pairing.timeline import DISCOVERED_HOURS, record_event
    from provisioner.phones.model import Answer, RequestInfo

    request = RequestInfo("x.cfg", "192.0.2.9")
    with get_store(demo_app).transaction() as session:
        record_event(session, None, "001565000001", request, "x.cfg", Answer.BOOTSTRAP, 10)
        old = session.scalar(select(models.DeviceEvent))
        assert old is not None
        old.at = old.at - timedelta(hours=DISCOVERED_HOURS + 1)
    with get_store(demo_app).transaction() as session:
        record_event(session, None, "001565000002", request, "y.cfg", Answer.BOOTSTRAP, 10)
    with get_store(demo_app).reading() as session:
        assert list(session.scalars(select(models.DeviceEvent.mac))) == ["001565000002"]


def test_a_swap_to_another_brand_takes_the_brand_and_not_the_old_model(
    client: FlaskClient, demo_app: Flask, admin_headers: dict[str, str]
) -> None:
    path = f"/api/v1/tenants/demo/phones/{MAC}"
    paired = client.post(
        f"{path}/pairing",
        json={"extension": "241", "vendor": "yealink", "model": "T46U"},
        headers=admin_headers,
    )
    assert paired.status_code == 201, paired.json
    snom = client.post(f"{path}/swap", json={"new_mac": "00:04:13:aa:bb:cc"}, headers=admin_headers)
    assert snom.status_code == 200, snom.json  # not "Snom has no model T46U"
    with get_store(demo_app).reading() as session:
        phone = session.scalar(select(models.Phone).where(models.Phone.mac == "000413aabbcc"))
        assert phone is not None
        assert (phone.vendor, phone.model, list(phone.lines)) == ("snom", None, ["241"])


def test_unpair_and_swap_rotate_the_sip_passwords_the_old_phone_knew(
    client: FlaskClient, demo_app: Flask, admin_headers: dict[str, str]
) -> None:
    """The old phone keeps its file: the passwords in it must stop working (DESIGN: rotated on
    unpair and swap), while extensions it never carried keep theirs."""

    def sip_password(extension: str) -> str:
        answer = client.get(
            f"/api/v1/tenants/demo/extensions/{extension}/secrets", headers=admin_headers
        )
        return str(answer.json["sip_password"])

    client.post(
        f"/api/v1/tenants/demo/phones/{MAC}/pairing",
        json={"extension": "241"},
        headers=admin_headers,
    )
    before, untouched = sip_password("241"), sip_password("242")
    client.post(
        f"/api/v1/tenants/demo/phones/{MAC}/swap",
        json={"new_mac": "80-5E-C0-00-00-01"},
        headers=admin_headers,
    )
    after_swap = sip_password("241")
    assert after_swap != before and sip_password("242") == untouched
    client.delete("/api/v1/tenants/demo/phones/805ec0000001/pairing", headers=admin_headers)
    assert sip_password("241") not in (before, after_swap)
    assert "rotate-secret" in audit_actions(demo_app, "241")


def test_a_paired_phone_leaves_only_by_unpairing(
    client: FlaskClient, demo_app: Flask, admin_headers: dict[str, str]
) -> None:
    paired = client.post(
        f"/api/v1/tenants/demo/phones/{MAC}/pairing",
        json={"extension": "241"},
        headers=admin_headers,
    )
    assert paired.status_code == 201, paired.json
    deleted = client.delete(f"/api/v1/tenants/demo/phones/{MAC}", headers=admin_headers)
    assert deleted.status_code == 422
    assert "unpair it first" in deleted.json["error"]["problems"][0]["reason"]
    document = client.get("/api/v1/tenants/demo/document", headers=admin_headers).json
    document["phones"] = [phone for phone in document["phones"] if phone["mac"] != PLAIN]
    replaced = client.put("/api/v1/tenants/demo/document", json=document, headers=admin_headers)
    assert replaced.status_code == 422
    with get_store(demo_app).reading() as session:
        assert session.scalar(select(func.count()).select_from(models.DeviceCredential)) == 1
    unpaired = client.delete(f"/api/v1/tenants/demo/phones/{MAC}/pairing", headers=admin_headers)
    assert unpaired.status_code in (200, 204), unpaired.get_data(as_text=True)
    with get_store(demo_app).reading() as session:
        assert session.scalar(select(func.count()).select_from(models.DeviceCredential)) == 0
