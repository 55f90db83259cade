"""Signing technicians in with an API token, the cookie session, and CSRF tokens.

The session cookie (Flask's, signed with a key derived from the secrets key) holds the token's
row id, never the token. Every request checks that row again, so revoking a token ends its
sessions at once. The page says the same for an unknown and a revoked token; only the audit
log tells them apart.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, Request, request, session
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner.security import audit
from provisioner.security.ratelimit import RateLimiter, create_rate_limiter, source_key
from provisioner.security.secrets import load_keys
from provisioner.security.tokens import PERMISSIONS, hash_token
from provisioner.store.models import ApiToken

LIMITER_KEY = "technician_sign_in_limiter"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True, slots=True)
class Technician:
    """Who is signed in: the token's name and role."""

    token_id: int
    name: str
    role: str

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
    return Technician(row.id, row.name, row.role)


def start_session(technician: Technician) -> None:
    """Begin a fresh session for ``technician`` (a new CSRF token, the language kept)."""
    language = session.get("language")
    session.clear()
    session.permanent = True
    session["token_id"] = technician.token_id
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    if language:
        session["language"] = language


def session_technician(db: Session) -> Technician | None:
    """The signed-in technician, checked against the token's row; a revoked token's session
    ends here (audited)."""
    token_id = session.get("token_id")
    if not isinstance(token_id, int):
        return None
    row = db.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None:
        name = row.name if row is not None else ""
        audit.record(
            db,
            f"token:{name}" if name else "session",
            "session-ended",
            "tokens",
            name,
            None,
            {"reason": "token revoked" if row else "token deleted", "via": "technician page"},
        )
        end_session()
        return None
    return Technician(row.id, row.name, row.role)


def end_session() -> None:
    """Forget the sign-in (the language choice stays)."""
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
