"""The audit log: every change and every released secret, with who and when."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from provisioner.store.models import AuditEvent, utc_now

REDACTED = "<secret>"
# Where `collecting` keeps the events a piece of work records (in the session's info).
COLLECTOR = "provisioner.audit.collected"


RELEASE_SECRET = "release-secret"
# A phone given its key for encrypted files (over a trusted channel); the key is not logged.
RELEASE_FILE_KEY = "release-file-key"
# Flushes of rows queued in this process (the phones' batched writer), run before a read.
_flushes: list[weakref.WeakMethod[Callable[[], object]]] = []


def flush_before_reading(flush: Callable[[], object]) -> None:
    """Run ``flush`` (a bound method, for as long as its object lives) before audit reads."""
    _flushes[:] = [method for method in _flushes if method() is not None]
    _flushes.append(weakref.WeakMethod(flush))


def _flush_queued() -> None:
    for method in list(_flushes):
        flush = method()
        if flush is not None:
            flush()


def event_fields(
    actor: str,
    action: str,
    object_type: str,
    object_key: str = "",
    tenant: str | None = None,
    changes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One audit event's columns, counted in the metrics when it releases a secret; the
    caller adds the row (``record``) or queues it."""
    if action == RELEASE_SECRET:
        from provisioner.metrics import TALLY, secrets_released  # not for FreeSWITCH's handler

        TALLY.count(secrets_released(actor.partition(":")[0] if ":" in actor else "api"))
    return {
        "at": utc_now(),
        "actor": actor,
        "action": action,
        "tenant": tenant,
        "object_type": object_type,
        "object_key": object_key,
        "changes": changes or {},
    }


def record(
    session: Session,
    actor: str,
    action: str,
    object_type: str,
    object_key: str = "",
    tenant: str | None = None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Add one audit event in the caller's transaction (it lands only if the change does)."""
    event = AuditEvent(**event_fields(actor, action, object_type, object_key, tenant, changes))
    session.add(event)
    collected = session.info.get(COLLECTOR)
    if collected is not None:
        collected.append(event)


@contextmanager
def collecting(session: Session) -> Iterator[list[AuditEvent]]:
    """The events recorded in ``session`` inside this block: what a change did, item by item
    (an import's summary is read from them, so it cannot differ from the audit log)."""
    previous = session.info.get(COLLECTOR)
    events: list[AuditEvent] = []
    session.info[COLLECTOR] = events
    try:
        yield events
    finally:
        if previous is None:
            session.info.pop(COLLECTOR, None)
        else:
            session.info[COLLECTOR] = previous
            previous.extend(events)


def recent(
    session: Session,
    tenant: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
    tenants: Collection[str] | None = None,
) -> list[AuditEvent]:
    """The newest events first, optionally for one tenant or after a moment, and only of
    ``tenants`` when given (rows queued in this process are written first)."""
    _flush_queued()
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if tenant:
        query = query.where(AuditEvent.tenant == tenant)
    if tenants is not None:
        query = query.where(AuditEvent.tenant.in_(sorted(tenants)))
    if since:
        query = query.where(AuditEvent.at >= since)
    return list(session.scalars(query))


def as_json(event: AuditEvent) -> dict[str, Any]:
    """An event as the API shows it."""
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "action": event.action,
        "tenant": event.tenant,
        "object_type": event.object_type,
        "object_key": event.object_key,
        "changes": event.changes,
    }


def diff(before: dict[str, Any], after: dict[str, Any], secrets: tuple[str, ...]) -> dict[str, Any]:
    """Field by field ``[old, new]`` for what changed; secrets shown only as changed."""
    changes: dict[str, Any] = {}
    for field in sorted(set(before) | set(after)):
        old, new = before.get(field), after.get(field)
        if old != new:
            changes[field] = [REDACTED, REDACTED] if field in secrets else [old, new]
    return changes


def redact(item: dict[str, Any], secrets: tuple[str, ...]) -> dict[str, Any]:
    """``item`` with its secret fields hidden."""
    return {field: REDACTED if field in secrets else value for field, value in item.items()}


def prune(session: Session, keep_days: int) -> int:
    """Delete events older than ``keep_days``; return how many went."""
    cutoff = utc_now() - timedelta(days=keep_days)
    result = session.execute(delete(AuditEvent).where(AuditEvent.at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
