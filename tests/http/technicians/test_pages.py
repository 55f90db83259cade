"""The technicians' page through Flask's test client: sign-in, roles, CSRF, pairing
conflicts, swap and unpair, each checked in the store and the audit log."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from provisioner.http.technicians.texts import TEXTS, choose_language
from provisioner.security.tokens import revoke_token
from provisioner.store import get_store, models
from tests.conftest import token_for

SITE = "/t/site/demo/Kantoor%20Amsterdam/"
MAC = "805ec0abcdef"
UA = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:ab:cd:ef"


def csrf(client: FlaskClient, path: str = "/t/sign-in") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def sign_in(client: FlaskClient, app: Flask, role: str) -> str:
    token = token_for(app, role)
    answer = client.post("/t/sign-in", data={"token": token, "csrf_token": csrf(client)})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return token


def audit(app: Flask, action: str) -> list[models.AuditEvent]:
    with get_store(app).reading() as session:
        return list(
            session.scalars(select(models.AuditEvent).where(models.AuditEvent.action == action))
        )


def phone_lines(app: Flask, mac: str) -> list[str] | None:
    with get_store(app).reading() as session:
        row = session.scalar(select(models.Phone).where(models.Phone.mac == mac))
        return None if row is None else list(row.lines)


def pair(client: FlaskClient, mac: str = MAC, extensions: tuple[str, ...] = ("242",), **extra):
    data = {"mac": mac, "extension": list(extensions), "model": "yealink:T46U", **extra}
    data["csrf_token"] = csrf(client, SITE + "pair")
    return client.post(SITE + "pair", data=data)


def test_pages_need_a_sign_in(client: FlaskClient) -> None:
    answer = client.get("/t/")
    assert answer.status_code == 302 and "/t/sign-in" in answer.headers["Location"]


def test_the_session_cookie_is_httponly_samesite_and_secure_over_https(
    client: FlaskClient, demo_app: Flask
) -> None:
    token = token_for(demo_app, "technician")
    form = {"token": token, "csrf_token": csrf(client)}
    plain = client.post("/t/sign-in", data=form).headers["Set-Cookie"]
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    secure_client = demo_app.test_client()
    form["csrf_token"] = csrf(secure_client)
    over_https = secure_client.post("/t/sign-in", data=form, base_url="https://localhost").headers[
        "Set-Cookie"
    ]
    assert "Secure" in over_https and "HttpOnly" in over_https


def test_wrong_and_revoked_tokens_look_alike_but_the_audit_tells_them_apart(
    client: FlaskClient, demo_app: Flask
) -> None:
    revoked = token_for(demo_app, "technician")
    with get_store(demo_app).transaction() as session:
        revoke_token(session, "technician-test")
    wrong = client.post("/t/sign-in", data={"token": "prov_nope", "csrf_token": csrf(client)})
    gone = client.post("/t/sign-in", data={"token": revoked, "csrf_token": csrf(client)})
    assert wrong.status_code == gone.status_code == 401
    page_text = lambda answer: re.sub(r'value="[^"]*"', "", answer.get_data(as_text=True))  # noqa: E731
    assert page_text(wrong) == page_text(gone)
    reasons = [event.changes["reason"] for event in audit(demo_app, "sign-in-refused")]
    assert reasons == ["unknown token", "revoked token"]


def test_revoking_a_token_ends_its_session(client: FlaskClient, demo_app: Flask) -> None:
    sign_in(client, demo_app, "technician")
    assert client.get("/t/").status_code == 200
    with get_store(demo_app).transaction() as session:
        revoke_token(session, "technician-test")
    assert client.get("/t/").status_code == 302
    assert [event.changes["reason"] for event in audit(demo_app, "session-ended")] == [
        "token revoked"
    ]


def test_sign_out_ends_the_session(client: FlaskClient, demo_app: Flask) -> None:
    sign_in(client, demo_app, "technician")
    client.post("/t/sign-out", data={"csrf_token": csrf(client, "/t/")})
    assert client.get("/t/").status_code == 302


def test_failed_sign_ins_are_throttled_per_address(client: FlaskClient) -> None:
    statuses = [
        client.post("/t/sign-in", data={"token": "x", "csrf_token": csrf(client)}).status_code
        for _ in range(11)
    ]
    assert statuses == [401] * 10 + [429]


def test_the_site_list_and_a_discovered_phone_one_tap_from_pairing(
    client: FlaskClient, demo_app: Flask
) -> None:
    client.get(
        f"/p/{MAC}.cfg", headers={"User-Agent": UA}, environ_base={"REMOTE_ADDR": "192.0.2.40"}
    )
    sign_in(client, demo_app, "technician")
    sites = client.get("/t/?q=amsterdam").get_data(as_text=True)
    assert "Kantoor Amsterdam" in sites
    assert "Kantoor Amsterdam" not in client.get("/t/?q=rotterdam").get_data(as_text=True)
    page = client.get(SITE).get_data(as_text=True)
    assert "80:5e:c0:ab:cd:ef" in page and "Yealink T46U" in page and "192.0.2.40" in page
    assert f"pair?mac={MAC}" in page
    form = client.get(SITE + f"pair?mac={MAC}").get_data(as_text=True)
    assert 'value="yealink:T46U" selected' in form  # the model from its User-Agent


def test_phones_seen_only_from_elsewhere_are_not_hidden_behind_none_here(
    client: FlaskClient, demo_app: Flask
) -> None:
    # Outside the site's 192.0.2.0/24: a phone behind NAT shows with the office's public address.
    client.get(
        f"/p/{MAC}.cfg", headers={"User-Agent": UA}, environ_base={"REMOTE_ADDR": "203.0.113.9"}
    )
    sign_in(client, demo_app, "technician")
    page = client.get(SITE).get_data(as_text=True)
    assert "Geen ongekoppelde telefoon opgestart" not in page
    assert "wel 1 vanaf andere adressen" in page
    assert '<details id="discovered-elsewhere-fold" open>' in page and "203.0.113.9" in page


def test_a_technician_pairs_and_the_audit_names_the_token(
    client: FlaskClient, demo_app: Flask
) -> None:
    sign_in(client, demo_app, "technician")
    answer = pair(client, mac="80-5E-C0-AB-CD-EF", extensions=("242", "243"))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert phone_lines(demo_app, MAC) == ["242", "243"]
    assert [event.actor for event in audit(demo_app, "pair")] == ["token:technician-test"]
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "technician-test" in page and "Wacht op de eerste start" in page


def test_support_sees_but_cannot_pair(client: FlaskClient, demo_app: Flask) -> None:
    sign_in(client, demo_app, "support")
    assert client.get(SITE).status_code == 200
    answer = pair(client)
    assert answer.status_code == 403
    assert phone_lines(demo_app, MAC) is None


def test_a_forged_form_without_the_csrf_token_changes_nothing(
    client: FlaskClient, demo_app: Flask
) -> None:
    sign_in(client, demo_app, "admin")
    forged = {"mac": MAC, "extension": "240", "model": "yealink:T46U"}
    assert client.post(SITE + "pair", data=forged).status_code == 400
    forged["csrf_token"] = "guessed"
    assert client.post(SITE + "pair", data=forged).status_code == 400
    assert phone_lines(demo_app, MAC) is None


def test_mac_checked_and_fields_named(client: FlaskClient, demo_app: Flask) -> None:
    sign_in(client, demo_app, "technician")
    answer = pair(client, mac="80:5e:c0:ab:cd", extensions=(), model="")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "twaalf hexadecimale tekens" in text and "Kies minstens" in text


def test_an_extension_on_another_phone_is_explained_then_shared_on_request(
    client: FlaskClient, demo_app: Flask
) -> None:
    sign_in(client, demo_app, "technician")
    answer = pair(client, extensions=("240",))  # the demo's 80:5e:c0:12:34:56 has 240
    assert answer.status_code == 409
    assert "Toestel 240 (Marc) staat al op telefoon 80:5e:c0:12:34:56" in answer.get_data(
        as_text=True
    )
    assert phone_lines(demo_app, MAC) is None
    assert pair(client, extensions=("240",), shared="yes").status_code == 302
    assert phone_lines(demo_app, MAC) == ["240"]


def add_other_customer_with(mac: str, client: FlaskClient, app: Flask) -> None:
    """A second tenant, "other", whose one phone is ``mac`` (through the admin API)."""
    other = {
        "name": "other",
        "sip_domain": "other.example.net",
        "sites": [{"name": "HQ"}],
        "extensions": [{"number": "100", "name": "Jan"}],
        "phones": [{"mac": mac, "lines": ["100"]}],
    }
    admin = {"Authorization": f"Bearer {token_for(app, 'admin')}"}
    assert client.post("/api/v1/tenants", json=other, headers=admin).status_code == 201


def test_a_mac_of_another_tenant_is_explained_in_english(
    client: FlaskClient, demo_app: Flask
) -> None:
    add_other_customer_with(MAC, client, demo_app)
    sign_in(client, demo_app, "technician")
    client.get("/t/language/en")
    answer = pair(client)
    assert answer.status_code == 409
    assert "paired at another customer" in answer.get_data(as_text=True)


def test_a_mac_of_another_tenant_is_explained_in_dutch_and_nothing_changes(
    client: FlaskClient, demo_app: Flask
) -> None:
    add_other_customer_with(MAC, client, demo_app)
    sign_in(client, demo_app, "technician")
    client.get("/t/language/nl")
    answer = pair(client)
    assert answer.status_code == 409
    page = answer.get_data(as_text=True)
    assert "Deze MAC is gekoppeld bij een andere klant" in page
    assert "other" not in page.split("<main", 1)[1]  # the other customer is not named
    assert phone_lines(demo_app, MAC) == ["100"] and audit(demo_app, "pair") == []


def test_swap_asks_first_then_moves_the_lines(client: FlaskClient, demo_app: Flask) -> None:
    sign_in(client, demo_app, "technician")
    pair(client)
    phone = SITE + f"phones/{MAC}/swap"
    token = csrf(client, phone)
    asked = client.post(phone, data={"new_mac": "80:5e:c0:11:22:33", "csrf_token": token})
    assert asked.status_code == 200 and "De oude telefoon werkt dan niet meer" in asked.get_data(
        as_text=True
    )
    assert phone_lines(demo_app, MAC) == ["242"]
    done = client.post(
        phone, data={"new_mac": "805ec0112233", "confirm": "yes", "csrf_token": token}
    )
    assert done.status_code == 302
    assert phone_lines(demo_app, MAC) is None and phone_lines(demo_app, "805ec0112233") == ["242"]
    assert [event.actor for event in audit(demo_app, "swap")] == ["token:technician-test"]


def phone_model(app: Flask, mac: str) -> tuple[str | None, str | None]:
    with get_store(app).reading() as session:
        row = session.scalar(select(models.Phone).where(models.Phone.mac == mac))
        assert row is not None, mac
        return row.vendor, row.model


def ask_swap(client: FlaskClient, new_mac: str) -> tuple[str, str]:
    """The swap's confirmation page for the paired MAC; (its text, the CSRF token)."""
    path = SITE + f"phones/{MAC}/swap"
    token = csrf(client, path)
    asked = client.post(path, data={"new_mac": new_mac, "csrf_token": token})
    assert asked.status_code == 200, asked.get_data(as_text=True)
    return asked.get_data(as_text=True), token


def selected_model(page: str) -> str:
    found = re.search(r'<option value="([^"]+)" selected>', page)
    return found.group(1) if found else ""


def test_a_swap_to_another_vendor_asks_for_its_model_and_keeps_the_lines(
    client: FlaskClient, demo_app: Flask
) -> None:
    sign_in(client, demo_app, "technician")
    pair(client)  # a Yealink T46U
    snom = "000413aabbcc"
    page, token = ask_swap(client, "00:04:13:AA:BB:CC")
    assert "De nieuwe telefoon is een Snom: kies het model" in page
    assert selected_model(page) == ""  # not the T46U: a Snom has none
    unchosen = client.post(
        SITE + f"phones/{MAC}/swap",
        data={"new_mac": snom, "confirm": "yes", "model": "", "csrf_token": token},
    )
    assert unchosen.status_code == 422 and "Kies het model" in unchosen.get_data(as_text=True)
    done = client.post(
        SITE + f"phones/{MAC}/swap",
        data={"new_mac": snom, "confirm": "yes", "model": "snom:D785", "csrf_token": token},
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    assert phone_model(demo_app, snom) == ("snom", "D785")
    assert phone_lines(demo_app, snom) == ["242"] and phone_lines(demo_app, MAC) is None


def test_a_swap_within_a_vendor_takes_the_model_the_new_phone_announced(
    client: FlaskClient, demo_app: Flask
) -> None:
    sign_in(client, demo_app, "technician")
    pair(client)  # a Yealink T46U
    new = "805ec0112233"
    agent = "Yealink SIP-T54W 96.86.0.100 80:5e:c0:11:22:33"
    assert client.get(f"/p/{new}.cfg", headers={"User-Agent": agent}).status_code == 200
    page, token = ask_swap(client, new)
    assert "De nieuwe telefoon meldde zich als Yealink T54W." in page
    assert selected_model(page) == "yealink:T54W"
    done = client.post(
        SITE + f"phones/{MAC}/swap",
        data={"new_mac": new, "confirm": "yes", "model": "yealink:T54W", "csrf_token": token},
    )
    assert done.status_code == 302
    assert phone_model(demo_app, new) == ("yealink", "T54W")


def test_a_swap_to_a_phone_that_never_asked_keeps_the_model_and_says_so(
    client: FlaskClient, demo_app: Flask
) -> None:
    sign_in(client, demo_app, "technician")
    pair(client)
    page, _ = ask_swap(client, "80:5e:c0:11:22:44")
    assert "het model van de oude is gekozen: controleer het op de doos" in page
    assert selected_model(page) == "yealink:T46U"


def test_a_second_tap_on_a_confirmation_finds_the_work_done(
    client: FlaskClient, demo_app: Flask
) -> None:
    sign_in(client, demo_app, "technician")
    pair(client)
    new = "805ec0112233"
    path = SITE + f"phones/{MAC}/swap"
    token = csrf(client, path)
    form = {"new_mac": new, "confirm": "yes", "model": "yealink:T46U", "csrf_token": token}
    assert client.post(path, data=form).status_code == 302
    again = client.post(path, data=form, follow_redirects=True)
    assert again.status_code == 200
    assert "80:5e:c0:11:22:33 heeft 80:5e:c0:ab:cd:ef al vervangen" in again.get_data(as_text=True)
    assert len(audit(demo_app, "swap")) == 1

    unpair = SITE + f"phones/{new}/unpair"
    assert client.post(unpair, data={"csrf_token": token, "confirm": "yes"}).status_code == 302
    twice = client.post(unpair, data={"csrf_token": token, "confirm": "yes"}, follow_redirects=True)
    assert twice.status_code == 200
    assert "80:5e:c0:11:22:33 is hier niet (meer) gekoppeld" in twice.get_data(as_text=True)
    assert len(audit(demo_app, "unpair")) == 1


def test_confirmations_send_once(client: FlaskClient, demo_app: Flask) -> None:
    sign_in(client, demo_app, "technician")
    pair(client)
    page, _ = ask_swap(client, "805ec0112233")
    unpair = client.get(SITE + f"phones/{MAC}/unpair").get_data(as_text=True)
    for text in (page, unpair):  # technicians.js holds a second tap while the first runs
        assert re.search(r"<form method=\"post\"[^>]*data-once>", text), text


def test_unpair_asks_first(client: FlaskClient, demo_app: Flask) -> None:
    sign_in(client, demo_app, "technician")
    pair(client)
    path = SITE + f"phones/{MAC}/unpair"
    token = csrf(client, path)
    assert client.post(path, data={"csrf_token": token}).status_code == 200
    assert phone_lines(demo_app, MAC) == ["242"]
    assert client.post(path, data={"csrf_token": token, "confirm": "yes"}).status_code == 302
    assert phone_lines(demo_app, MAC) is None


def test_the_live_part_follows_the_boot(client: FlaskClient, demo_app: Flask) -> None:
    sign_in(client, demo_app, "technician")
    pair(client)
    live = SITE + f"phones/{MAC}/live"
    assert 'data-stage="waiting"' in client.get(live).get_data(as_text=True)
    boot = client.get(f"/p/{MAC}.cfg", headers={"User-Agent": UA})
    assert b"account.1.user_name = 242" in boot.data
    page = client.get(live).get_data(as_text=True)
    assert 'data-stage="full"' in page
    assert any(text in page for text in TEXTS["proof.full-first-use"])  # how it proved itself
    client.get(
        f"/p/{MAC}.cfg", headers={"User-Agent": UA}, environ_base={"REMOTE_ADDR": "192.0.2.99"}
    )
    assert "192.0.2.99" in client.get(live).get_data(as_text=True).split('id="second-device"')[1]


def test_language_from_accept_language_and_the_switch() -> None:
    assert choose_language(None, [("en-GB", 1.0), ("nl", 0.5)]) == "en"
    assert choose_language(None, [("nl-BE", 0.9), ("en", 0.8)]) == "nl"
    assert choose_language(None, [("fr", 1.0)]) == "nl"
    assert choose_language("en", [("nl", 1.0)]) == "en"


def test_every_text_has_both_languages_and_every_template_key_exists() -> None:
    from pathlib import Path

    assert all(english and dutch for english, dutch in TEXTS.values())
    folder = Path(__file__).parents[3] / "provisioner/http/technicians/templates/technicians"
    used = {
        key
        for page in folder.glob("*.html")
        for key in re.findall(r'\bt\("([a-z_.]*[a-z_])"', page.read_text())
    }
    assert used and used <= set(TEXTS)


def test_pages_allow_only_our_own_assets(client: FlaskClient) -> None:
    policy = client.get("/t/sign-in").headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self' 'wasm-unsafe-eval'" in policy


def test_the_live_part_says_a_phone_proved_itself_by_its_certificate() -> None:
    from datetime import UTC, datetime

    from provisioner.http.technicians.devices import device_state

    paired = datetime(2025, 1, 1, tzinfo=UTC)
    events = [
        {"at": "2025-01-02T00:00:00+00:00", "answer": "full", "kind": "full-certificate"},
        {"at": "2025-01-01T12:00:00+00:00", "answer": "full", "kind": "full-first-use"},
    ]
    state = device_state(paired, None, events, [], datetime(2025, 1, 3, tzinfo=UTC))
    assert (state.stage, state.full_proof) == ("full", "full-certificate")
    older = [{"at": "2025-01-02T00:00:00+00:00", "answer": "full", "kind": ""}]
    assert device_state(paired, None, older, [], paired).full_proof == ""


def history_lines(page: str) -> list[str]:
    """The items of the phone's "who did what" list, as text."""
    found = re.search(r'<ul class="history">(.*?)</ul>', page, re.S)
    assert found, page
    return [re.sub(r"<[^>]+>|\s+", " ", item).strip() for item in found.group(1).split("<li")[1:]]


def test_one_pairing_is_one_history_line_and_the_audit_keeps_every_change(
    client: FlaskClient, demo_app: Flask
) -> None:
    sign_in(client, demo_app, "technician")
    answer = pair(client, extensions=("242", "243"))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    lines = history_lines(client.get(answer.headers["Location"]).get_data(as_text=True))
    assert len(lines) == 1, lines
    assert "koppelde" in lines[0] and "242, 243" in lines[0] and "Yealink T46U" in lines[0]
    with get_store(demo_app).reading() as session:
        events = list(
            session.scalars(
                select(models.AuditEvent)
                .where(models.AuditEvent.object_key == MAC)
                .order_by(models.AuditEvent.id)
            )
        )
    # The security record keeps the document change (every field, the site too) and the pairing.
    created, paired = events
    assert (created.action, paired.action) == ("create", "pair")
    assert created.changes["site"] == "Kantoor Amsterdam" and created.changes["model"] == "T46U"
    assert paired.changes["document_events"] == [created.id]
    assert phone_lines(demo_app, MAC) == ["242", "243"]


def test_a_re_pair_and_an_admin_change_are_a_line_each(
    client: FlaskClient, demo_app: Flask
) -> None:
    sign_in(client, demo_app, "technician")
    pair(client)
    pair(client, extensions=("243",))  # lines change: an update, folded into the pairing
    admin = {"Authorization": f"Bearer {token_for(demo_app, 'admin')}"}
    path = f"/api/v1/tenants/demo/phones/{MAC}"
    changed = client.patch(path, json={"lines": ["241"]}, headers=admin)
    assert changed.status_code == 200, changed.get_data(as_text=True)
    lines = history_lines(client.get(SITE + f"phones/{MAC}").get_data(as_text=True))
    assert len(lines) == 3, lines
    assert "wijzigde" in lines[0] and all("koppelde" in line for line in lines[1:])


def test_sign_out_says_so_on_the_sign_in_page(client: FlaskClient, demo_app: Flask) -> None:
    for language, sentence in (("nl", "Je bent afgemeld."), ("en", "You are signed out.")):
        client.get(f"/t/language/{language}")
        sign_in(client, demo_app, "technician")
        out = client.post("/t/sign-out", data={"csrf_token": csrf(client, "/t/")})
        assert out.status_code == 302
        page = client.get(out.headers["Location"]).get_data(as_text=True)
        assert f'<p class="notice" role="status">{sentence}</p>' in page
        assert sentence not in client.get("/t/sign-in").get_data(as_text=True)  # said once


def test_a_typed_mac_brings_the_model_its_phone_announced(
    client: FlaskClient, demo_app: Flask
) -> None:
    client.get(f"/p/{MAC}.cfg", headers={"User-Agent": UA})
    sign_in(client, demo_app, "technician")
    found = client.get(SITE + "pair/announced?mac=80-5E-C0-AB-CD-EF")
    assert found.status_code == 200
    assert found.get_json() == {"mac": MAC, "model": "yealink:T46U", "label": "Yealink T46U"}
    never = client.get(SITE + "pair/announced?mac=805ec0999999").get_json()
    assert never == {"mac": "805ec0999999", "model": "", "label": ""}
    bad = client.get(SITE + "pair/announced?mac=80-5E")
    assert bad.status_code == 422 and "mac" in bad.get_json()["error"]["message"]


def test_another_customers_phone_tells_no_model(client: FlaskClient, demo_app: Flask) -> None:
    add_other_customer_with(MAC, client, demo_app)
    client.get(f"/p/{MAC}.cfg", headers={"User-Agent": UA})
    sign_in(client, demo_app, "technician")
    assert client.get(SITE + f"pair/announced?mac={MAC}").get_json()["model"] == ""
    assert selected_model(client.get(SITE + f"pair?mac={MAC}").get_data(as_text=True)) == ""
