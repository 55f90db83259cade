"""A second device on an extension a paired phone carries gets that extension's SIP password:
only a caller with the ``secrets`` permission may put it there, through the API and the
technicians' page alike; a refusal changes nothing and is in the audit log."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from provisioner.store import get_store, models
from tests.http.technicians.test_pages import SITE, phone_lines, sign_in
from tests.http.technicians.test_pages import pair as pair_on_page
from tests.phones.conftest import all_secrets, deployed_phone, sip_password

DEPLOYED = "805ec0aa0240"  # 240's real phone, paired and in use
DEVICE = "805ec0abcdef"  # a device the technician holds
UA = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:ab:cd:ef"


def _pairing(client: FlaskClient, headers: dict[str, str], extension: str, **extra: object):
    return client.post(
        f"/api/v1/tenants/demo/phones/{DEVICE}/pairing",
        json={"extension": extension, "model": "T46U", **extra},
        headers=headers,
    )


def _audit(app: Flask, action: str) -> list[dict[str, object]]:
    with get_store(app).reading() as session:
        rows = session.scalars(
            select(models.AuditEvent).where(
                models.AuditEvent.action == action, models.AuditEvent.object_key == DEVICE
            )
        )
        return [dict(row.changes or {}) for row in rows]


def test_a_technician_cannot_add_a_deployed_phones_line_to_a_device_of_theirs(
    client: FlaskClient, demo_app: Flask, technician_headers: dict[str, str]
) -> None:
    """The reported capture: pair the device to a free extension, then ``add_line`` 240."""
    deployed_phone(demo_app, DEPLOYED)
    assert _pairing(client, technician_headers, "241").status_code == 201
    refused = _pairing(client, technician_headers, "240", add_line=True)
    assert refused.status_code == 403
    assert "secrets permission" in refused.json["error"]["message"]
    assert _pairing(client, technician_headers, "240").status_code == 403  # nor by replacing
    assert phone_lines(demo_app, DEVICE) == ["241"]
    sign_in(client, demo_app, "technician")
    phone_page = client.get(f"{SITE}phones/{DEVICE}").get_data(as_text=True)
    assert "kreeg geen toestel van een telefoon in gebruik" in phone_page
    body = client.get(f"/p/{DEVICE}.cfg", headers={"User-Agent": UA}).data
    assert b"account.1.user_name = 241" in body  # the device's own file, through its window
    assert sip_password(demo_app, "240").encode() not in body
    assert (
        _audit(demo_app, "pair-refused")
        == [
            {
                "reason": "shared line needs the secrets permission",
                "shared_lines": {"240": [DEPLOYED]},
            }
        ]
        * 2
    )


def test_an_admin_may_share_a_line_and_the_audit_says_so(
    client: FlaskClient, demo_app: Flask, admin_headers: dict[str, str]
) -> None:
    deployed_phone(demo_app, DEPLOYED)
    answer = _pairing(client, admin_headers, "240")
    assert answer.status_code == 201 and answer.json["lines"] == ["240"]
    (paired,) = _audit(demo_app, "pair")
    assert paired["shared_lines"] == {"240": [DEPLOYED]}


def test_an_extension_on_an_unpaired_phone_is_no_shared_secret(
    client: FlaskClient, demo_app: Flask, technician_headers: dict[str, str]
) -> None:
    """The demo lists 80:5e:c0:12:34:56 on 240 but never paired it: no phone got 240's
    password from us, so a technician may put 240 on a device."""
    assert _pairing(client, technician_headers, "240").status_code == 201
    assert "shared_lines" not in _audit(demo_app, "pair")[0]


def test_the_technicians_page_refuses_it_too_even_as_a_second_line(
    client: FlaskClient, demo_app: Flask
) -> None:
    """The page's several extensions go through the same check: 240 second, shared ticked."""
    deployed_phone(demo_app, DEPLOYED)
    sign_in(client, demo_app, "technician")
    answer = pair_on_page(client, DEVICE, ("241", "240"), shared="yes")
    assert answer.status_code == 403
    text = answer.get_data(as_text=True)
    assert "Toestel 240 staat al op telefoon 80:5e:c0:aa:02:40, die in gebruik is" in text
    assert phone_lines(demo_app, DEVICE) is None
    assert [entry["shared_lines"] for entry in _audit(demo_app, "pair-refused")] == [
        {"240": [DEPLOYED]}
    ]
    assert not any(secret.encode() in answer.data for secret in all_secrets(demo_app))


def test_an_admin_on_the_page_may_share_the_line(client: FlaskClient, demo_app: Flask) -> None:
    deployed_phone(demo_app, DEPLOYED)
    sign_in(client, demo_app, "admin")
    answer = pair_on_page(client, DEVICE, ("241", "240"), shared="yes")
    assert answer.status_code == 302
    assert phone_lines(demo_app, DEVICE) == ["241", "240"]
    phone_page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "deelt 240 met een telefoon in gebruik" in phone_page
    assert [entry["shared_lines"] for entry in _audit(demo_app, "pair")] == [{"240": [DEPLOYED]}]
