"""Timeline events, and the audit rows of secrets phones fetched, written in batches, off
the request path.

A boot storm makes an event per request, and an audit row per full file; writing each in
the request's own transaction costs more than answering. Requests hand their events to the
process's ``TimelineWriter``; a background thread writes what has gathered every
``PHONE_TIMELINE_FLUSH_SECONDS`` (or sooner, at ``BATCH`` events) in one transaction, and
trims a device to its newest ``PHONE_TIMELINE_LENGTH`` once it has gathered a tenth of that
since its last trim (readers show the newest ``PHONE_TIMELINE_LENGTH``). A Digest challenge
whose next event in the batch (same device, file, address and path) got the file is folded
into it: a Digest fetch leaves one row, as any other fetch does. Nothing is lost on a clean
shutdown: the writer is flushed at
interpreter exit, and at the exit of a ``multiprocessing`` child (granian's workers are such
children, which end without running ``atexit``), and readers of the timeline in this
process flush first, so what a request just did is visible to the next one here. A failed
write is retried with the next batch. Setting the interval to 0 writes each event in the
request's transaction, as before. Audit rows go the same way, in the same transaction as the
events; ``provisioner.security.audit`` flushes this process's writers before it reads.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from multiprocessing import util as multiprocessing_util
from typing import Any

from flask import Flask, request
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from provisioner.pairing import TIMELINE_WRITER_KEY, flush_timeline
from provisioner.pairing.timeline import DISCOVERED_HOURS, KIND_OF_ANSWER
from provisioner.phones.model import Answer, EventKind, RequestInfo
from provisioner.process import process_id
from provisioner.security import audit
from provisioner.store import Store, get_store
from provisioner.store.bulk import among, insert_rows
from provisioner.store.models import AuditEvent, DeviceEvent, Phone, utc_now

log = logging.getLogger(__name__)
BATCH = 500
# Beyond this many events waiting (the database down for long), the oldest are dropped.
MOST_PENDING = 100_000
IDLE_ROUNDS = 20  # intervals without an event before the thread ends
MOST_COUNTED = 200_000  # devices whose events since their last trim a writer counts


def trim_every(limit: int) -> int:
    """How many events a device gathers in one process between two trims to its newest
    ``limit``: a tenth of the limit (at least one), so a device holds at most that many more
    per serving process until its next trim; readers show the newest ``limit``."""
    return max(limit // 10, 1)


@dataclass(slots=True)  # not frozen: made on each phone request (see PER_REQUEST)
class PendingEvent:
    """One request for the timeline; ``tenant_id`` None with ``look_up`` set means the MAC's
    tenant is found when written (a common file named after a MAC)."""

    tenant_id: int | None
    mac: str
    request: RequestInfo
    file: str
    answer: Answer
    at: datetime
    look_up: bool = False
    kind: EventKind | None = None  # what happened, when the answer alone does not say
    known_only: bool = False  # with look_up: dropped when no tenant has the MAC


class TimelineWriter:
    """Gathers events and writes them in batches from one background thread per process."""

    def __init__(self, store: Store, limit: int, interval: float) -> None:
        self._store = store
        self._limit = limit
        self._interval = interval
        self._pending: list[PendingEvent] = []
        self._pending_audit: list[dict[str, Any]] = []  # the audit rows' columns
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._owner = 0  # the process the thread runs in (a server may fork after import)
        # Events written per device since its last trim: a device is trimmed once it has
        # gathered ``trim_every(limit)`` of them, so most batches delete nothing.
        self._since_trim: dict[str, int] = {}
        self._registered = 0  # the process whose exit flushes this writer

    def add(self, event: PendingEvent) -> None:
        """Queue one event; the background thread writes it soon."""
        with self._lock:
            self._pending.append(event)
            if len(self._pending) > MOST_PENDING:
                del self._pending[: len(self._pending) - MOST_PENDING]
            full = len(self._pending) >= BATCH
        self._ensure_thread()
        if full:
            self._wake.set()

    def add_audit(self, event: dict[str, Any]) -> None:
        """Queue one audit row's columns; written with the next batch (never dropped)."""
        with self._lock:
            self._pending_audit.append(event)
        self._ensure_thread()

    def flush(self) -> int:
        """Write every queued event now; the number written (0 when the write failed)."""
        return self._write_pending()[1]

    def close(self) -> None:
        """Stop the thread and write what is left (at exit, or when the app is disposed)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and self._owner == process_id():
            self._wake.set()
            thread.join(timeout=10)
        self.flush()

    def _write_pending(self) -> tuple[bool, int]:
        with self._writing:
            with self._lock:
                events, self._pending = self._pending, []
                audits, self._pending_audit = self._pending_audit, []
            if not events and not audits:
                return True, 0
            try:
                with self._store.transaction() as session:
                    write_events(session, events, self._limit, self._due_for_trim(events))
                    if audits:
                        insert_rows(session, AuditEvent, audits)
            except Exception:
                return self._write_apart(events, audits)
            return True, len(events) + len(audits)

    def _due_for_trim(self, events: list[PendingEvent]) -> set[str]:
        """The devices of ``events`` that have gathered ``trim_every(limit)`` events here
        since their last trim (counted from now on as trimmed)."""
        every = trim_every(self._limit)
        if len(self._since_trim) > MOST_COUNTED:
            self._since_trim.clear()  # bounded: the devices forgotten here just trim later
        due = set()
        for event in events:
            written = self._since_trim.get(event.mac, 0) + 1
            if written >= every:
                due.add(event.mac)
                written = 0
            self._since_trim[event.mac] = written
        return due

    def _write_apart(
        self, events: list[PendingEvent], audits: list[dict[str, Any]]
    ) -> tuple[bool, int]:
        """After a failed batch: the audit rows alone (kept for later if even they fail: the
        database is away), then each event alone, dropping one that cannot be written (its
        tenant deleted meanwhile), so one bad row never holds the rest back."""
        try:
            if audits:
                with self._store.transaction() as session:
                    insert_rows(session, AuditEvent, audits)
        except Exception:
            log.exception(
                "timeline: %d events and %d audit rows not written yet, kept for later",
                len(events),
                len(audits),
            )
            with self._lock:
                self._pending[:0] = events
                self._pending_audit[:0] = audits
            return False, 0
        written = len(audits)
        for event in events:
            try:
                with self._store.transaction() as session:
                    write_events(session, [event], self._limit)
                written += 1
            except Exception:
                log.exception("timeline: an event of %s cannot be written, dropped", event.mac)
        return True, written

    def _ensure_thread(self) -> None:
        pid = process_id()
        if self._thread is not None and self._owner == pid:
            return
        with self._lock:
            if self._thread is not None and self._owner == pid:
                return
            self._owner = pid
            self._thread = threading.Thread(target=self._run, name="timeline-writer", daemon=True)
            self._thread.start()
            register = self._registered != pid
            self._registered = pid
        if register:
            # Run by atexit in a plain process, and by a multiprocessing child as it ends.
            multiprocessing_util.Finalize(None, self.close, exitpriority=10)

    def _run(self) -> None:
        """Write every interval; end after a failed write or a while with nothing to write
        (the next event starts a new thread), so a process keeps no idle thread around."""
        idle = 0
        while self._thread is threading.current_thread():
            self._wake.wait(self._interval)
            self._wake.clear()
            ok, written = self._write_pending()
            idle = 0 if written else idle + 1
            if ok and idle < IDLE_ROUNDS:
                continue
            with self._lock:
                if ok and (self._pending or self._pending_audit):
                    idle = 0
                    continue
                if self._thread is threading.current_thread():
                    self._thread = None
                return


def write_events(
    session: Session, events: list[PendingEvent], limit: int, trim: set[str] | None = None
) -> None:
    """Insert ``events`` (a challenge answered with the file folded into it), then keep the
    newest ``limit`` events of each device in ``trim`` (by default, each of theirs)."""
    events = fold_answered_challenges(events)
    if not events:
        return
    look_up = {event.mac for event in events if event.look_up}
    tenants: dict[str, int] = {}
    if look_up:
        rows = session.execute(
            select(Phone.mac, Phone.tenant_id).where(among(session, Phone.mac, look_up))
        )
        tenants = {mac: tenant_id for mac, tenant_id in rows}
    events = [event for event in events if not (event.known_only and event.mac not in tenants)]
    if not events:
        return
    # Rows, not ORM objects, at once (COPY on PostgreSQL): the writer must not hold the GIL
    # for long.
    insert_rows(
        session,
        DeviceEvent,
        [
            {
                "tenant_id": tenants.get(event.mac) if event.look_up else event.tenant_id,
                "mac": event.mac,
                "at": event.at,
                "source": event.request.source[:64],
                "protocol": event.request.protocol,
                "file": event.file[:255],
                "user_agent": event.request.user_agent[:255],
                "answer": event.answer.value,
                "kind": (event.kind or KIND_OF_ANSWER.get(event.answer, EventKind.FAILED)).value,
                "route": event.request.route[:8],
            }
            for event in events
        ],
    )
    trimmed = {event.mac for event in events} if trim is None else trim
    if trimmed:
        newest_first = func.row_number().over(
            partition_by=DeviceEvent.mac, order_by=DeviceEvent.id.desc()
        )
        ranked = (
            select(DeviceEvent.id, newest_first.label("rank"))
            .where(among(session, DeviceEvent.mac, trimmed))
            .subquery()
        )
        session.execute(
            delete(DeviceEvent).where(
                DeviceEvent.id.in_(select(ranked.c.id).where(ranked.c.rank > limit))
            )
        )
    if any(event.tenant_id is None for event in events):
        expired = utc_now() - timedelta(hours=DISCOVERED_HOURS)
        session.execute(
            delete(DeviceEvent).where(DeviceEvent.tenant_id.is_(None), DeviceEvent.at < expired)
        )


def fold_answered_challenges(events: list[PendingEvent]) -> list[PendingEvent]:
    """``events`` without each Digest challenge whose next event in the batch (same device,
    file, address and path) got the file: a Digest fetch is a challenge and its answer, and
    the file's row tells it whole. A challenge that was not answered, or answered wrongly,
    stays."""
    next_answer: dict[tuple[str, str, str, str], Answer] = {}
    kept: list[PendingEvent] = []
    for event in reversed(events):
        key = (event.mac, event.file, event.request.source, event.request.route)
        folded = event.kind is EventKind.CHALLENGE and next_answer.get(key) is Answer.FULL
        next_answer[key] = event.answer
        if not folded:
            kept.append(event)
    kept.reverse()
    return kept


def get_timeline_writer(app: Flask) -> TimelineWriter:
    """The app's writer, made on first use (audit readers in this process flush it)."""
    writer: TimelineWriter | None = app.extensions.get(TIMELINE_WRITER_KEY)
    if writer is None:
        writer = app.extensions.setdefault(
            TIMELINE_WRITER_KEY,
            TimelineWriter(
                get_store(app),
                int(app.config["PHONE_TIMELINE_LENGTH"]),
                float(app.config["PHONE_TIMELINE_FLUSH_SECONDS"]),
            ),
        )
        audit.flush_before_reading(writer.flush)
    return writer


def queue_event(app: Flask, session: Session | None, event: PendingEvent) -> None:
    """Record ``event``: queued for the writer, or in ``session`` when batching is off."""
    if float(app.config["PHONE_TIMELINE_FLUSH_SECONDS"]) > 0:
        get_timeline_writer(app).add(event)
        return
    if session is not None:
        write_events(session, [event], int(app.config["PHONE_TIMELINE_LENGTH"]))
        return
    with get_store(app).transaction() as own:
        write_events(own, [event], int(app.config["PHONE_TIMELINE_LENGTH"]))


def queue_audit(app: Flask, session: Session, event: dict[str, Any]) -> None:
    """Record the audit row with the columns ``event``: queued for the writer (written within
    the flush interval, before any audit read in this process, and at exit), or in
    ``session`` when batching is off."""
    if float(app.config["PHONE_TIMELINE_FLUSH_SECONDS"]) > 0:
        get_timeline_writer(app).add_audit(event)
    else:
        session.add(AuditEvent(**event))


# Requests of these only add events and audit rows (phones, their firmware, FreeSWITCH's
# lookups) or read neither; every other request may read the timeline or the audit log.
WRITING_BLUEPRINTS = frozenset({"phones", "firmware_files", "freeswitch", "health", "metrics"})


def init_app(app: Flask) -> None:
    """Before any request that may read the timeline (API, technicians' pages), write this
    process's queued events, so a page shows the boot that just happened."""

    def flush_before_reading() -> None:
        if request.blueprint not in WRITING_BLUEPRINTS:
            flush_timeline(app)

    app.before_request(flush_before_reading)
