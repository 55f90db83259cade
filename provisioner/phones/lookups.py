"""What the store holds for a MAC, kept per process while the store says nothing changed.

A booting phone asks for two or three files, and a fleet asks again at every resync; each
answer starts from the same row (``authorize.look_up``). On PostgreSQL every change of the
tables that row comes from (tenants, phones, device credentials) sends a notice on a channel
when it commits (a statement trigger, migration 0009), and each process follows that channel
from a thread of its own: a notice forgets everything kept. Changes this process commits are
forgotten at once as well (``forget_after_commit``), so its next request sees them.

When the watch starts, the rows of every paired phone are read in one query (up to ``KEPT``),
so a boot storm after a restart finds them kept already; unknown MACs are kept as they ask.
Kept only while the channel is followed (never on SQLite, which has none), only rows whose
first-use window is closed (a row with an open window may be written by the request: those
always come from the store), and only rows read after the last notice: a read that raced a
change is not kept. Another process sees a change when its notice arrives, a few
milliseconds after the commit. An unknown MAC is kept like a known one, so both cost the same.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

log = logging.getLogger(__name__)
CHANNEL = "provisioner_phone_changes"
WATCHED_TABLES = frozenset({"tenants", "phones", "device_credentials"})
KEPT = 50_000  # MACs per process (a few KB each)
RETRY_SECONDS = 1.0
CHANGED = "provisioner.phone_tables_changed"  # in a session's info

Kept = TypeVar("Kept")
_caches: weakref.WeakSet[LookupCache[Any]] = weakref.WeakSet()


class LookupCache(Generic[Kept]):
    """MAC -> what the store held, valid while ``live``; see the module's docstring."""

    def __init__(
        self,
        engine: Engine,
        preload: Callable[[Session], Iterable[tuple[Hashable, Kept]]] | None = None,
        kept: int = KEPT,
    ) -> None:
        forget_after_commit()
        self._engine = engine
        self._preload = preload
        self._kept = kept
        self._entries: dict[Hashable, Kept] = {}
        self._generation = 0
        self._live = False
        self._owner_pid = 0
        self._lock = threading.Lock()
        _caches.add(self)

    @property
    def live(self) -> bool:
        """True while this process follows the channel (entries are kept and used)."""
        return self._live and self._owner_pid == os.getpid()

    def get(self, key: Hashable) -> Kept | None:
        """The entry kept for ``key``; starts following the channel on first use."""
        if self._owner_pid != os.getpid():
            self._start()
        return self._entries.get(key) if self._live else None

    def generation(self) -> int:
        """Take before reading the store; ``put`` keeps the read only if nothing changed."""
        return self._generation

    def put(self, key: Hashable, value: Kept, generation: int) -> None:
        """Keep ``value`` for ``key`` if no change was announced since ``generation``."""
        with self._lock:
            if not self._live or generation != self._generation:
                return
            while len(self._entries) >= self._kept:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = value

    def forget(self) -> None:
        """Drop every entry; reads begun before now will not be kept."""
        with self._lock:
            self._generation += 1
            self._entries = {}

    def _start(self) -> None:
        with self._lock:
            if self._owner_pid == os.getpid():
                return
            self._owner_pid = os.getpid()
            self._live = False
            self._entries = {}
        if self._engine.dialect.name != "postgresql":
            return
        threading.Thread(target=self._follow, name="phone-change-notices", daemon=True).start()

    def _follow(self) -> None:
        """LISTEN on a connection of our own; after any failure, stop keeping and retry."""
        owner = os.getpid()
        while owner == os.getpid():
            try:
                pooled = self._engine.raw_connection()
                connection: Any = pooled.driver_connection
                pooled.detach()  # ours for good: it waits on the channel
                connection.autocommit = True
                connection.execute(f"LISTEN {CHANNEL}")
                self._become_live()
                self._load_all()
                for _notice in connection.notifies():
                    self.forget()
            except Exception as error:  # noqa: BLE001 - any failure: stop keeping, try again
                log.warning("phone lookups read from the store: change notices failed (%s)", error)
            with self._lock:
                self._live = False
                self._generation += 1
                self._entries = {}
            time.sleep(RETRY_SECONDS)

    def _load_all(self) -> None:
        """Keep what ``preload`` reads (unless a change was announced meanwhile)."""
        if self._preload is None:
            return
        generation = self.generation()
        with Session(self._engine) as session:
            for count, (key, value) in enumerate(self._preload(session)):
                if count >= self._kept:
                    break
                self.put(key, value, generation)

    def _become_live(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries = {}
            self._live = True


def forget_everywhere() -> None:
    """Drop the entries of every cache in this process (a change committed here)."""
    for cache in list(_caches):
        cache.forget()


def is_cacheable_window(window_until: datetime | None, now: datetime) -> bool:
    """True when a row's first-use window is closed (or never opened)."""
    return window_until is None or window_until <= now


def _note_flush(session: Session, _flush: UOWTransaction) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(getattr(item, "__tablename__", None) in WATCHED_TABLES for item in changed):
        session.info[CHANGED] = True


def _note_statement(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in WATCHED_TABLES:
        state.session.info[CHANGED] = True


def _forget_after_commit(session: Session) -> None:
    if session.info.pop(CHANGED, False):
        forget_everywhere()


def forget_after_commit() -> None:
    """Make every session forget this process's entries when it commits a change of a
    watched table (ORM objects, or INSERT, UPDATE and DELETE statements)."""
    listeners: tuple[tuple[str, Callable[..., None]], ...] = (
        ("after_flush", _note_flush),
        ("do_orm_execute", _note_statement),
        ("after_commit", _forget_after_commit),
    )
    for name, listener in listeners:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
