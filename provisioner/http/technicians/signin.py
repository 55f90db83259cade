"""Signing technicians in with an API token, the sessions, and CSRF tokens.

A session is held on the server (``technician_sessions``): the cookie (Flask's, signed with
a key derived from the secrets key) carries only a random session id, whose hash the row
keeps, never the token. Every request finds that row and its token's row again, so sign-out
(the row is deleted), an idle session (TECHNICIAN_IDLE_MINUTES), one older than
TECHNICIAN_SESSION_HOURS and a revoked token all end it at once, whatever copies of the
cookie exist. The page says the same for an unknown and a revoked token; only the audit log
tells them apart.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Request, request, session
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from provisioner.security import audit
from provisioner.security.ratelimit import RateLimiter, create_rate_limiter, source_key
from provisioner.security.secrets import load_keys
from provisioner.security.tokens import PERMISSIONS, hash_token, token_scope
from provisioner.store.models import ApiToken, TechnicianSession, utc_now

LIMITER_KEY = "technician_sign_in_limiter"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_FIELD = "session_id"
# How stale a session's last use may be recorded: the live page polls every second, and a
# write per poll would make every poll wait for whatever else writes.
SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Technician:
    """Who is signed in: the token's name, role and tenants (None: every tenant)."""

    token_id: int
    name: str
    role: str
    tenants: frozenset[str] | None = None

    def may_see(self, tenant: str) -> bool:
        """True when the token may act on ``tenant``."""
        return self.tenants is None or tenant in self.tenants

    @property
    def actor(self) -> str:
        """How the audit log names them (the same as for the API)."""
        return f"token:{self.name}"

    def may(self, permission: str) -> bool:
        """True when the role grants ``permission``."""
        return permission in PERMISSIONS.get(self.role, frozenset())


class TechnicianSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure when configured, or when this request is HTTPS (also behind PROXY_HOPS)."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def init_app(app: Flask) -> None:
    """Session key, cookie flags and the sign-in limiter."""
    if not app.secret_key:
        first = load_keys(app.config.get("SECRETS_KEY"), app.config["SECRETS_KEY_FILE"])[0]
        app.secret_key = hashlib.sha256(b"provisioner technician session " + first).digest()
    app.session_interface = TechnicianSessionInterface()
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE") or "Lax"
    app.config["SESSION_COOKIE_NAME"] = "provisioner_session"
    hours = float(app.config["TECHNICIAN_SESSION_HOURS"])
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=hours)
    app.extensions[LIMITER_KEY] = create_rate_limiter(
        app.config.get("REDIS_URL"),
        int(app.config["TECHNICIAN_SIGN_IN_LIMIT"]),
        int(app.config["TECHNICIAN_SIGN_IN_WINDOW_SECONDS"]),
        str(app.config.get("RATE_LIMIT_PREFIX") or "provisioner:misses") + ":sign-in",
    )


def sign_in_limiter(app: Flask) -> RateLimiter:
    """The limiter of failed sign-ins per source address."""
    limiter: RateLimiter = app.extensions[LIMITER_KEY]
    return limiter


def client_key(incoming: Request) -> str:
    """The rate-limit key of the request's source address."""
    return source_key(incoming.remote_addr or "")


def check_token(db: Session, token: str, source: str) -> Technician | None:
    """The technician behind ``token``; None for an unknown or revoked one, which the audit
    log records with the reason (the page shows both alike)."""
    digest = hash_token(token.strip())
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        audit.record(
            db,
            f"source:{source}",
            "sign-in-refused",
            "tokens",
            "",
            None,
            {"reason": "unknown token", "source": source, "via": "technician page"},
        )
        return None
    if row.revoked_at is not None:
        audit.record(
            db,
            f"source:{source}",
            "sign-in-refused",
            "tokens",
            row.name,
            None,
            {"reason": "revoked token", "source": source, "via": "technician page"},
        )
        return None
    audit.record(
        db,
        f"token:{row.name}",
        "sign-in",
        "tokens",
        row.name,
        None,
        {"source": source, "via": "technician page"},
    )
    return Technician(row.id, row.name, row.role, token_scope(row))


@dataclass(frozen=True, slots=True)
class SessionLimits:
    """How long a session may sit unused, and how long it may last at all."""

    idle: timedelta
    lifetime: timedelta

    @classmethod
    def of(cls, app: Flask) -> SessionLimits:
        """The limits configured for ``app``."""
        return cls(
            timedelta(minutes=float(app.config["TECHNICIAN_IDLE_MINUTES"])),
            timedelta(hours=float(app.config["TECHNICIAN_SESSION_HOURS"])),
        )


def start_session(db: Session, technician: Technician, limits: SessionLimits) -> None:
    """Begin a fresh session for ``technician`` (a new row, a new CSRF token, the language
    kept); sessions that have run out are deleted on the way."""
    now = utc_now()
    db.execute(delete(TechnicianSession).where(_run_out(now, limits)))
    session_id = secrets.token_urlsafe(32)
    db.add(TechnicianSession(session_hash=hash_token(session_id), token_id=technician.token_id))
    language = session.get("language")
    session.clear()
    session.permanent = True
    session[SESSION_FIELD] = session_id
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    if language:
        session["language"] = language


def _run_out(now: datetime, limits: SessionLimits) -> Any:
    """The condition of sessions idle or old beyond the limits."""
    return or_(
        TechnicianSession.last_seen_at < now - limits.idle,
        TechnicianSession.created_at < now - limits.lifetime,
    )


def session_technician(db: Session, limits: SessionLimits) -> Technician | None:
    """The signed-in technician, from the session's row and its token's; a session that was
    ended (sign-out), is idle or too old, or whose token is revoked ends here (audited)."""
    found = _session_row(db)
    if found is None:
        end_session()
        return None
    row, token = found
    now = utc_now()
    reason = _end_reason(row, token, now, limits)
    if reason is not None:
        db.delete(row)
        audit.record(
            db,
            f"token:{token.name}",
            "session-ended",
            "tokens",
            token.name,
            None,
            {"reason": reason, "via": "technician page"},
        )
        end_session()
        return None
    if now - _aware(row.last_seen_at) >= SEEN_RESOLUTION:
        row.last_seen_at = now
    return Technician(token.id, token.name, token.role, token_scope(token))


def _session_row(db: Session) -> tuple[TechnicianSession, ApiToken] | None:
    """The session the cookie names and its token; None when there is none (never signed
    in, signed out, or its token deleted)."""
    session_id = session.get(SESSION_FIELD)
    if not isinstance(session_id, str):
        return None
    found = db.execute(
        select(TechnicianSession, ApiToken)
        .join(ApiToken, ApiToken.id == TechnicianSession.token_id)
        .where(TechnicianSession.session_hash == hash_token(session_id))
    ).first()
    return None if found is None else (found[0], found[1])


def _end_reason(
    row: TechnicianSession, token: ApiToken, now: datetime, limits: SessionLimits
) -> str | None:
    if token.revoked_at is not None:
        return "token revoked"
    if now - _aware(row.last_seen_at) > limits.idle:
        return "idle"
    if now - _aware(row.created_at) > limits.lifetime:
        return "session too old"
    return None


def _aware(moment: datetime) -> datetime:
    """``moment`` with UTC attached (SQLite hands back naive UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def sign_out(db: Session) -> None:
    """End this session on the server (its row is deleted, so any copy of the cookie opens
    nothing) and in the browser; audited."""
    found = _session_row(db)
    if found is not None:
        row, token = found
        db.delete(row)
        audit.record(
            db,
            f"token:{token.name}",
            "sign-out",
            "tokens",
            token.name,
            None,
            {"via": "technician page"},
        )
    end_session()


def end_session() -> None:
    """Forget the sign-in in the browser (the language choice stays)."""
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language


def csrf_token() -> str:
    """This session's CSRF token, made on first need (the sign-in form needs one too)."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def csrf_ok(incoming: Request) -> bool:
    """True when the form field or header carries this session's CSRF token."""
    expected = session.get(CSRF_FIELD)
    given = incoming.form.get(CSRF_FIELD) or incoming.headers.get(CSRF_HEADER) or ""
    return isinstance(expected, str) and hmac.compare_digest(given.encode(), expected.encode())
