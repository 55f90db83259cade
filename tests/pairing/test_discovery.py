"""``POST /api/v1/discovered``: the on-site agent reports phones it saw on a customer LAN."""

from __future__ import annotations

from flask.testing import FlaskClient

YEALINK = "80:5e:c0:77:88:99"


def report(client: FlaskClient, headers: dict[str, str], **body: object):
    return client.post("/api/v1/discovered", json=body, headers=headers)


def test_a_reported_phone_shows_in_the_discovered_list(
    client: FlaskClient, technician_headers: dict[str, str]
) -> None:
    answer = report(
        client, technician_headers, mac=YEALINK, seen_by="dhcp", vendor="yealink",
        detail="option 60 yealink", address="192.0.2.50",
    )  # fmt: skip
    assert answer.status_code == 202
    listed = client.get("/api/v1/discovered", headers=technician_headers).get_json()["items"]
    assert listed[0] == {
        "mac": "805ec0778899",
        "at": listed[0]["at"],
        "source": "192.0.2.50",
        "protocol": "dhcp",
        "file": "",
        "user_agent": "yealink option 60 yealink",
        "answer": "reported",
        "kind": "reported",
        "meaning": "seen on the customer's LAN by the on-site agent (zerotouch discover)",
        "route": "",
        "local_time": listed[0]["local_time"],  # UTC: no tenant has the MAC
    }
    assert listed[0]["local_time"].endswith(" UTC")


def test_a_known_mac_gets_the_same_answer_and_lands_on_its_timeline(
    client: FlaskClient, technician_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    unknown = report(client, technician_headers, mac=YEALINK, seen_by="lldp")
    known = report(client, technician_headers, mac="80:5e:c0:12:34:56", seen_by="lldp")
    assert (unknown.status_code, unknown.data) == (known.status_code, known.data)
    listed = client.get("/api/v1/discovered", headers=technician_headers).get_json()["items"]
    assert [item["mac"] for item in listed] == ["805ec0778899"]
    timeline = client.get(
        "/api/v1/tenants/demo/phones/805ec0123456/timeline", headers=admin_headers
    ).get_json()["items"]
    assert timeline[0]["protocol"] == "lldp"


def test_bad_reports_name_the_field(
    client: FlaskClient, technician_headers: dict[str, str]
) -> None:
    answer = report(client, technician_headers, mac="nope", seen_by="carrier pigeon", extra=1)
    assert answer.status_code == 422
    paths = {problem["path"] for problem in answer.get_json()["error"]["problems"]}
    assert paths == {"mac", "seen_by", "extra"}
    too_long = report(client, technician_headers, mac=YEALINK, seen_by="dhcp", detail="x" * 201)
    assert too_long.status_code == 422


def test_support_may_not_report_and_strangers_are_refused(
    client: FlaskClient, support_headers: dict[str, str]
) -> None:
    assert report(client, support_headers, mac=YEALINK, seen_by="dhcp").status_code == 403
    assert report(client, {}, mac=YEALINK, seen_by="dhcp").status_code == 401
