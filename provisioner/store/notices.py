"""Rows kept per process while PostgreSQL says nothing changed (the phones' lookups by MAC,
FreeSWITCH's tenants by SIP domain).

A booting phone asks for two or three files, and a fleet asks again at every resync; each
answer starts from the same row (``authorize.look_up``). On PostgreSQL every change of the
rows it comes from (tenants, phones, device credentials) sends a notice naming the tenant
when it commits (row triggers, migration 0009), and each process follows that channel from a
thread of its own: a notice forgets what was kept for that tenant, and for MACs no tenant
has (a new pairing may be one of them). Changes this process commits are forgotten at once
as well (``forget_after_commit``), so its next request sees them.

When the watch starts, the rows of every paired phone are read in one query (up to
``KEPT``), and a tenant's again once its notices have stopped for ``RELOAD_AFTER_SECONDS``,
so a boot storm finds them kept; unknown MACs are kept as they ask. Kept only while the
channel is followed (never on SQLite, which has none), only rows whose first-use window is
closed (a row with an open window may be written by the request: those always come from the
store), and only rows read after the last notice of their tenant: a read that raced a change
of its tenant (or, for a MAC no tenant has, of any tenant) is not kept, and a reload that
raced a change keeps every other tenant's rows and reads the changed one again.
Another process sees a change when its notice arrives, a few milliseconds after the commit.
An unknown MAC costs what a known one does: once every tenant's rows have been read (and no
tenant has been forgotten since), a MAC no row has is known to be ``absent`` without a query,
as a kept one is known without one. Until then, unknown MACs are kept as they ask.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from provisioner.process import process_id

log = logging.getLogger(__name__)
CHANNEL = "provisioner_phone_changes"
WATCHED_TABLES = frozenset({"tenants", "phones", "device_credentials"})
KEPT = 50_000  # MACs per process (a few KB each)
RETRY_SECONDS = 1.0
RELOAD_AFTER_SECONDS = 0.3  # quiet on the channel this long before forgotten rows are read
# The listening connection is tried this often: one a firewall dropped in silence would
# otherwise bring no notice and no error, and stale rows would be kept.
PROBE_SECONDS = 5.0
FULL_RELOAD_SECONDS = 30.0  # at most one reload of every tenant per this many seconds
CHANGED = "provisioner.phone_tenants_changed"  # in a session's info
# An INSERT, UPDATE or DELETE statement naming the one tenant it changes (else: every tenant).
TENANT_OPTION = "provisioner_tenant"
EVERY_TENANT = "*"

Kept = TypeVar("Kept")
Scope = int | None  # the tenant an entry belongs to; None for a MAC no tenant has
# A preload yields every key the store holds, each with its value, or None for one that must
# be read on each request (it is still known to exist: see ``absent``).
Preload = Callable[[Session, int | None], Iterable[tuple[Hashable, Scope, Kept | None]]]
_caches: weakref.WeakSet[LookupCache[Any]] = weakref.WeakSet()


class LookupCache(Generic[Kept]):
    """MAC -> what the store held, valid while ``live``; see the module's docstring."""

    def __init__(
        self, engine: Engine, preload: Preload[Kept] | None = None, kept: int = KEPT
    ) -> None:
        forget_after_commit()
        self._engine = engine
        self._preload = preload
        self._kept = kept
        self._entries: dict[Hashable, tuple[Scope, Kept]] = {}
        # Every forget advances the generation; it is noted per tenant, and for every tenant
        # at once (EVERY_TENANT, or the channel lost), so a read is judged by its own tenant.
        self._generation = 0
        self._all_forgotten_at = 0
        self._tenant_forgotten_at: dict[int, int] = {}
        self._stale: set[int | str] = set()  # tenants to read again; EVERY_TENANT for all
        # Every key the preloads found (kept or not), and whether a full one found them all.
        self._present: set[Hashable] = set()
        self._complete = False
        self._last_full_reload = 0.0
        self._live = False
        self._owner_pid = 0
        self._closed = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        _caches.add(self)

    def close(self) -> None:
        """Stop following the channel and keeping entries (the store is being disposed): the
        thread ends and gives its connections back before the engine goes."""
        self._closed = True
        with self._lock:
            self._live = False
            self._entries = {}
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2 * RELOAD_AFTER_SECONDS + RETRY_SECONDS)

    @property
    def live(self) -> bool:
        """True while this process follows the channel (entries are kept and used)."""
        return self._live and self._owner_pid == process_id()

    @property
    def settled(self) -> bool:
        """True when live and every forgotten tenant has been read again."""
        return self.live and not self._stale

    def get(self, key: Hashable) -> Kept | None:
        """The entry kept for ``key``; starts following the channel on first use."""
        if self._owner_pid != process_id():
            self._start()
        if not self._live:
            return None
        entry = self._entries.get(key)
        return entry[1] if entry is not None else None

    def absent(self, key: Hashable) -> bool:
        """True when the store is known to hold nothing for ``key`` (no query needed): every
        tenant read, none forgotten since, and no preload found ``key``."""
        return self.live and self._complete and not self._stale and key not in self._present

    def generation(self) -> int:
        """Take before reading the store; ``put`` keeps the read only if nothing changed."""
        return self._generation

    def put(self, key: Hashable, scope: Scope, value: Kept, generation: int) -> None:
        """Keep ``value`` for ``key`` if no change of its tenant (of any tenant, for a MAC no
        tenant has) was announced since ``generation``."""
        with self._lock:
            if not self._live or self._forgotten_at(scope) > generation:
                return
            while len(self._entries) >= self._kept:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (scope, value)

    def _forgotten_at(self, scope: Scope | str) -> int:
        """The generation of the last forget that covers ``scope`` (caller holds the lock)."""
        if scope is None:  # a MAC no tenant has: any tenant's change may be its pairing
            return self._generation
        if scope == EVERY_TENANT:
            return self._all_forgotten_at
        return max(self._all_forgotten_at, self._tenant_forgotten_at.get(int(scope), 0))

    def _forget_all(self) -> None:
        """Drop every entry; no read begun before now is kept (caller holds the lock)."""
        self._generation += 1
        self._all_forgotten_at = self._generation
        self._tenant_forgotten_at = {}
        self._entries = {}
        self._present = set()
        self._complete = False

    def forget(self, tenant: int | str = EVERY_TENANT) -> None:
        """Drop the tenant's entries (and those of MACs no tenant has), or every entry;
        reads of them begun before now will not be kept."""
        with self._lock:
            if tenant == EVERY_TENANT:
                self._forget_all()
            else:
                self._generation += 1
                self._tenant_forgotten_at[int(tenant)] = self._generation
                self._entries = {
                    key: entry
                    for key, entry in self._entries.items()
                    if entry[0] is not None and entry[0] != tenant
                }
            self._stale.add(tenant)

    def _start(self) -> None:
        with self._lock:
            if self._owner_pid == process_id() or self._closed:
                return
            self._owner_pid = process_id()
            self._live = False
            self._forget_all()
        if self._engine.dialect.name != "postgresql":
            return
        self._thread = threading.Thread(
            target=self._follow, name="phone-change-notices", daemon=True
        )
        self._thread.start()

    def _follow(self) -> None:
        """LISTEN on a connection of our own; after any failure, stop keeping and retry."""
        owner = process_id()
        while owner == process_id() and not self._closed:
            connection: Any = None
            try:
                pooled = self._engine.raw_connection()
                connection = pooled.driver_connection
                pooled.detach()  # ours for good: it waits on the channel
                connection.autocommit = True
                connection.execute(f"LISTEN {CHANNEL}")
                self._become_live()
                probed = time.monotonic()
                while owner == process_id() and not self._closed:
                    self._take_notices(connection)
                    if time.monotonic() - probed >= PROBE_SECONDS:
                        connection.execute("SELECT 1")  # raises on a dead connection
                        probed = time.monotonic()
            except Exception as error:  # noqa: BLE001 - any failure: stop keeping, try again
                log.warning("phone lookups read from the store: change notices failed (%s)", error)
            finally:
                if connection is not None:
                    connection.close()
            with self._lock:
                self._live = False
                self._forget_all()
            if not self._closed:
                time.sleep(RETRY_SECONDS)

    def _take_notices(self, connection: Any) -> None:
        """Forget what the next notice names; with none for a while, read again."""
        notices = list(connection.notifies(timeout=RELOAD_AFTER_SECONDS, stop_after=1))
        for notice in notices:
            payload = str(notice.payload)
            self.forget(int(payload) if payload.isdigit() else EVERY_TENANT)
        if not notices:
            self._reload_stale()

    def _become_live(self) -> None:
        with self._lock:
            self._forget_all()
            self._stale = {EVERY_TENANT}
            self._last_full_reload = 0.0
            self._live = True
        self._reload_stale()

    def _reload_stale(self) -> None:
        """Read again what notices made us forget: every tenant at most once per
        FULL_RELOAD_SECONDS, a single tenant whenever its notices have stopped."""
        if self._preload is None or not self._stale:
            return
        now = time.monotonic()
        if EVERY_TENANT in self._stale and now - self._last_full_reload < FULL_RELOAD_SECONDS:
            return
        with self._lock:
            stale = set(self._stale)
            generation = self._generation
        tenants: list[int | None] = (
            [None] if EVERY_TENANT in stale else [int(tenant) for tenant in stale]
        )
        if None in tenants:
            self._last_full_reload = now
        present: set[Hashable] = set()
        with Session(self._engine) as session:
            for tenant in tenants:
                for count, (key, scope, value) in enumerate(self._preload(session, tenant)):
                    if count >= self._kept:
                        break
                    present.add(key)
                    if value is not None:
                        self.put(key, scope, value, generation)
        truncated = len(present) >= self._kept
        with self._lock:  # read again: what no change has made stale since
            self._stale -= {tenant for tenant in stale if self._forgotten_at(tenant) <= generation}
            self._present |= present
            if truncated:
                self._complete = False
            elif None in tenants and self._all_forgotten_at <= generation:
                self._complete = True


def forget_everywhere(tenants: Iterable[int | str]) -> None:
    """Drop the tenants' entries in every cache of this process (a change committed here)."""
    for cache in list(_caches):
        for tenant in tenants:
            cache.forget(tenant)


def _tenant_of(item: object) -> int | str:
    table = getattr(item, "__tablename__", None)
    tenant = getattr(item, "id" if table == "tenants" else "tenant_id", None)
    return tenant if isinstance(tenant, int) else EVERY_TENANT


def _note_flush(session: Session, _flush: UOWTransaction) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    tenants = {
        _tenant_of(item)
        for item in changed
        if getattr(item, "__tablename__", None) in WATCHED_TABLES
    }
    if tenants:
        session.info.setdefault(CHANGED, set()).update(tenants)


def _note_statement(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in WATCHED_TABLES:
        tenant = state.execution_options.get(TENANT_OPTION, EVERY_TENANT)
        state.session.info.setdefault(CHANGED, set()).add(tenant)


def _forget_after_commit(session: Session) -> None:
    tenants = session.info.pop(CHANGED, None)
    if tenants:
        forget_everywhere(tenants)


def forget_after_commit() -> None:
    """Make every session forget this process's entries of the tenants it changed when it
    commits (ORM objects; INSERT, UPDATE and DELETE statements forget every tenant unless
    their ``TENANT_OPTION`` names theirs)."""
    listeners: tuple[tuple[str, Callable[..., None]], ...] = (
        ("after_flush", _note_flush),
        ("do_orm_execute", _note_statement),
        ("after_commit", _forget_after_commit),
    )
    for name, listener in listeners:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
