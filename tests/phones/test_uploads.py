"""Poly's uploads with credentials, over real HTTP with a Digest client."""

from __future__ import annotations

import base64
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from provisioner.pairing import service
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store, models
from tests.conftest import import_demo, make_app
from tests.phones.conftest import all_secrets, deployed_phone, pair, serve, sip_password
from tests.phones.http_client import fetch
from tests.phones.samples import SAMPLES

MAC = "64167f000042"


def test_authenticated_upload_answers_a_challenge_a_digest_client_can_meet(
    phone_app: Flask, live_server: str
) -> None:
    pair(phone_app, MAC, "polycom", "VVX450")
    with get_store(phone_app).transaction() as session:
        login = service.reveal_credential(session, get_secret_box(phone_app), "demo", MAC, "test")
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, live_server, login["username"], login["password"])
    opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(manager))
    request = urllib.request.Request(
        f"{live_server}/p/a/{MAC}-app.log", data=b"boot log", method="PUT"
    )
    with opener.open(request, timeout=10) as response:
        assert response.status == 204
    with get_store(phone_app).reading() as session:
        stored = session.scalar(select(models.PhoneUpload).where(models.PhoneUpload.mac == MAC))
        assert stored is not None and stored.content == b"boot log"


def _stored(app: Flask, mac: str = MAC) -> bytes | None:
    with get_store(app).reading() as session:
        row = session.scalar(select(models.PhoneUpload).where(models.PhoneUpload.mac == mac))
        return row.content if row is not None else None


def _window_source(app: Flask, mac: str = MAC) -> str | None:
    with get_store(app).reading() as session:
        credential = session.scalar(
            select(models.DeviceCredential).where(models.DeviceCredential.mac == mac)
        )
        assert credential is not None
        return credential.window_source


def _put(client: FlaskClient, source: str, mac: str = MAC) -> int:
    answer = client.put(
        f"/p/{mac}-app.log", data=source.encode(), environ_base={"REMOTE_ADDR": source}
    )
    return answer.status_code


def test_an_upload_never_binds_the_first_use_window(phone_app: Flask) -> None:
    """Only the phone's GET of its own file binds the window; an upload through a window
    nobody bound is dropped (the same 204), and once the phone bound it, it may upload."""
    pair(phone_app, MAC, "polycom", "VVX450")
    client = phone_app.test_client()
    assert _put(client, "127.0.0.2") == 204
    assert _stored(phone_app) is None and _window_source(phone_app) is None
    answer = client.get(
        f"/p/{MAC}-provisioner.cfg",
        headers={"User-Agent": SAMPLES[1].user_agent},
        environ_base={"REMOTE_ADDR": "127.0.0.3"},
    )
    assert sip_password(phone_app).encode() in answer.data  # the phone got its file
    assert _window_source(phone_app) == "127.0.0.3"
    assert _put(client, "127.0.0.2") == 204 and _stored(phone_app) is None
    assert _put(client, "127.0.0.3") == 204 and _stored(phone_app) == b"127.0.0.3"


def test_unproven_uploads_are_misses_and_are_throttled(tmp_path: Path) -> None:
    app = make_app(tmp_path, PHONE_MISS_LIMIT=5)
    client = app.test_client()
    codes = [_put(client, "127.0.0.2", f"0004f2{index:06x}") for index in range(7)]
    assert codes == [204] * 5 + [429] * 2
    throttled = client.put(f"/p/{MAC}-app.log", environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert throttled.headers["Retry-After"] == "60"
    get = client.get(f"/p/{MAC}-provisioner.cfg", environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert get.status_code == 429  # one count for GETs and PUTs
    names = [client.put(f"/p/guess-{index}.log").status_code for index in range(7)]
    assert names == [405] * 5 + [429] * 2  # a name no phone uploads is a miss too
    get_store(app).dispose()


def test_an_address_with_too_many_misses_cannot_upload_through_its_window(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, PHONE_MISS_LIMIT=50, PHONE_WINDOW_MAX_MISSES=3)
    import_demo(app)
    pair(app, MAC, "polycom", "VVX450")
    client = app.test_client()
    phone = {"REMOTE_ADDR": "127.0.0.3"}
    client.get(f"/p/{MAC}-provisioner.cfg", environ_base=phone)
    assert _window_source(app) == "127.0.0.3"
    for index in range(4):
        client.get(f"/p/0004f2{index:06x}-provisioner.cfg", environ_base=phone)
    assert _put(client, "127.0.0.3") == 204 and _stored(app) is None
    get_store(app).dispose()


def test_a_put_to_a_paired_mac_costs_what_a_put_to_an_unknown_one_does(
    phone_app: Flask,
) -> None:
    """No hit oracle: the same SQL statements for a freshly paired MAC (window open) as for a
    MAC nobody has, and nothing written for either."""
    pair(phone_app, MAC, "polycom", "VVX450")
    client = phone_app.test_client()
    _put(client, "127.0.0.2", "0004f2ffffff")  # warm up the first statements of a process

    def statements(mac: str) -> list[str]:
        seen: list[str] = []

        def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            seen.append(statement.replace(f"'{mac}'", "?"))

        engine = get_store(phone_app).engine
        event.listen(engine, "before_cursor_execute", note)
        try:
            assert _put(client, "127.0.0.2", mac) == 204
        finally:
            event.remove(engine, "before_cursor_execute", note)
        return seen

    paired, unknown = statements(MAC), statements("0004f2a1b2c3")
    assert paired == unknown and paired
    assert not any(text.lstrip().upper().startswith(("UPDATE", "INSERT")) for text in paired)


@pytest.mark.parametrize("limiter", ["memory", "redis"])
def test_the_upload_capture_gives_the_guesser_no_secret(tmp_path: Path, limiter: str) -> None:
    """The capture as reported, over real HTTP: a guesser already throttled for guessing PUTs
    a hundred guessed Poly log names, then the name of a phone an admin has just paired; the
    phone boots; the guesser asks for its file. No answer to the guesser carries a secret."""
    settings: dict[str, object] = {"PHONE_MISS_LIMIT": 100}
    if limiter == "redis":
        settings |= {
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "RATE_LIMIT_PREFIX": f"test:{uuid.uuid4().hex}",
        }
    app = make_app(tmp_path, **settings)
    import_demo(app)
    url, thread, server = serve(app)
    guesser, mac, agent = "127.0.0.2", "0004f2a10002", SAMPLES[1].user_agent
    try:
        gets = Counter(
            fetch(url, f"/p/0004f2{index:06x}-provisioner.cfg", source=guesser)[0]
            for index in range(150)
        )
        assert gets == {200: 100, 429: 50}
        puts = Counter(
            fetch(
                url, f"/p/0004f2{index + 1000:06x}-app.log", method="PUT", body=b"x", source=guesser
            )[0]
            for index in range(100)
        )
        assert puts == {429: 100}
        pair(app, mac, "polycom", "VVX450")
        answers = [fetch(url, f"/p/{mac}-app.log", method="PUT", body=b"x", source=guesser)]
        status, body, _ = fetch(url, f"/p/{mac}-provisioner.cfg", agent, source="127.0.0.3")
        assert status == 200 and sip_password(app).encode() in body  # the phone's own file
        answers.append(fetch(url, f"/p/{mac}-provisioner.cfg", agent, source=guesser))
        answers.append(fetch(url, f"/p/{mac}-app.log", method="PUT", body=b"x", source=guesser))
        assert [status for status, _, _ in answers] == [429, 429, 429]
        secrets = all_secrets(app)
        assert not any(secret.encode() in body for secret in secrets for _, body, _ in answers)
        assert _window_source(app, mac) == "127.0.0.3"
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        thread.join(timeout=10)
        get_store(app).dispose()


def test_a_guesser_below_the_limit_gets_neither_the_window_nor_a_secret(
    phone_app: Flask, live_server: str
) -> None:
    """Not throttled yet: the guesser's PUT to the freshly paired MAC is a 204 like any other,
    binds nothing, and the GET that follows is refused the window (too many misses)."""
    guesser, mac, agent = "127.0.0.2", "0004f2a10002", SAMPLES[1].user_agent
    statuses = {
        fetch(
            live_server, f"/p/0004f2{index:06x}-app.log", method="PUT", body=b"x", source=guesser
        )[0]
        for index in range(30)
    }
    assert statuses == {204}
    pair(phone_app, mac, "polycom", "VVX450")
    assert (
        fetch(live_server, f"/p/{mac}-app.log", method="PUT", body=b"x", source=guesser)[0] == 204
    )
    assert _window_source(phone_app, mac) is None
    status, body, _ = fetch(live_server, f"/p/{mac}-provisioner.cfg", agent, source=guesser)
    assert status == 200 and not any(secret.encode() in body for secret in all_secrets(phone_app))
    assert _window_source(phone_app, mac) is None


def test_a_throttled_address_still_uploads_with_the_phones_credentials(tmp_path: Path) -> None:
    """On /p/a/ a guesser behind the phone's NAT address does not cut the phone off: the
    challenge is still given and valid credentials still store; a failed proof gets 429."""
    app = make_app(tmp_path, PHONE_MISS_LIMIT=3, ALLOW_BASIC_OVER_HTTP=True)
    import_demo(app)
    authorization = deployed_phone(app, MAC, "polycom", "VVX450")
    client = app.test_client()
    office = {"REMOTE_ADDR": "127.0.0.2"}
    for index in range(3):
        client.get(f"/p/0004f2{index:06x}-provisioner.cfg", environ_base=office)
    path = f"/p/a/{MAC}-app.log"

    def put(headers: dict[str, str]) -> int:
        return client.put(path, data=b"log", headers=headers, environ_base=office).status_code

    assert put({}) == 401
    assert put({"Authorization": "Basic " + base64.b64encode(b"x:y").decode()}) == 429
    assert put({"Authorization": authorization}) == 204 and _stored(app) == b"log"
    get_store(app).dispose()
