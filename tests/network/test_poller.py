"""The poller against real agents: up, rates, restarts, and the three ways of being down."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from provisioner.network.poller import Finished, Poller, PollJob, PollResult, run_poll_once
from provisioner.network.snmp import SnmpClient, Target
from provisioner.store import get_store
from provisioner.store.models import NetworkDeviceState, NetworkPollRecord
from tests.conftest import import_demo, make_app
from tests.network.agents import Snmpd, Snmpsim
from tests.network.conftest import add_device, v2c_device, v3_device


def state_of(app: Flask, device_id: int) -> NetworkDeviceState:
    with get_store(app).reading() as session:
        row = session.get(NetworkDeviceState, device_id)
        assert row is not None
        return row


def demo(tmp_path: Path, **settings: object) -> Flask:
    app = make_app(tmp_path, **settings)
    import_demo(app)
    return app


def test_v2c_and_v3_devices_are_polled_up(tmp_path: Path, snmpd_agent: Snmpd) -> None:
    app = demo(tmp_path)
    v2c = add_device(app, **v2c_device("sw-v2c", snmpd_agent.port))
    v3 = add_device(app, **v3_device("rt-v3", snmpd_agent.port, site="Kantoor Amsterdam"))
    results = run_poll_once(app)
    assert {result.name: result.status for result in results} == {"sw-v2c": "up", "rt-v3": "up"}
    for device_id in (v2c, v3):
        data = state_of(app, device_id).data
        assert data["system"]["name"] == "provisioner-test-router"
        assert data["system"]["engine_id"]
        assert any(item["name"] == "lo" for item in data["interfaces"])


def test_second_poll_gives_rates_and_history_is_bounded(tmp_path: Path, snmpd_agent: Snmpd) -> None:
    app = demo(tmp_path, NETWORK_HISTORY_LIMIT=2)
    device_id = add_device(app, **v2c_device("sw", snmpd_agent.port))
    for _ in range(3):
        run_poll_once(app)
    data = state_of(app, device_id).data
    loopback = next(item for item in data["interfaces"] if item["name"] == "lo")
    assert "in_bps" in loopback["rates"]
    assert loopback["rates"]["in_bps"] >= 0
    with get_store(app).reading() as session:
        assert session.query(NetworkPollRecord).filter_by(device_id=device_id).count() == 2


RESTART_MARGIN_TICKS = 300  # 3 s: a restart and one poll take far less, even under load


def uptime_once_past(app: Flask, device_id: int, ticks: int, seconds: float = 30) -> int:
    """Poll until the agent's sysUpTime is at least ``ticks``; the last one seen (bounded)."""
    deadline = time.monotonic() + seconds
    while True:
        run_poll_once(app)
        uptime: int = state_of(app, device_id).data["system"]["uptime_ticks"]
        if uptime >= ticks or time.monotonic() > deadline:
            return uptime
        time.sleep(0.2)


def test_agent_restart_is_seen_and_gives_no_rates(tmp_path: Path, snmpd_agent: Snmpd) -> None:
    app = demo(tmp_path)
    device_id = add_device(app, **v2c_device("rt", snmpd_agent.port))
    # The restart shows as sysUpTime going down: wait until it is clearly past what it will be
    # right after the restart and a poll, even on a busy machine.
    before = uptime_once_past(app, device_id, RESTART_MARGIN_TICKS)
    assert before >= RESTART_MARGIN_TICKS
    snmpd_agent.stop()
    snmpd_agent.start()  # same port
    run_poll_once(app)
    data = state_of(app, device_id).data
    assert data["system"]["uptime_ticks"] < before
    assert data["restarted"] is True
    assert all(item["rates"] == {} for item in data["interfaces"])


def test_wrong_v3_key_is_an_authentication_failure_not_a_timeout(
    tmp_path: Path, snmpd_agent: Snmpd
) -> None:
    app = demo(tmp_path)
    device_id = add_device(app, **v3_device("rt", snmpd_agent.port, auth_key="not-the-key"))
    [result] = run_poll_once(app)
    assert (result.status, result.kind) == ("down", "authentication")
    row = state_of(app, device_id)
    assert row.status == "down"
    assert row.reason.startswith("authentication:")


def test_silent_device_is_a_timeout_and_closed_port_is_unreachable(tmp_path: Path) -> None:
    app = demo(tmp_path)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # receives, never answers
        add_device(app, **v2c_device("silent", silent.getsockname()[1], retries=0))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        add_device(app, **v2c_device("closed", closed_port, retries=0))
        results = {result.name: result for result in run_poll_once(app)}
    assert results["silent"].kind == "timeout"
    assert "no answer within 0.5 s" in results["silent"].reason
    # An agent drops a wrong community silently too: the reason must not point at the network only.
    assert "a wrong community also looks like this" in results["silent"].reason
    assert results["closed"].kind == "unreachable"
    assert "port unreachable" in results["closed"].reason


class StopsAgentMidWalk(SnmpClient):
    """A real client that stops one real agent after that agent answered some GETBULKs."""

    def __init__(self, agent: Snmpd, after_requests: int) -> None:
        super().__init__()
        self.agent = agent
        self.remaining = after_requests

    async def bulk(self, target: Target, starts: Sequence[tuple[int, ...]], repetitions: int):
        if target.port == self.agent.port:
            self.remaining -= 1
            if self.remaining == 0:
                await asyncio.to_thread(self.agent.stop)
        return await super().bulk(target, starts, repetitions)


def test_agent_stopped_mid_walk_is_down_and_the_others_go_on(
    tmp_path: Path, snmpd_agent: Snmpd, snmpsim_agent: Snmpsim
) -> None:
    app = demo(tmp_path)
    router = add_device(app, **v2c_device("rt", snmpd_agent.port, max_repetitions=2, retries=0))
    switch = add_device(app, **v2c_device("sw", snmpsim_agent.port, community="voip-switch"))

    async def poll() -> list[PollResult]:
        poller = Poller(app, StopsAgentMidWalk(snmpd_agent, after_requests=3))
        try:
            return await poller.run_once()
        finally:
            poller.client.close()

    results = {result.name: result for result in asyncio.run(poll())}
    assert results["rt"].status == "down"
    assert results["rt"].kind in ("unreachable", "timeout")
    assert results["sw"].status == "up"
    assert state_of(app, router).reason.startswith(results["rt"].kind)
    assert state_of(app, switch).data["system"]["name"] == "sw-kantoor"


def test_background_poller_beside_http(tmp_path: Path, snmpd_agent: Snmpd) -> None:
    from provisioner.network import start_beside_http

    app = demo(tmp_path, NETWORK_TRAP_PORT=0)  # the trap receiver too: any free port
    device_id = add_device(app, **v2c_device("rt", snmpd_agent.port))
    stop = start_beside_http(app, enabled=True)
    try:
        polled = threading.Event()
        for _ in range(100):  # bounded: 10 s
            with get_store(app).reading() as session:
                row = session.get(NetworkDeviceState, device_id)
                if row is not None and row.status == "up":
                    polled.set()
                    break
            polled.wait(0.1)
        assert polled.is_set()
    finally:
        stop()


def test_poll_once_command_reports_each_device(tmp_path: Path, snmpd_agent: Snmpd) -> None:
    app = demo(tmp_path)
    add_device(app, **v2c_device("rt", snmpd_agent.port))
    add_device(app, **v3_device("rt-badkey", snmpd_agent.port, auth_key="not-the-key"))
    result = app.test_cli_runner().invoke(args=["poll", "--once"])
    assert result.exit_code == 0, result.output
    assert "rt\tup\n" in result.output
    assert "rt-badkey\tdown\tauthentication: the agent refused our credentials" in result.output
    assert "polled 2 device(s), 1 down" in result.output
    listed = app.test_cli_runner().invoke(args=["network", "list", "demo"]).output
    assert "demo/rt-badkey\trouter" in listed and "down (authentication:" in listed


def test_a_poll_may_not_outlast_its_interval(tmp_path: Path, snmpd_agent: Snmpd) -> None:
    app = demo(tmp_path, NETWORK_POLL_DEADLINE=1)
    device_id = add_device(app, **v2c_device("rt", snmpd_agent.port))

    class Slow(SnmpClient):
        async def bulk(self, target: Target, starts: Sequence[tuple[int, ...]], repetitions: int):
            await asyncio.sleep(0.3)  # a device that answers, but slowly
            return await super().bulk(target, starts, repetitions)

    async def poll() -> list[PollResult]:
        poller = Poller(app, Slow())
        try:
            return await poller.run_once()
        finally:
            poller.client.close()

    [result] = asyncio.run(poll())
    assert (result.status, result.kind) == ("down", "timeout")
    assert "the poll took longer than 1 s" in state_of(app, device_id).reason


@pytest.mark.parametrize(
    ("user", "auth", "auth_key", "priv", "priv_key", "kind"),
    [
        ("monsha256", "SHA-256", "authpass-256", "AES-256", "privpass-256", ""),
        ("monsha1aes256", "SHA", "authpass-123", "AES-256", "privpass-123", ""),
        # net-snmp extends AES-256 keys the Blumenthal way; the Cisco (Reeder) variant with a
        # SHA-1 key is a different key, and the agent's silence reads as a timeout.
        ("monsha1aes256", "SHA", "authpass-123", "AES-256-Cisco", "privpass-123", "timeout"),
    ],
    ids=["sha256-aes256", "sha1-aes256", "sha1-aes256-cisco-variant"],
)
def test_v3_sha2_and_aes256_variants(
    tmp_path: Path,
    snmpd_agent: Snmpd,
    user: str,
    auth: str,
    auth_key: str,
    priv: str,
    priv_key: str,
    kind: str,
) -> None:
    app = demo(tmp_path)
    fields = v3_device("rt", snmpd_agent.port, auth_key=auth_key)
    fields.update(v3_user=user, auth_protocol=auth, priv_protocol=priv, priv_key=priv_key)
    if kind == "timeout":
        fields["retries"] = 0  # the expected silence, once
    add_device(app, **fields)
    [result] = run_poll_once(app)
    assert (result.status == "up", result.kind) == (not kind, kind)


def test_rates_across_a_counter32_wrap_from_a_recorded_switch(
    tmp_path: Path, snmpsim_agent: Snmpsim
) -> None:
    """The recording's counters are fixed; the previous poll is set just before a wrap."""
    app = demo(tmp_path)
    device_id = add_device(app, **v2c_device("sw", snmpsim_agent.port, community="voip-switch"))
    recorded_uptime = 8_640_000  # sysUpTime in the recording: 24 h
    previous = {
        "clock": {
            "wall_seconds": time.time() - 10,
            "uptime_ticks": recorded_uptime - 1_000,
            "engine_boots": None,
            "engine_time": None,
        },
        "interfaces": [
            {
                "if_index": 103,
                "counters": {
                    "in_octets_32": 2**32 - 5_000,  # now 3,000: wrapped, 8,000 octets later
                    "in_octets": 3 * 10**9 - 1_250_000,  # Counter64, now 3 * 10**9
                    "in_errors": 0,
                },
            }
        ],
    }
    with get_store(app).transaction() as session:
        session.add(NetworkDeviceState(device_id=device_id, status="up", data=previous))
    [result] = run_poll_once(app)
    assert result.status == "up"
    data = state_of(app, device_id).data
    gi03 = next(item for item in data["interfaces"] if item["if_index"] == 103)
    assert data["restarted"] is False
    assert gi03["rates"]["in_bps_32"] == 6_400.0  # 8,000 octets in 10 s (agent clock)
    assert gi03["rates"]["in_bps"] == 1_000_000.0
    assert gi03["rates"]["in_errors_per_second"] == 0.0


def test_a_store_failure_on_one_down_device_does_not_lose_the_others(
    tmp_path: Path, snmpd_agent: Snmpd, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = demo(tmp_path)
    rt = add_device(app, **v2c_device("rt", snmpd_agent.port))
    # Down at once, without waiting for a timeout: its secret cannot be decrypted.
    scramble_community(app, add_device(app, **v2c_device("restored", snmpd_agent.port)))

    def store_refuses(self: Poller, session: Session, job: PollJob, kind: str, reason: str) -> None:
        raise OSError("the database went away")

    monkeypatch.setattr(Poller, "write_down", store_refuses)
    results = {result.name: result for result in run_poll_once(app)}
    assert (results["rt"].status, results["restored"].status) == ("up", "down")
    assert results["restored"].kind == "error"
    assert state_of(app, rt).status == "up"


def test_polls_stored_together_survive_one_the_store_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Finished polls are stored a batch per transaction; when one of them fails, the batch is
    # stored poll by poll, and only that poll is lost.
    app = demo(tmp_path)
    ids = {name: add_device(app, **v2c_device(name, 161)) for name in ("rt1", "bad", "rt2")}
    write_down = Poller.write_down

    def refuses_bad(self: Poller, session: Session, job: PollJob, kind: str, reason: str) -> None:
        if job.name == "bad":
            raise OSError("the database went away")
        write_down(self, session, job, kind, reason)

    monkeypatch.setattr(Poller, "write_down", refuses_bad)
    poller = Poller(app)
    try:
        jobs = poller.jobs()
        errors = poller.save_batch([Finished(job, None, "timeout", "no answer") for job in jobs])
    finally:
        poller.client.close()
    assert [job.name for job in jobs] == ["rt1", "bad", "rt2"]
    assert [type(error).__name__ for error in errors] == ["NoneType", "OSError", "NoneType"]
    assert state_of(app, ids["rt1"]).status == state_of(app, ids["rt2"]).status == "down"
    with get_store(app).reading() as session:
        assert session.get(NetworkDeviceState, ids["bad"]) is None


def test_a_running_poller_claims_again_as_soon_as_places_free_up(
    tmp_path: Path, snmpd_agent: Snmpd
) -> None:
    # 12 devices due at once, 2 polls at a time: claiming once a second (CLAIM_SECONDS) took
    # at least 5 s; claiming again when places free up takes a few quick polls' time.
    app = demo(tmp_path, NETWORK_POLL_CONCURRENCY=2)
    for number in range(12):
        add_device(app, **v2c_device(f"rt{number}", snmpd_agent.port))

    def stored() -> int:
        with get_store(app).reading() as session:
            return session.query(NetworkPollRecord).count()

    async def main() -> float:
        poller, stop = Poller(app, name="quick"), asyncio.Event()
        running = asyncio.create_task(poller.run_forever(stop))
        started = time.monotonic()
        try:
            for _ in range(200):  # at most 10 s
                if await asyncio.to_thread(stored) >= 12:
                    break
                await asyncio.sleep(0.05)
            return time.monotonic() - started
        finally:
            stop.set()
            await running
            poller.client.close()

    elapsed = asyncio.run(main())
    assert stored() == 12
    assert elapsed < 4.0


def scramble_community(app: Flask, device_id: int) -> None:
    """Make a device's stored community undecryptable (written under another instance's key)."""
    from cryptography.fernet import Fernet

    from provisioner.store.models import NetworkDevice

    with get_store(app).transaction() as session:
        row = session.get(NetworkDevice, device_id)
        assert row is not None
        row.community_encrypted = Fernet(Fernet.generate_key()).encrypt(b"public").decode()


def test_a_device_whose_secret_cannot_be_decrypted_does_not_stop_the_others(
    tmp_path: Path, snmpd_agent: Snmpd
) -> None:
    app = demo(tmp_path)
    broken = add_device(app, **v2c_device("restored", snmpd_agent.port))
    add_device(app, **v2c_device("rt", snmpd_agent.port))
    scramble_community(app, broken)
    results = {result.name: result for result in run_poll_once(app)}
    assert results["rt"].status == "up"
    assert (results["restored"].status, results["restored"].kind) == ("down", "error")
    assert "SECRETS_KEY" in state_of(app, broken).reason
