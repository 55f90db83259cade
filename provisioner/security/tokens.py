"""API bearer tokens and the roles they carry."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner.errors import Conflict, Forbidden, NotFound, Unauthorized
from provisioner.store.models import ApiToken, Tenant, utc_now

TOKEN_PREFIX = "prov_"
ROLES = ("admin", "technician", "support")
# How stale a token's last use may be recorded. Writing it on every request made every API
# call, reads too, wait for whatever else was writing (SQLite has one writer; WAL exists so
# readers need not wait).
LAST_USED_RESOLUTION = timedelta(hours=1)

# What each role may do. Views name the permission they need, never a role.
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"read", "write", "pair", "diagnose", "diagnose-phones", "secrets"}),
    # diagnose-phones: the read-only diagnosis of a tenant's phones, not of any MAC.
    "technician": frozenset({"read", "pair", "diagnose-phones"}),
    "support": frozenset({"read", "diagnose", "diagnose-phones"}),
}
# What each permission lets a caller do, for the sentence that refuses it.
PERMISSION_TEXT: dict[str, str] = {
    "read": "read tenant data",
    "write": "change tenant data",
    "pair": "pair, unpair or swap phones",
    "diagnose": "diagnose any MAC or network device",
    "diagnose-phones": "diagnose phones",
    "secrets": "read secrets (SIP passwords, PINs, credentials)",
}


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling the API, and the tenants its token may act on (None: every one)."""

    name: str
    role: str
    tenants: frozenset[str] | None = None

    def may_see(self, tenant: str) -> bool:
        """True when the token may act on ``tenant``."""
        return self.tenants is None or tenant in self.tenants

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"token:{self.name}"

    def may(self, permission: str) -> bool:
        """True when this caller's role grants ``permission``."""
        return permission in PERMISSIONS.get(self.role, frozenset())

    def require(self, permission: str) -> None:
        """Raise Forbidden, in a sentence naming the roles that may, unless the role grants
        ``permission``."""
        if not self.may(permission):
            raise Forbidden(refusal(self.role, permission))


def refusal(role: str, permission: str) -> str:
    """``A support token may not change tenant data. That needs an admin token.``"""
    allowed = [name for name in ROLES if permission in PERMISSIONS[name]]
    needed = " or ".join(f"{_article(name)} {name}" for name in allowed) or "no"
    action = PERMISSION_TEXT.get(permission, permission)
    return (
        f"{_article(role).capitalize()} {role} token may not {action}. That needs {needed} token."
    )


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256 (tokens are long random strings)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, role: str, name: str, tenants: Collection[str] | None = None
) -> str:
    """Store a new token for ``role`` (limited to ``tenants`` when given; each must exist)
    and return it; it is shown this once only. Live tokens' names are unique: the audit log
    and `token revoke NAME` must mean one token."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if _live_named(session, name):
        raise Conflict(
            f"a live token is named {name!r} already; choose another --name "
            f"(or `provisioner token revoke {name}` first)"
        )
    scope = None
    if tenants is not None:
        existing = set(session.scalars(select(Tenant.name).where(Tenant.name.in_(tenants))))
        missing = sorted(set(tenants) - existing)
        if missing or not tenants:
            raise NotFound(
                f"no tenant {', '.join(missing) or '(none given)'}; see `provisioner tenants list`"
            )
        scope = sorted(set(tenants))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(name=name, role=role, token_hash=hash_token(token), tenants=scope))
    return token


def token_scope(row: ApiToken) -> frozenset[str] | None:
    """The tenants a token's row limits it to (None: every tenant)."""
    return None if row.tenants is None else frozenset(str(name) for name in row.tenants)


def unused_token_name(session: Session, wanted: str) -> str:
    """``wanted`` when no live token has it, else ``wanted-2``, ``wanted-3``..."""
    name, number = wanted, 1
    while _live_named(session, name):
        number += 1
        name = f"{wanted}-{number}"
    return name


def _live_named(session: Session, name: str) -> bool:
    query = select(ApiToken.id).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
    return session.scalar(query.limit(1)) is not None


def authenticate(session: Session, header: str | None) -> Caller:
    """The caller behind an ``Authorization: Bearer ...`` header; Unauthorized otherwise."""
    if not header or not header.startswith("Bearer "):
        raise Unauthorized("send an Authorization: Bearer <token> header")
    digest = hash_token(header.removeprefix("Bearer ").strip())
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if (
        row is None
        or row.revoked_at is not None
        or not secrets.compare_digest(row.token_hash, digest)
    ):
        raise Unauthorized("the token is unknown or revoked")
    now = utc_now()
    if _is_stale(row.last_used_at, now):
        row.last_used_at = now
    return Caller(name=row.name, role=row.role, tenants=token_scope(row))


def _is_stale(last_used: datetime | None, now: datetime) -> bool:
    if last_used is None:
        return True
    if last_used.tzinfo is None:  # SQLite hands back naive UTC
        last_used = last_used.replace(tzinfo=UTC)
    return now - last_used >= LAST_USED_RESOLUTION


def revoke_token(session: Session, name: str) -> int:
    """Revoke every live token called ``name``; return how many."""
    rows = session.scalars(
        select(ApiToken).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
    ).all()
    if not rows:
        raise NotFound(f"no live token named {name!r}; see `provisioner token list`")
    for row in rows:
        row.revoked_at = utc_now()
    return len(rows)
