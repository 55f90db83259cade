"""Latest state, bounded history and traps in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from provisioner.network import state
from provisioner.store import get_store
from provisioner.store.models import (
    NetworkDevice,
    NetworkDeviceState,
    NetworkPollRecord,
    NetworkTrap,
    utc_now,
)
from tests.conftest import import_demo, make_app
from tests.network.conftest import add_device, v2c_device


def test_up_down_history_and_traps(tmp_path: Path, database_url: str) -> None:
    app = make_app(tmp_path, database_url)
    import_demo(app)
    device_id = add_device(app, **v2c_device("sw", 161))
    store = get_store(app)
    interfaces = [{"if_index": 3, "name": "Gi0/3", "oper_status": "up", "counters": {}}]
    with store.transaction() as session:
        for _ in range(3):
            state.record_up(session, device_id, {"interfaces": interfaces}, {"n": 1}, keep=2)
    with store.transaction() as session:
        state.record_down(session, device_id, "timeout", "no answer within 2 s", keep=2)
        trap = NetworkTrap(
            device_id=device_id,
            received_at=utc_now(),
            source="127.0.0.1:5000",
            trap_oid="1.3.6.1.6.3.1.1.5.3",
            name="linkDown",
            if_index=3,
            variables={},
        )
        state.store_trap(session, trap, keep=10)
    with store.reading() as session:
        row = session.get(NetworkDeviceState, device_id)
        assert row is not None
        assert (row.status, row.reason) == ("down", "timeout: no answer within 2 s")
        assert row.down_since is not None and row.last_up_at is not None
        assert row.data["interfaces"][0]["oper_status"] == "down"  # from the trap, at once
        statuses = [record.status for record in state.history(session, device_id)]
        assert statuses == ["down", "up"]
    with store.transaction() as session:
        session.delete(session.get(NetworkDevice, device_id))
    with store.reading() as session:
        assert session.query(NetworkPollRecord).count() == 0
        assert session.query(NetworkTrap).count() == 0
    store.dispose()


def test_traps_are_kept_newest_first_per_device(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    import_demo(app)
    device_id = add_device(app, **v2c_device("sw", 161))
    with get_store(app).transaction() as session:
        for number in range(5):
            for owner in (device_id, None):  # a trap of an unknown sender is kept apart
                trap = NetworkTrap(
                    device_id=owner,
                    received_at=utc_now(),
                    source="127.0.0.1:5000",
                    trap_oid="1.3.6.1.6.3.1.1.5.1",
                    name=f"trap {number}",
                    variables={},
                )
                state.store_trap(session, trap, keep=2)
    with get_store(app).reading() as session:
        mine = [trap.name for trap in state.recent_traps(session, [device_id])]
        unknown = session.query(NetworkTrap).filter(NetworkTrap.device_id.is_(None)).count()
    assert (mine, unknown) == (["trap 4", "trap 3"], 2)


def test_a_long_down_reason_is_stored_shortened(tmp_path: Path, database_url: str) -> None:
    # The reason column holds 300 characters; a long DNS error or exception text overflowed
    # it on PostgreSQL, so the device's failure itself could not be recorded.
    app = make_app(tmp_path, database_url)
    import_demo(app)
    device_id = add_device(app, **v2c_device("sw", 161))
    reason = "cannot resolve " + "very-long-label." * 30 + "example.net"
    with get_store(app).transaction() as session:
        state.record_down(session, device_id, "unreachable", reason, keep=5)
    with get_store(app).reading() as session:
        row = session.get(NetworkDeviceState, device_id)
        assert row is not None and row.status == "down"
        assert row.reason.startswith("unreachable: cannot resolve very-long-label.")
        assert len(row.reason) <= 300
        [record] = state.history(session, device_id)
        assert record.reason == row.reason
    get_store(app).dispose()
