"""Refused router fetches, put on the router's timeline off the request path.

A refusal (a wrong secret, a file the vendor does not fetch, a throttled address) names a
serial: written while the router waits, a real serial's answer would take a write longer than
a made-up one's, and timing alone would tell real serials apart. So the request only queues
the refusal; a thread of this process writes the queue in batches (FLUSH_SECONDS), and whoever
reads a timeline writes what is queued first (``flush``), so a page shows the refusal that
just happened.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from provisioner.process import process_id
from provisioner.store import get_store, models
from provisioner.store.models import utc_now

if TYPE_CHECKING:
    from provisioner.app_core import AppCore

log = logging.getLogger(__name__)
EXTENSION_KEY = "provisioner.router_refusals"
TIMELINE_LENGTH = 100
NEWEST_FIRST = (models.RouterEvent.at.desc(), models.RouterEvent.id.desc())
QUEUE_BOUND = 10_000  # refusals waiting per process; beyond it the oldest are dropped
# Refusals are written this long after the first of a batch: a write right after each one
# would fall on the requests that follow a real serial's, and tell it apart again.
FLUSH_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class Refusal:
    """One refused fetch of a router (by serial: the request did not read the row)."""

    serial: str
    source: str
    protocol: str
    file: str
    answer: str
    at: datetime = field(default_factory=utc_now)  # when refused, not when written


class RefusalWriter:
    """This process's queue of refusals and the thread that writes it."""

    def __init__(self, app: AppCore) -> None:
        self._app = app
        self._queue: list[Refusal] = []
        self._lock = threading.Lock()
        self._writing = threading.Lock()
        self._wake = threading.Event()
        self._owner_pid = 0

    def add(self, refusal: Refusal) -> None:
        """Queue ``refusal``; the thread writes it."""
        if self._owner_pid != process_id():
            self._start()
        with self._lock:
            if len(self._queue) >= QUEUE_BOUND:
                self._queue.pop(0)
            self._queue.append(refusal)
        self._wake.set()

    def flush(self) -> None:
        """Write every queued refusal now."""
        with self._writing:
            with self._lock:
                batch, self._queue = self._queue, []
            if batch:
                with get_store(self._app).transaction() as session:
                    write_refusals(session, batch)

    def _start(self) -> None:
        with self._lock:
            if self._owner_pid == process_id():
                return
            self._owner_pid = process_id()
            self._queue = []
        threading.Thread(target=self._run, name="router-refusals", daemon=True).start()

    def _run(self) -> None:
        owner = process_id()
        while owner == process_id():
            self._wake.wait()
            time.sleep(FLUSH_SECONDS)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the thread must live on; the batch is lost
                log.exception("router refusals could not be written")


def write_refusals(session: Session, refusals: list[Refusal]) -> None:
    """Put each refusal on its router's timeline (a serial no router has: nothing)."""
    for refusal in refusals:
        row = session.scalar(select(models.Router).where(models.Router.serial == refusal.serial))
        if row is not None:
            what = (refusal.source, refusal.protocol, refusal.file)
            record(session, row, what, refusal.answer, refusal.at)


def record(
    session: Session,
    row: models.Router,
    what: tuple[str, str, str],
    answer: str,
    at: datetime | None = None,
    detail: str = "",
) -> None:
    """Add one event (source, protocol, file) to the router's timeline, keeping the newest
    TIMELINE_LENGTH (the timeline is in the order of ``at``: refusals are written late)."""
    source, protocol, file = what
    session.add(
        models.RouterEvent(
            router_id=row.id,
            at=at or utc_now(),
            source=source[:64],
            protocol=protocol,
            mechanism=file[:32],
            answer=answer,
            detail=detail[:200],
        )
    )
    session.flush()
    stale = (
        select(models.RouterEvent.id)
        .where(models.RouterEvent.router_id == row.id)
        .order_by(*NEWEST_FIRST)
        .offset(TIMELINE_LENGTH)
    )
    old = list(session.scalars(stale))
    if old:
        session.execute(delete(models.RouterEvent).where(models.RouterEvent.id.in_(old)))


def refusal_writer(app: AppCore) -> RefusalWriter:
    """The app's writer of refusals (made on first use)."""
    writer: RefusalWriter | None = app.extensions.get(EXTENSION_KEY)
    if writer is None:
        writer = app.extensions.setdefault(EXTENSION_KEY, RefusalWriter(app))
    return writer


def queue_refusal(app: AppCore, refusal: Refusal) -> None:
    """Put ``refusal`` on its router's timeline, off the request path."""
    refusal_writer(app).add(refusal)


def flush_refusals(app: AppCore) -> None:
    """Write the refusals queued in this process (before reading a timeline)."""
    writer: RefusalWriter | None = app.extensions.get(EXTENSION_KEY)
    if writer is not None:
        writer.flush()
