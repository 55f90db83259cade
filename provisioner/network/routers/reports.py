"""Routers reporting how applying their configuration went, and polling that waits for it.

The configuration a router fetches ends by calling its done URL, ``POST
/z/<serial>/<secret>/done`` with ``outcome=ok`` or ``outcome=failed&reason=...`` (form-encoded).
Between the fetch and that call the router is applying it (restarting its network, perhaps),
so it is not polled: the fetch puts its poll lease off by ZEROTOUCH_DONE_GRACE_SECONDS and the
report makes it due at once. A router that never reports (Cisco IOS cannot) is polled when the
grace period ends, and the poller that notices writes on its timeline that it never reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner.errors import FieldProblem, ValidationFailed
from provisioner.network import leases
from provisioner.network.routers import refusals
from provisioner.security import audit
from provisioner.store import models

REPORT_FILE = "done"  # the last part of the done URL, and the timeline's "file" of a report
OUTCOMES = ("ok", "failed")
REASON_LENGTH = 200
BODY_LIMIT = 1024  # a report is a few dozen bytes; more is not read
NEVER_REPORTED = "never reported"
INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Report:
    """What a router said about applying its configuration."""

    outcome: str
    reason: str = ""


def _fields(body: bytes) -> dict[str, str]:
    if len(body) > BODY_LIMIT:
        raise ValidationFailed([FieldProblem("body", f"longer than {BODY_LIMIT} bytes")])
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, max_num_fields=4)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed(
            [FieldProblem("body", "not form data (outcome=ok, or outcome=failed&reason=...)")]
        ) from exc
    fields: dict[str, str] = {}
    for name, value in pairs:
        if name in fields:
            raise ValidationFailed([FieldProblem(shown(name), "given twice")])
        fields[name] = value
    return fields


def shown(name: str) -> str:
    """A field name from the body as an error names it: sanitised, at most 40 characters."""
    return sanitised(name)[:40]


def sanitised(reason: str) -> str:
    """``reason`` on one line: whitespace runs made one space, other control characters
    dropped."""
    words = "".join(c if c.isprintable() or c.isspace() else "" for c in reason).split()
    return " ".join(words)


def parse_report(body: bytes) -> Report:
    """A report from its form-encoded body; ValidationFailed names the field and why."""
    fields = _fields(body)
    problems = [
        FieldProblem(shown(name), "unknown field; send outcome and reason")
        for name in fields
        if name not in ("outcome", "reason")
    ]
    outcome = fields.get("outcome")
    if outcome not in OUTCOMES:
        problems.append(FieldProblem("outcome", "required: ok or failed"))
    reason = sanitised(fields.get("reason", ""))
    if len(reason) > REASON_LENGTH:
        problems.append(FieldProblem("reason", f"at most {REASON_LENGTH} characters"))
    if problems:
        raise ValidationFailed(problems)
    assert outcome is not None
    return Report(outcome, reason)


def await_report(session: Session, row: models.Router, device_id: int, grace: timedelta) -> None:
    """The router fetched its configuration: poll it once it reports, at the latest after
    ``grace`` (none: at once)."""
    now = leases.database_now(session)
    row.report_due_at = now + grace if grace > timedelta(0) else None
    row.report_outcome = row.report_reason = row.reported_at = None  # a new configuration
    leases.set_due(session, device_id, now + grace)


def record_report(
    session: Session, row: models.Router, report: Report, source: str, tenant: str
) -> None:
    """Put the report on the router's timeline and in the audit log; poll the router now."""
    refusals.record(
        session, row, (source, "http", REPORT_FILE), report.outcome, None, report.reason
    )
    audit.record(
        session, f"zerotouch:{row.serial}", "report", "routers", row.name, tenant,
        {"outcome": report.outcome, "reason": report.reason},
    )  # fmt: skip
    row.report_due_at = None
    row.report_outcome, row.report_reason = report.outcome, report.reason
    row.reported_at = leases.database_now(session)
    device = _device_of(session, row)
    if device is not None:
        leases.set_due(session, device.id, leases.database_now(session))


def record_invalid(session: Session, row: models.Router, source: str, problem: str) -> None:
    """A report the router's own secret proved but that could not be read: on its timeline,
    so a broken template shows; the router keeps waiting."""
    refusals.record(session, row, (source, "http", REPORT_FILE), INVALID, None, problem)


def note_silent(session: Session, now: datetime) -> list[str]:
    """Routers whose grace period ended without a report: on their timelines as never
    reported (their polling starts now, as their leases say); their names. Two pollers
    doing this at once note each router once (``SKIP LOCKED`` on PostgreSQL)."""
    rows = session.scalars(
        select(models.Router)
        .where(models.Router.report_due_at.is_not(None), models.Router.report_due_at <= now)
        .with_for_update(skip_locked=True)
    ).all()
    for row in rows:
        if row.vendor == "cisco_ios":
            detail = "Cisco IOS does not report; polled from the end of the grace period"
        else:
            detail = "no report by the end of the grace period; polled from then"
        refusals.record(
            session, row, ("", "", REPORT_FILE), NEVER_REPORTED, row.report_due_at, detail
        )
        row.report_outcome, row.report_reason = NEVER_REPORTED, detail
        row.reported_at, row.report_due_at = row.report_due_at, None
    return [row.name for row in rows]


def _device_of(session: Session, row: models.Router) -> models.NetworkDevice | None:
    """The inventory entry the router's fetch enrolled (same tenant and name)."""
    return session.scalar(
        select(models.NetworkDevice).where(
            models.NetworkDevice.tenant_id == row.tenant_id,
            models.NetworkDevice.name == row.name,
        )
    )


def configuration_state(session: Session, device: models.NetworkDevice) -> dict[str, Any] | None:
    """For a router in the inventory that fetched by zero-touch: still applying (not polled
    yet), or its last report (ok, failed with the reason, never reported); None otherwise."""
    row = session.scalar(
        select(models.Router).where(
            models.Router.tenant_id == device.tenant_id, models.Router.name == device.name
        )
    )
    if row is None:
        return None
    if row.report_due_at is not None:
        return {"state": "applying", "polled_from": _iso(row.report_due_at)}
    if row.report_outcome is None or row.reported_at is None:
        return None
    return {"state": row.report_outcome, "at": _iso(row.reported_at), "reason": row.report_reason}


def _iso(moment: datetime) -> str:
    return moment.isoformat() if moment.tzinfo else moment.isoformat() + "+00:00"
