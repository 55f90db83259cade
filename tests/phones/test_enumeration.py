"""The enumeration defence: a thousand guessed MACs from one address are throttled, and no
answer carries a secret, even while a paired phone's first-use window is open."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

import pytest
from flask import Flask

from provisioner.pairing import flush_timeline
from provisioner.store import get_store
from tests.conftest import import_demo, make_app
from tests.phones.conftest import all_secrets, pair, serve
from tests.phones.http_client import SourceAddressHandler, fetch
from tests.phones.samples import SAMPLES

GUESSES = 1000
LIMIT = 100


@pytest.fixture(params=["memory", "redis"])
def limited_app(request: pytest.FixtureRequest, tmp_path: Path) -> Flask:
    """The demo app with the default limit, counting in-process or in Redis."""
    settings: dict[str, object] = {"PHONE_MISS_LIMIT": LIMIT}
    if request.param == "redis":
        settings |= {
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "RATE_LIMIT_PREFIX": f"test:{uuid.uuid4().hex}",
        }
    app = make_app(tmp_path, **settings)
    import_demo(app)
    return app


def test_thousand_guessed_macs_are_throttled_without_a_secret(limited_app: Flask) -> None:
    sample = SAMPLES[0]
    url, thread, server = serve(limited_app)
    try:
        pair(limited_app, sample.mac, sample.vendor, sample.model)
        statuses: Counter[int] = Counter()
        bodies: set[bytes] = set()
        for index in range(GUESSES):
            # Every guess has a Yealink OUI; the paired MAC is among them (before the limit),
            # asked from another address while the phone has not yet used its window.
            mac = sample.mac if index == 50 else f"805ec0{index:06x}"
            status, body, _ = fetch(url, f"/p/{mac}.cfg", source="127.0.0.3")
            statuses[status] += 1
            bodies.add(body)
        secrets = all_secrets(limited_app)
        assert statuses[429] == GUESSES - LIMIT
        assert statuses[200] == LIMIT
        assert len(bodies - {b""}) == 1  # every answer that was given is the one bootstrap
        assert not any(secret.encode() in body for secret in secrets for body in bodies)
        # The phone itself, from its own address, is not throttled by the attacker's misses.
        status, body, _ = fetch(url, f"/p/{sample.mac}.cfg", sample.user_agent)
        assert status == 200 and b"account.1.user_name = 240" in body
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        thread.join(timeout=10)
        get_store(limited_app).dispose()


def test_unknown_names_count_as_misses(tmp_path: Path) -> None:
    app = make_app(tmp_path, PHONE_MISS_LIMIT=3)
    client = app.test_client()
    codes = [client.get(f"/p/guess-{index}.cfg").status_code for index in range(5)]
    assert codes == [404, 404, 404, 429, 429]
    get_store(app).dispose()


def test_a_limit_of_zero_switches_throttling_off(tmp_path: Path) -> None:
    app = make_app(tmp_path, PHONE_MISS_LIMIT=0)
    client = app.test_client()
    assert {client.get(f"/p/guess-{index}.cfg").status_code for index in range(20)} == {404}
    get_store(app).dispose()


def test_an_office_booting_behind_one_address_is_not_mistaken_for_a_guesser(tmp_path: Path) -> None:
    """Fifteen unpaired phones boot (boot file, common file, own file) from one NAT address;
    common files are no misses, and the paired phone behind the same address still gets its
    first use."""
    app = make_app(tmp_path)
    import_demo(app)
    client = app.test_client()
    sample = SAMPLES[0]
    pair(app, sample.mac, sample.vendor, sample.model)
    for index in range(15):
        neighbour = sample.for_mac(f"805ec0bb{index:04x}")
        for name, status, _ in neighbour.boot:
            answer = client.get(f"/p/{name}", headers={"User-Agent": neighbour.user_agent})
            assert answer.status_code == status
    body = client.get(f"/p/{sample.mac}.cfg", headers={"User-Agent": sample.user_agent}).data
    assert b"account.1.user_name = 240" in body
    get_store(app).dispose()


def test_timeline_shows_every_answer_of_a_known_phone(tmp_path: Path) -> None:
    from tests.conftest import token_for

    app = make_app(tmp_path)
    import_demo(app)
    client = app.test_client()
    sample = SAMPLES[3]  # Grandstream: its first name is answered 404 on purpose
    pair(app, sample.mac, sample.vendor, sample.model)
    for name, _, _ in sample.boot:
        client.get(f"/p/{name}", headers={"User-Agent": sample.user_agent})
    client.get("/p/cfgc074adffffff", headers={"User-Agent": sample.user_agent})  # not ours
    headers = {"Authorization": f"Bearer {token_for(app, 'support')}"}
    items = client.get(f"/api/v1/tenants/demo/phones/{sample.mac}/timeline", headers=headers).json
    assert [(item["file"], item["answer"]) for item in reversed(items["items"])] == [
        (f"cfg{sample.mac}", "not found"),
        (f"cfg{sample.mac}.xml", "full"),
    ]
    get_store(app).dispose()


def test_the_digest_challenge_is_no_miss(tmp_path: Path) -> None:
    """Every Digest fetch starts with a request without credentials and its 401: an office of
    paired phones re-syncing behind one address must not throttle itself with those. A wrong
    password still counts."""
    import base64

    # The wrong tries are Basic (simplest to write), taken over plain HTTP here on purpose.
    app = make_app(tmp_path, PHONE_MISS_LIMIT=3, ALLOW_BASIC_OVER_HTTP=True)
    import_demo(app)
    client = app.test_client()
    sample = SAMPLES[0]
    pair(app, sample.mac, sample.vendor, sample.model)
    path = f"/p/a/{sample.mac}.cfg"
    headers = {"User-Agent": sample.user_agent}
    assert {client.get(path, headers=headers).status_code for _ in range(10)} == {401}
    wrong = base64.b64encode(f"{sample.mac}:wrong".encode()).decode()
    guesses = [
        client.get(path, headers={**headers, "Authorization": f"Basic {wrong}"}).status_code
        for _ in range(5)
    ]
    assert guesses == [401, 401, 401, 429, 429]
    get_store(app).dispose()


def test_a_proven_phone_is_served_while_its_address_is_throttled(tmp_path: Path) -> None:
    """Someone guessing behind the office's NAT address must not cut its paired phones off:
    a request with valid credentials is answered; everything else from there stays 429."""
    import base64

    from tests.phones.test_boot import credentials

    # Preemptive Basic (Grandstream can send it), over plain HTTP here on purpose; Digest
    # from a throttled address: test_a_digest_phone_behind_a_guessing_address_still_gets_its_file.
    app = make_app(tmp_path, PHONE_MISS_LIMIT=3, ALLOW_BASIC_OVER_HTTP=True)
    import_demo(app)
    client = app.test_client()
    sample = SAMPLES[0]
    pair(app, sample.mac, sample.vendor, sample.model)
    for index in range(5):
        client.get(f"/p/805ec0cc{index:04x}.cfg")
    assert client.get(f"/p/{sample.mac}.cfg").status_code == 429
    login = credentials(app, sample.mac)

    def basic(password: str) -> dict[str, str]:
        token = base64.b64encode(f"{login['username']}:{password}".encode()).decode()
        return {"Authorization": f"Basic {token}", "User-Agent": sample.user_agent}

    path = f"/p/a/{sample.mac}.cfg"
    proven = client.get(path, headers=basic(login["password"]))
    assert proven.status_code == 200 and b"account.1.user_name = 240" in proven.data
    assert client.get(path, headers=basic("wrong")).status_code == 429
    assert client.get("/p/a/y000000000000.cfg", headers=basic("wrong")).status_code == 429
    get_store(app).dispose()


def test_ipv6_guessers_cannot_rotate_addresses_within_their_network(tmp_path: Path) -> None:
    """An IPv6 host has a whole /64 to send from: misses are counted per /64, not per address."""
    app = make_app(tmp_path, PHONE_MISS_LIMIT=3)
    client = app.test_client()
    codes = [
        client.get(
            f"/p/guess-{index}.cfg", environ_base={"REMOTE_ADDR": f"2001:db8:0:1::{index + 1:x}"}
        ).status_code
        for index in range(5)
    ]
    assert codes == [404, 404, 404, 429, 429]
    elsewhere = client.get("/p/guess.cfg", environ_base={"REMOTE_ADDR": "2001:db8:0:2::1"})
    assert elsewhere.status_code == 404  # another network has its own count
    get_store(app).dispose()


def test_a_throttled_address_writes_nothing_by_trying_credentials(tmp_path: Path) -> None:
    """Credentials are still checked for a throttled address, but a failed try must not add
    timeline rows (else guessing MACs with any Authorization header would fill the store)."""
    import base64

    from sqlalchemy import func, select

    from provisioner.store import models

    # Basic tries are checked (not dropped) only where Basic over plain HTTP is allowed.
    app = make_app(tmp_path, PHONE_MISS_LIMIT=3, ALLOW_BASIC_OVER_HTTP=True)
    client = app.test_client()
    for index in range(4):
        client.get(f"/p/guess-{index}.cfg")
    flush_timeline(app)
    with get_store(app).reading() as session:
        before = session.scalar(select(func.count()).select_from(models.DeviceEvent))
    token = base64.b64encode(b"805ec0dd0000:guess").decode()
    codes = {
        client.get(
            f"/p/a/805ec0dd{index:04x}.cfg", headers={"Authorization": f"Basic {token}"}
        ).status_code
        for index in range(20)
    }
    assert codes == {429}
    flush_timeline(app)
    with get_store(app).reading() as session:
        assert session.scalar(select(func.count()).select_from(models.DeviceEvent)) == before
    get_store(app).dispose()


def test_a_digest_phone_behind_a_guessing_address_still_gets_its_file(limited_app: Flask) -> None:
    """An address that has just guessed a thousand MACs is throttled, yet a paired phone
    behind it (the same NAT address) still logs in with Digest: the first leg, without
    credentials, is challenged, and the correct answer gets the file."""
    import urllib.request

    from tests.phones.test_boot import credentials

    sample = SAMPLES[0]
    url, thread, server = serve(limited_app)
    try:
        pair(limited_app, sample.mac, sample.vendor, sample.model)
        statuses = Counter(
            fetch(url, f"/p/805ec0{index:06x}.cfg", source="127.0.0.3")[0]
            for index in range(GUESSES)
        )
        assert statuses[429] == GUESSES - LIMIT
        login = credentials(limited_app, sample.mac)
        manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        manager.add_password(None, url, login["username"], login["password"])
        handler = urllib.request.HTTPDigestAuthHandler(manager)
        opener = urllib.request.build_opener(SourceAddressHandler("127.0.0.3"), handler)
        request = urllib.request.Request(
            f"{url}/p/a/{sample.mac}.cfg", headers={"User-Agent": sample.user_agent}
        )
        with opener.open(request, timeout=10) as response:
            assert b"account.1.user_name = 240" in response.read()
        # The address stays throttled for everything else, and wrong answers are refused.
        assert fetch(url, f"/p/{sample.mac}.cfg", source="127.0.0.3")[0] == 429
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        thread.join(timeout=10)
        get_store(limited_app).dispose()
