"""POST /freeswitch/xml and the handler's JSON endpoints over Flask's test client."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from flask import Flask
from lxml import etree
from sqlalchemy import select

from provisioner.routing import documents
from provisioner.routing.directory import a1_hash
from provisioner.security import audit
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store, models
from tests.conftest import import_demo, make_app, token_for

TOKEN = "switch-token-0123456789abcdef"
DOMAIN = "demo.sip.example.net"
NOT_FOUND = documents.not_found()


@pytest.fixture
def switch_app(tmp_path: Path) -> Flask:
    application = make_app(tmp_path, FREESWITCH_TOKEN=TOKEN)
    import_demo(application)
    yield application
    get_store(application).dispose()


def basic(token: str = TOKEN) -> dict[str, str]:
    """What mod_xml_curl sends with gateway-credentials freeswitch:<token>."""
    return {"Authorization": "Basic " + base64.b64encode(f"freeswitch:{token}".encode()).decode()}


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post_xml(
    app: Flask,
    form: dict[str, str],
    headers: dict[str, str] | None = None,
    address: str = "127.0.0.1",
) -> bytes:
    response = app.test_client().post(
        "/freeswitch/xml",
        data=form,
        headers=basic() if headers is None else headers,
        environ_base={"REMOTE_ADDR": address},
    )
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    return response.data


def sip_auth(user: str = "240") -> dict[str, str]:
    return {
        "section": "directory",
        "tag_name": "domain",
        "key_name": "name",
        "key_value": DOMAIN,
        "domain": DOMAIN,
        "user": user,
        "action": "sip_auth",
        "sip_auth_username": user,
        "sip_auth_realm": DOMAIN,
    }


def test_registration_lookup_answers_with_the_hash_of_the_stored_password(switch_app):
    content = post_xml(switch_app, sip_auth())
    assert documents.check(content, "directory") == []
    with get_store(switch_app).reading() as session:
        row = session.scalar(select(models.Extension).where(models.Extension.number == "240"))
        password = get_secret_box(switch_app).decrypt(row.sip_password_encrypted)
    value = etree.fromstring(content).find(".//param[@name='a1-hash']").get("value")
    assert value == a1_hash("240", DOMAIN, password)


def test_every_secret_given_to_the_switch_is_audited(switch_app):
    post_xml(switch_app, sip_auth())
    with get_store(switch_app).reading() as session:
        events = [
            event for event in audit.recent(session, "demo") if event.action == "release-secret"
        ]
    assert [(event.actor, event.object_key) for event in events] == [
        ("freeswitch:127.0.0.1", "240")
    ]


@pytest.mark.parametrize(
    "headers, address",
    [
        ({}, "127.0.0.1"),
        (None, "192.0.2.10"),
        ("wrong", "127.0.0.1"),
        ("bearer-wrong", "127.0.0.1"),
        ({"Authorization": "Basic !!!"}, "127.0.0.1"),
    ],
    ids=["no token", "address not allowed", "wrong token", "wrong bearer", "garbage"],
)
def test_a_refused_request_learns_nothing(switch_app, headers, address):
    if headers == "wrong":
        headers = basic("guess")
    elif headers == "bearer-wrong":
        headers = bearer("guess")
    assert post_xml(switch_app, sip_auth(), headers, address) == NOT_FOUND


def test_without_a_configured_token_the_interface_is_closed(tmp_path):
    application = make_app(tmp_path)
    import_demo(application)
    assert post_xml(application, sip_auth(), basic("")) == NOT_FOUND
    get_store(application).dispose()


def test_bearer_token_is_accepted_too(switch_app):
    assert post_xml(switch_app, sip_auth(), bearer()) != NOT_FOUND


@pytest.mark.parametrize(
    "form",
    [
        {
            "section": "directory",
            "domain": "other.example.net",
            "user": "240",
            "action": "sip_auth",
        },
        {"section": "directory", "domain": DOMAIN, "user": "999", "action": "sip_auth"},
        {
            "section": "dialplan",
            "Hunt-Context": "unknown.example.net",
            "Hunt-Destination-Number": "5000",
        },
        {"section": "dialplan", "Hunt-Context": "public", "Hunt-Destination-Number": "0201111111"},
        {"section": "configuration", "key_value": "sofia.conf"},
        {"section": "languages"},
    ],
    ids=[
        "unknown domain",
        "unknown user",
        "unknown context",
        "unknown public number",
        "other configuration",
        "other section",
    ],
)
def test_misses_get_the_documented_not_found_answer(switch_app, form):
    assert post_xml(switch_app, form) == NOT_FOUND


def test_dialplan_for_a_carrier_number_in_national_form(switch_app):
    form = {
        "section": "dialplan",
        "Hunt-Context": "public",
        "Hunt-Destination-Number": "0202103356",
        "Caller-Caller-ID-Number": "0612345678",
    }
    content = post_xml(switch_app, form)
    assert documents.check(content, "dialplan") == []
    actions = [
        (item.get("application"), item.get("data"))
        for item in etree.fromstring(content).iter("action")
    ]
    assert ("python", "provisioner.callrouting demo +31202103356") in actions


def test_dialplan_for_the_tenant_context(switch_app):
    form = {"section": "dialplan", "Hunt-Context": DOMAIN, "Hunt-Destination-Number": "5000"}
    content = post_xml(switch_app, form)
    assert documents.check(content, "dialplan") == []
    assert b"provisioner.callrouting demo 5000" in content


def test_callcenter_configuration(switch_app):
    form = {
        "section": "configuration",
        "tag_name": "configuration",
        "key_name": "name",
        "key_value": "callcenter.conf",
    }
    content = post_xml(switch_app, form)
    assert documents.check(content, "callcenter") == []
    assert b"wachtrij-1@demo.sip.example.net" in content


def test_flow_endpoint_serves_the_route(switch_app):
    response = switch_app.test_client().get("/freeswitch/flows/demo/5000", headers=bearer())
    assert response.status_code == 200
    route = response.get_json()
    assert route["entry"] == "call_flow:Hoofdroute"
    assert route["ring_groups"]["*8500"]["members"] == ["240", "241", "242", "243"]
    assert "sip_password" not in response.get_data(as_text=True)


def test_refused_and_unknown_flows_look_the_same(switch_app):
    client = switch_app.test_client()
    unknown = client.get("/freeswitch/flows/demo/5999", headers=bearer())
    refused = client.get("/freeswitch/flows/demo/5000", headers=bearer("guess"))
    unknown_tenant = client.get("/freeswitch/flows/nobody/5000", headers=bearer())
    assert unknown.status_code == refused.status_code == unknown_tenant.status_code == 404
    assert unknown.data == refused.data == unknown_tenant.data


def test_sound_endpoint_serves_the_uploaded_audio(switch_app):
    client = switch_app.test_client()
    route = client.get("/freeswitch/flows/demo/5000", headers=bearer()).get_json()
    response = client.get("/freeswitch/sounds/demo/Welkom.mp3", headers=bearer())
    assert response.status_code == 200
    assert response.mimetype == "audio/mpeg"
    assert response.get_etag()[0] == route["sounds"]["Welkom.mp3"]["sha256"]
    assert client.get("/freeswitch/sounds/demo/Welkom.mp3").status_code == 404


def test_changes_through_the_api_show_on_the_next_lookup(switch_app):
    client = switch_app.test_client()
    admin = {"Authorization": f"Bearer {token_for(switch_app, 'admin')}"}
    response = client.patch(
        "/api/v1/tenants/demo/extensions/241", json={"name": "Sanne de Vries"}, headers=admin
    )
    assert response.status_code == 200, response.get_json()
    listing = post_xml(
        switch_app, {"section": "directory", "domain": DOMAIN, "action": "group_call"}
    )
    names = etree.fromstring(listing).findall(".//variable[@name='effective_caller_id_name']")
    assert "Sanne de Vries" in [item.get("value") for item in names]
    response = client.patch(
        "/api/v1/tenants/demo/ring_groups/*8500", json={"ring_time": 45}, headers=admin
    )
    assert response.status_code == 200, response.get_json()
    route = client.get("/freeswitch/flows/demo/5000", headers=bearer()).get_json()
    assert route["ring_groups"]["*8500"]["ring_time"] == 45


def test_a_wrong_allowed_network_stops_the_start(tmp_path):
    from provisioner.errors import ConfigError

    with pytest.raises(ConfigError, match="FREESWITCH_ALLOWED_NETWORKS"):
        make_app(tmp_path, FREESWITCH_ALLOWED_NETWORKS="10.0.0.0/8,not-a-network")


def test_an_allowed_network_other_than_loopback(tmp_path):
    application = make_app(
        tmp_path, FREESWITCH_TOKEN=TOKEN, FREESWITCH_ALLOWED_NETWORKS=["192.0.2.0/24"]
    )
    import_demo(application)
    assert post_xml(application, sip_auth(), address="192.0.2.10") != NOT_FOUND
    assert post_xml(application, sip_auth(), address="127.0.0.1") == NOT_FOUND
    get_store(application).dispose()


def first_extension_for_112(app: Flask, context: str) -> tuple[str, list[tuple[str, str]]]:
    form = {"section": "dialplan", "Hunt-Context": context, "Hunt-Destination-Number": "112"}
    root = etree.fromstring(post_xml(app, form))
    first = root.find("section/context/extension")
    actions = [(item.get("application"), item.get("data")) for item in first.iter("action")]
    return first.get("name"), actions


def test_112_over_http_goes_straight_out_from_a_tenant(switch_app):
    name, actions = first_extension_for_112(switch_app, DOMAIN)
    assert name == "emergency"
    assert ("bridge", "sofia/gateway/provider/$1") in actions
    assert all(application != "python" for application, _ in actions)


def test_112_arriving_from_the_public_side_is_rejected_not_bridged(switch_app):
    name, actions = first_extension_for_112(switch_app, "public")
    assert name == "emergency-refused"
    assert all(application not in ("python", "bridge") for application, _ in actions)


def lookup_params(app: Flask, user: str, action: str) -> dict[str, str]:
    """The params of ``user`` in the answer to a directory lookup with ``action``."""
    form = sip_auth(user) | {"action": action}
    root = etree.fromstring(post_xml(app, form))
    return {item.get("name"): item.get("value") for item in root.iterfind(".//user/params/param")}


def released_fields(app: Flask) -> list[list[str]]:
    with get_store(app).reading() as session:
        events = audit.recent(session, "demo")
        return [event.changes["fields"] for event in events if event.action == "release-secret"]


def test_bridging_to_a_user_releases_no_secret(switch_app):
    """``user_call`` (bridge user/241@...) needs the dial string, never a password or PIN."""
    values = lookup_params(switch_app, "240", "user_call")
    assert "vm-password" not in values
    assert "a1-hash" not in values
    assert released_fields(switch_app) == []


def test_a_registration_gets_the_hash_but_not_the_voicemail_pin(switch_app):
    values = lookup_params(switch_app, "240", "sip_auth")
    assert "a1-hash" in values
    assert "vm-password" not in values
    assert released_fields(switch_app) == [["a1-hash"]]


def test_a_voicemail_lookup_gets_the_pin_but_not_the_sip_password_hash(switch_app):
    with get_store(switch_app).reading() as session:
        row = session.scalar(select(models.Extension).where(models.Extension.number == "240"))
        password = get_secret_box(switch_app).decrypt(row.sip_password_encrypted)
    values = lookup_params(switch_app, "240", "voicemail-lookup")
    assert values["vm-password"]
    assert values["a1-hash"] != a1_hash("240", DOMAIN, password)
    assert released_fields(switch_app) == [["vm-password"]]


def lookup(action: str, user: str = "240") -> dict[str, str]:
    """A one-user directory lookup as mod_voicemail or sofia sends it."""
    return sip_auth(user) | {"action": action}


def released(app: Flask) -> list[tuple[str, str]]:
    with get_store(app).reading() as session:
        return [
            (event.object_key, event.changes["action"])
            for event in audit.recent(session, "demo")
            if event.action == "release-secret"
        ]


@pytest.mark.parametrize("action", ["message-count", "reverse-auth-lookup"])
def test_lookups_that_need_no_secret_get_none_and_leave_no_release_row(switch_app, action):
    """mod_voicemail's message-count (every MWI update) only resolves the id; sofia's
    reverse-auth-lookup reads reverse-auth-user/-pass, which we never hand out."""
    content = post_xml(switch_app, lookup(action))
    user = etree.fromstring(content).find("section/domain/users/user")
    assert user is not None and user.get("id") == "240"
    assert user.find("params") is None
    assert released(switch_app) == []


def test_a_voicemail_lookup_is_still_given_the_pin_and_audited(switch_app):
    content = post_xml(switch_app, lookup("voicemail-lookup", "8000"))
    values = {
        param.get("name"): param.get("value")
        for param in etree.fromstring(content).iterfind(".//param")
    }
    assert values["vm-password"].isdigit()
    assert values["vm-mailto"] == "info@demo.example.net"
    assert released(switch_app) == [("8000", "voicemail-lookup")]
