"""Leases: how pollers sharing one store divide the devices, once per interval each."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from provisioner.network import leases
from provisioner.store import get_store
from provisioner.store.models import NetworkPollLease, utc_now
from tests.conftest import import_demo, make_app
from tests.network.conftest import add_device, v2c_device

INTERVAL = 60


@pytest.fixture
def shared_app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    """An app with three devices polled every minute, on SQLite and on PostgreSQL."""
    app = make_app(tmp_path, database_url)
    import_demo(app)
    for number in range(3):
        add_device(app, **v2c_device(f"sw{number}", 161, poll_interval=INTERVAL))
    yield app
    get_store(app).dispose()


def claim(app: Flask, poller: str, at: datetime, limit: int = 10) -> list[str]:
    """The names of the devices ``poller`` claims at ``at``."""
    with get_store(app).transaction() as session:
        leases.add_missing_leases(session, at)
        claims = leases.claim_due(session, poller, at, limit, deadline=30)
        return sorted(claim.device.name for claim in claims)


def test_a_claimed_device_is_due_again_one_interval_later(shared_app: Flask) -> None:
    start = utc_now()
    assert claim(shared_app, "a", start) == ["sw0", "sw1", "sw2"]
    assert claim(shared_app, "b", start + timedelta(seconds=1)) == []
    assert claim(shared_app, "a", start + timedelta(seconds=INTERVAL - 1)) == []
    assert claim(shared_app, "b", start + timedelta(seconds=INTERVAL)) == ["sw0", "sw1", "sw2"]


def test_a_claim_takes_at_most_its_limit_and_leaves_the_rest_due(shared_app: Flask) -> None:
    start = utc_now()
    first = claim(shared_app, "a", start, limit=2)
    second = claim(shared_app, "b", start, limit=2)
    assert len(first) == 2 and len(second) == 1 and not set(first) & set(second)


def test_a_dead_pollers_devices_are_taken_at_their_next_due_time(shared_app: Flask) -> None:
    start = utc_now()
    claim(shared_app, "dies", start)  # never releases: killed mid-poll
    # Held until the poll's deadline (30 s), due again after the interval (60 s).
    assert claim(shared_app, "lives", start + timedelta(seconds=31)) == []
    assert claim(shared_app, "lives", start + timedelta(seconds=INTERVAL)) == ["sw0", "sw1", "sw2"]


def test_removed_and_disabled_devices_are_not_claimed(shared_app: Flask) -> None:
    from provisioner.network import inventory

    start = utc_now()
    claim(shared_app, "a", start, limit=0)  # every device has its lease
    with get_store(shared_app).transaction() as session:
        inventory.remove_device(session, "demo", "sw0", "test")
        inventory.find_device(session, "demo", "sw1").enabled = False
    assert claim(shared_app, "a", start) == ["sw2"]


def test_a_stopping_poller_hands_its_unfinished_polls_back(shared_app: Flask) -> None:
    start = utc_now()
    claim(shared_app, "stops", start, limit=2)
    with get_store(shared_app).transaction() as session:
        finished = session.query(NetworkPollLease).filter_by(holder="stops").first()
        assert finished is not None
        leases.release(session, [finished.device_id], "stops")
        leases.hand_back(session, "stops", start + timedelta(seconds=1))
    # The one not finished is due at once; the finished one waits for its interval.
    assert len(claim(shared_app, "other", start + timedelta(seconds=1))) == 2


@pytest.mark.postgres
def test_two_pollers_claiming_at_once_get_different_devices(
    tmp_path: Path, postgres_url: str
) -> None:
    app = make_app(tmp_path, postgres_url)
    import_demo(app)
    for number in range(3):
        add_device(app, **v2c_device(f"sw{number}", 161, poll_interval=INTERVAL))
    start = utc_now()
    claim(app, "setup", start - timedelta(seconds=INTERVAL), limit=0)  # leases exist
    store = get_store(app)
    try:
        # The first claim's transaction is still open (its rows locked) when the second claims:
        # the second skips the locked rows instead of waiting or taking them too.
        with store.transaction() as first:
            taken = leases.claim_due(first, "a", start, 2, deadline=30)
            second = claim(app, "b", start)
        assert len(taken) == 2 and len(second) == 1
        assert second[0] not in {item.device.name for item in taken}
    finally:
        store.dispose()


def test_a_device_can_be_put_off_and_brought_forward(shared_app: Flask) -> None:
    """A router applying its configuration is put off (its lease made if it has none); its
    report makes it due at once."""
    from provisioner.network import inventory

    start = utc_now()
    with get_store(shared_app).transaction() as session:
        put_off = inventory.find_device(session, "demo", "sw0").id
        leases.set_due(session, put_off, start + timedelta(seconds=600))
    assert claim(shared_app, "a", start) == ["sw1", "sw2"]
    with get_store(shared_app).transaction() as session:
        leases.set_due(session, put_off, start + timedelta(seconds=2))
    assert claim(shared_app, "a", start + timedelta(seconds=1)) == []
    assert claim(shared_app, "a", start + timedelta(seconds=2)) == ["sw0"]
