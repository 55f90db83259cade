"""The SNMP poller: one long-lived pysnmp engine, bounded concurrency, an interval per device.

Each device is polled on its own interval; at most ``NETWORK_POLL_CONCURRENCY`` polls run at
once and each device has one request in flight at a time. A device that stops answering, even
in the middle of a walk, is marked down with the reason and the others go on. Running, a
poller claims due devices through the store's leases (``leases.py``), so several pollers share
one inventory and each device is polled once per interval by one of them.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner.errors import ConfigError, SnmpFailure
from provisioner.metrics import POLL_RESULTS
from provisioner.network import collect, leases, state
from provisioner.network.inventory import target_of
from provisioner.network.routers import reports
from provisioner.network.snmp import SnmpClient, SnmpReader, Target
from provisioner.security.secrets import SecretBox, get_secret_box
from provisioner.store import get_store
from provisioner.store.models import NetworkDevice, NetworkDeviceState

log = logging.getLogger(__name__)
# How often the running poller gives leases to devices added meanwhile.
INVENTORY_REFRESH_SECONDS = 30.0
# How often the running poller asks the store for due devices (a device is polled at most
# this long after it is due).
CLAIM_SECONDS = 1.0
# Polls stored in one transaction at most (one commit, one query for their state rows, one
# for their leases, instead of each of those per device).
STORE_BATCH = 200


@dataclass(frozen=True, slots=True)
class PollJob:
    """One device to poll: its id, name, target and interval (no target: ``problem`` says why)."""

    device_id: int
    name: str
    target: Target | None
    interval: int
    problem: str = ""


@dataclass(frozen=True, slots=True)
class Finished:
    """A poll waiting to be stored: what it collected, or (``collected`` None) why it failed."""

    job: PollJob
    collected: collect.Collected | None
    kind: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PollResult:
    """How one poll ended: up, partial (answered, but a table is incomplete; ``reason`` says
    which and why), down or unknown."""

    device_id: int
    name: str
    status: str
    kind: str = ""
    reason: str = ""


class Poller:
    """Polls the inventory of one app; create and run it inside one event loop."""

    def __init__(self, app: Flask, client: SnmpReader | None = None, name: str = "") -> None:
        self.app = app
        self.client: SnmpReader = client or SnmpClient()
        # Who we are to the other pollers (leases, poll records); empty for a one-off poll.
        self.name = name
        self.concurrency = int(app.config["NETWORK_POLL_CONCURRENCY"])
        self.limit = asyncio.Semaphore(self.concurrency)
        self.keep = int(app.config["NETWORK_HISTORY_LIMIT"])
        self.deadline = float(app.config["NETWORK_POLL_DEADLINE"])
        # Finished polls waiting for the writer task, each with what its poll awaits.
        self.unstored: list[tuple[Finished, asyncio.Future[BaseException | None]]] = []
        self.writing: asyncio.Task[None] | None = None

    def jobs(self, names: Iterable[str] | None = None) -> list[PollJob]:
        """The enabled devices (optionally only those named), with decrypted credentials."""
        box = get_secret_box(self.app)
        with get_store(self.app).reading() as session:
            query = select(NetworkDevice).where(NetworkDevice.enabled.is_(True))
            if names is not None:
                query = query.where(NetworkDevice.name.in_(list(names)))
            rows = session.scalars(query.order_by(NetworkDevice.id)).all()
            return [self.job_of(row, box) for row in rows]

    @staticmethod
    def job_of(row: NetworkDevice, box: SecretBox) -> PollJob:
        """The job of one device; a secret no key opens spoils this device only."""
        try:
            return PollJob(row.id, row.name, target_of(row, box), row.poll_interval)
        except ConfigError as error:
            return PollJob(row.id, row.name, None, row.poll_interval, str(error))

    async def poll(self, job: PollJob) -> PollResult:
        """Poll one device and store the outcome; never raises for a device's failure."""
        result = await self._poll(job)
        outcome = result.status if result.status == "up" else result.kind or result.status
        POLL_RESULTS.labels(outcome, result.name).inc()
        return result

    async def _poll(self, job: PollJob) -> PollResult:
        if job.target is None:
            return await self.down(job, "error", job.problem)
        async with self.limit:
            try:
                # A poll may not outlast its interval (huge tables on a slow device).
                deadline = min(job.interval, self.deadline)
                collected = await asyncio.wait_for(
                    collect.collect(self.client, job.target), timeout=deadline
                )
            except TimeoutError:
                reason = f"the poll took longer than {deadline:g} s (interval or deadline)"
                return await self.down(job, "timeout", reason)
            except SnmpFailure as failure:
                return await self.down(job, failure.kind, failure.reason)
            except Exception as exc:  # noqa: BLE001 - one broken device must not stop the rest
                log.warning("polling %s failed", job.name, exc_info=True)
                return await self.down(job, "error", f"{type(exc).__name__}: {exc}")
        error = await self.store(Finished(job, collected))
        if error is not None:
            log.error("could not store the poll of %s", job.name, exc_info=error)
            return PollResult(job.device_id, job.name, "unknown", "store", str(error))
        if collected.incomplete:
            reason = collect.incomplete_text(collected.incomplete)
            return PollResult(job.device_id, job.name, "partial", "partial", reason)
        return PollResult(job.device_id, job.name, "up")

    async def down(self, job: PollJob, kind: str, reason: str) -> PollResult:
        """Store a failed poll; its result even when the store fails (logged)."""
        error = await self.store(Finished(job, None, kind, reason))
        if error is not None:
            log.error("could not store the failed poll of %s", job.name, exc_info=error)
        return PollResult(job.device_id, job.name, "down", kind, reason)

    async def store(self, finished: Finished) -> BaseException | None:
        """Queue a finished poll for the writer; None once stored, else the store's error."""
        stored: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()
        self.unstored.append((finished, stored))
        if self.writing is None or self.writing.done():
            self.writing = asyncio.create_task(self.write_unstored(), name="poll-writer")
        return await stored

    async def write_unstored(self) -> None:
        """Store the queued polls, a batch per transaction, until none is left: polls that
        end while one batch is written make the next (no waiting to fill a batch)."""
        while self.unstored:
            batch = self.unstored[:STORE_BATCH]
            del self.unstored[:STORE_BATCH]
            errors = await asyncio.to_thread(self.save_batch, [finished for finished, _ in batch])
            for (_, stored), error in zip(batch, errors, strict=True):
                if not stored.done():
                    stored.set_result(error)

    def save_batch(self, batch: list[Finished]) -> list[BaseException | None]:
        """Store finished polls in one transaction; when that fails, each in its own, so one
        bad device loses no other's poll. Each poll's error, or None (in a worker thread: the
        store is synchronous)."""
        try:
            with get_store(self.app).transaction() as session:
                self.write(session, batch)
            return [None] * len(batch)
        except Exception as exc:  # noqa: BLE001 - told apart poll by poll below
            if len(batch) == 1:
                return [exc]
            log.warning("storing %d polls at once failed; one by one", len(batch), exc_info=True)
        errors: list[BaseException | None] = []
        for finished in batch:
            try:
                with get_store(self.app).transaction() as session:
                    self.write(session, [finished])
                errors.append(None)
            except Exception as exc:  # noqa: BLE001 - this poll's result says so
                errors.append(exc)
        return errors

    def write(self, session: Session, batch: list[Finished]) -> None:
        """Store finished polls in ``session``: states, history, leases let go."""
        device_ids = [finished.job.device_id for finished in batch]
        # One query for every state row; session.get below finds them in the session.
        session.scalars(
            select(NetworkDeviceState).where(NetworkDeviceState.device_id.in_(device_ids))
        ).all()
        for finished in batch:
            if finished.collected is None:
                self.write_down(session, finished.job, finished.kind, finished.reason)
            else:
                self.write_up(session, finished.job, finished.collected)
        if self.name:
            leases.release(session, device_ids, self.name)

    def write_up(self, session: Session, job: PollJob, collected: collect.Collected) -> None:
        """Parse and store a good (or partial) poll."""
        row = session.get(NetworkDeviceState, job.device_id)
        # After an outage the last good counters still give rates (or show a restart).
        previous = row.data if row is not None and row.data else None
        data = collect.build_state(
            collected.system, collected.walked, previous, incomplete=collected.incomplete
        )
        summary = collect.poll_summary(data)
        partial = collect.incomplete_text(collected.incomplete)
        state.record_up(session, job.device_id, data, summary, self.keep, partial, self.name)

    def write_down(self, session: Session, job: PollJob, kind: str, reason: str) -> None:
        """Store a failed poll."""
        state.record_down(session, job.device_id, kind, reason, self.keep, self.name)

    def add_leases(self) -> bool:
        """Leases for devices added since the last look."""
        with get_store(self.app).transaction() as session:
            leases.add_missing_leases(session, leases.database_now(session))
        return True

    def claim(self, limit: int, now: datetime | None = None) -> list[PollJob]:
        """Claim at most ``limit`` due devices for this poller (as of ``now``, default the
        database's clock); their jobs. Routers whose wait for their report ended without one
        are noted on their timelines first (their leases fall due at that moment)."""
        box = get_secret_box(self.app)
        with get_store(self.app).transaction() as session:
            now = now or leases.database_now(session)
            reports.note_silent(session, now)
            claims = leases.claim_due(session, self.name, now, limit, self.deadline)
            return [self.job_of(claim.device, box) for claim in claims]

    def hand_back(self) -> None:
        """Stopping: the polls cut short are due again at once, for another poller."""
        with get_store(self.app).transaction() as session:
            leases.hand_back(session, self.name, leases.database_now(session))

    async def run_once(self, names: Iterable[str] | None = None) -> list[PollResult]:
        """Poll every enabled device (or those named) once, concurrently within the limit."""
        jobs = await asyncio.to_thread(self.jobs, names)
        return list(await asyncio.gather(*(self.poll(job) for job in jobs)))

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Poll the devices this poller claims, each on its interval, until ``stop`` is set."""
        if not self.name:
            self.name = leases.default_poller_name()
        running: set[asyncio.Task[PollResult]] = set()
        half_free = asyncio.Event()

        def finished(task: asyncio.Task[PollResult]) -> None:
            running.discard(task)
            if len(running) <= self.concurrency // 2:
                half_free.set()

        refreshed = -INVENTORY_REFRESH_SECONDS
        while not stop.is_set():
            if time.monotonic() - refreshed >= INVENTORY_REFRESH_SECONDS:
                if await self.store_work(self.add_leases):
                    refreshed = time.monotonic()
            places = self.concurrency - len(running)
            jobs = await self.store_work(self.claim, places, failed=[])
            for job in jobs:
                task = asyncio.create_task(self.poll(job), name=str(job.device_id))
                running.add(task)
                task.add_done_callback(finished)
            half_free.clear()
            if len(running) <= self.concurrency // 2:
                half_free.set()
            # Every place taken: more may be due, so claim again once half the places are
            # free rather than a whole CLAIM_SECONDS later (that capped a poller at
            # NETWORK_POLL_CONCURRENCY polls a second).
            await pause(stop, half_free if len(jobs) == places else None)
        held = bool(running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        if self.writing is not None:
            await self.writing  # polls that ended are stored (and their leases let go)
        if held:
            await self.store_work(self.hand_back)

    async def store_work(
        self, work: Callable[..., Any], *arguments: Any, failed: Any = None
    ) -> Any:
        """``work`` in a thread; ``failed`` (logged) when the store fails: the poller goes on
        and tries again on its next round."""
        try:
            return await asyncio.to_thread(work, *arguments)
        except Exception:  # noqa: BLE001 - a store outage must not stop the poller
            log.error("the store failed (%s); trying again", work.__name__, exc_info=True)
            return failed


async def pause(stop: asyncio.Event, early: asyncio.Event | None) -> None:
    """Wait CLAIM_SECONDS; less once ``stop`` is set, or ``early`` when given."""
    waits = [asyncio.ensure_future(stop.wait())]
    if early is not None:
        waits.append(asyncio.ensure_future(early.wait()))
    try:
        await asyncio.wait(waits, timeout=CLAIM_SECONDS, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()


def run_poll_once(app: Flask, names: Iterable[str] | None = None) -> list[PollResult]:
    """Poll once from synchronous code (the CLI)."""

    async def main() -> list[PollResult]:
        poller = Poller(app)
        try:
            return await poller.run_once(names)
        finally:
            poller.client.close()

    return asyncio.run(main())


async def refresh_senders(receiver: Any, stop: asyncio.Event) -> None:
    """Let devices added to the inventory send traps, without a restart."""
    while receiver is not None and not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), timeout=INVENTORY_REFRESH_SECONDS)
        except TimeoutError:
            await receiver.refresh_in_background()


def start_network(app: Flask, name: str = "") -> tuple[Poller | None, Any]:
    """The poller (NETWORK_POLLER_ENABLED) and the started trap receiver
    (NETWORK_TRAPS_ENABLED), either None when off; call inside the running loop (the pysnmp
    engine and the trap socket belong to it)."""
    from provisioner.network import traps

    poller = Poller(app, name=name) if app.config["NETWORK_POLLER_ENABLED"] else None
    receiver = traps.TrapReceiver(app) if app.config["NETWORK_TRAPS_ENABLED"] else None
    if receiver is not None:
        receiver.start()
    return poller, receiver


async def run_network(poller: Poller | None, receiver: Any, stop: asyncio.Event) -> None:
    """Poll and receive traps until ``stop`` is set; then close both."""
    refreshing = asyncio.create_task(refresh_senders(receiver, stop))
    try:
        if poller is not None:
            await poller.run_forever(stop)
        else:
            await stop.wait()
    finally:
        refreshing.cancel()
        if receiver is not None:
            receiver.close()
        if poller is not None:
            poller.client.close()


def start_background(app: Flask) -> Callable[[], None]:
    """Run the poller (and the trap receiver when enabled) in a thread; returns its stopper."""
    loop = asyncio.new_event_loop()
    stop_holder: list[asyncio.Event] = []
    failures: list[BaseException] = []
    ready = threading.Event()

    async def main() -> None:
        stop = asyncio.Event()
        stop_holder.append(stop)
        try:
            poller, receiver = start_network(app, app.config["NETWORK_POLLER_NAME"] or "")
        except Exception as exc:  # noqa: BLE001 - handed to the starting thread below
            failures.append(exc)
            return
        finally:
            ready.set()
        await run_network(poller, receiver, stop)

    thread = threading.Thread(
        target=loop.run_until_complete, args=(main(),), name="network-poller", daemon=True
    )
    thread.start()
    ready.wait(timeout=30)
    if failures:
        thread.join(timeout=30)
        loop.close()
        raise failures[0]

    def stopper() -> None:
        if stop_holder:
            loop.call_soon_threadsafe(stop_holder[0].set)
        thread.join(timeout=30)
        if not thread.is_alive():
            loop.close()

    return stopper
