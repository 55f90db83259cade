"""Timing does not tell real MACs and serials from guessed ones: through the production
command on PostgreSQL, a never-requested MAC, an unpaired phone's and a paired phone's (all
answered the same bootstrap) take the same time, as do a made-up router serial and a real one
with a wrong secret (the same 404).

Each round sends one request of every kind, in a random order, each on a new connection as
phones and routers do, and the kinds are compared by the median over rounds of their time
divided by the guessed one's in the same round: load from other work on the machine changes
whole rounds, not one kind against another.

Each phone request carries a firmware version of its own, so no (name, User-Agent) pair was
seen before: what is measured is whether the MAC exists. A worker that saw the very same pair
before (a phone's own resync) identifies it from its memory, some 20 us sooner (see
``identify``'s cache)."""

from __future__ import annotations

import random
import secrets
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from provisioner.pairing.credentials import tenant_admin_password
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store
from provisioner.tenants.repository import find_tenant
from tests.conftest import import_demo, make_app
from tests.http.conftest import environment_of, fetch
from tests.http.test_production import start_production, stop
from tests.phones.conftest import deployed_phone

pytestmark = pytest.mark.postgres

SAMPLES = 200
WARM_UP = 40
TOLERANCE = 0.10
ATTEMPTS = 3  # a whole measurement again when the machine's load made one lopsided
UNPAIRED = "805ec0123456"  # the demo tenant's phone without a pairing
PAIRED = "805ec0aa0101"
SERIAL = "HE7A1B2C3D4"


@pytest.fixture
def server(tmp_path: Path, postgres_url: str) -> Iterator[int]:
    """The demo tenant with a deployed phone, served by the production command, limits off."""
    app: Flask = make_app(tmp_path, postgres_url, PHONE_MISS_LIMIT=0)
    import_demo(app)
    deployed_phone(app, PAIRED)
    with get_store(app).transaction() as session:  # as after the tenant's first boot
        tenant_admin_password(session, get_secret_box(app), find_tenant(session, "demo"))
    get_store(app).dispose()
    environment = environment_of(app, tmp_path / "host")
    environment["PROVISIONER_ZEROTOUCH_MISS_LIMIT"] = "0"
    port, process = start_production(app="provisioner:create_app", environment=environment)
    try:
        yield port
    finally:
        stop(process)


def phone_request(mac: str) -> bytes:
    agent = ":".join(mac[index : index + 2] for index in range(0, 12, 2))
    return (
        f"GET /p/{mac}.cfg HTTP/1.1\r\nHost: x\r\n"
        f"User-Agent: Yealink SIP-T46U 108.86.0.{secrets.randbelow(10_000)} {agent}\r\n\r\n"
    ).encode()


def router_request(serial: str) -> bytes:
    return f"GET /z/{serial}/{'w' * 20}/config.rsc HTTP/1.1\r\nHost: x\r\n\r\n".encode()


def requests_of_a_round() -> dict[str, bytes]:
    """One request of each kind; the guessed MAC and serial were never asked before."""
    return {
        "unknown mac": phone_request("805ec0" + secrets.token_hex(3)),
        "unpaired mac": phone_request(UNPAIRED),
        "paired mac": phone_request(PAIRED),
        "made-up serial": router_request("HE7" + secrets.token_hex(4).upper()),
        "real serial": router_request(SERIAL),
    }


def timed_rounds(port: int, rounds: int) -> list[dict[str, float]]:
    """Each kind's time per round, the kinds in a new order each round."""
    measured = []
    for _ in range(rounds):
        times = {}
        kinds = list(requests_of_a_round().items())
        random.shuffle(kinds)  # a request right after another kind's pays for the switch
        for kind, request in kinds:
            answer, seconds = fetch(port, request)
            assert answer[9:12] in (b"200", b"404"), answer[:100]
            times[kind] = seconds
        measured.append(times)
    return measured


def median_ratio(rounds: list[dict[str, float]], kind: str, reference: str) -> float:
    return statistics.median(times[kind] / times[reference] for times in rounds)


def ratios(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {
        "unpaired mac": median_ratio(rounds, "unpaired mac", "unknown mac"),
        "paired mac": median_ratio(rounds, "paired mac", "unknown mac"),
        "real serial": median_ratio(rounds, "real serial", "made-up serial"),
    }


def test_real_and_guessed_macs_and_serials_take_the_same_time(server: int) -> None:
    answers = {kind: fetch(server, request)[0] for kind, request in requests_of_a_round().items()}
    bodies = {kind: answer.partition(b"\r\n\r\n")[2] for kind, answer in answers.items()}
    assert bodies["unknown mac"] == bodies["unpaired mac"] == bodies["paired mac"]
    assert bodies["made-up serial"] == bodies["real serial"]
    timed_rounds(server, WARM_UP)  # the worker's watch is up and has read every row
    found: list[dict[str, float]] = []
    for _ in range(ATTEMPTS):
        found.append(ratios(timed_rounds(server, SAMPLES)))
        print(f"medians of time ratios: {found[-1]}")
        if all(abs(ratio - 1) <= TOLERANCE for ratio in found[-1].values()):
            return
    raise AssertionError(f"medians of time ratios per attempt: {found}")
