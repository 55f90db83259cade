"""The enumeration defence: a thousand guessed MACs from one address are throttled, and no
answer carries a secret, even while a paired phone's first-use window is open."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

import pytest
from flask import Flask

from provisioner.store import get_store
from tests.conftest import import_demo, make_app
from tests.phones.conftest import all_secrets, pair, serve
from tests.phones.http_client import fetch
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
