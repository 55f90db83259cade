"""Deciding what a per-device request earns: the full file, or the bootstrap everyone gets.

Full only for a paired phone that proves itself: its factory certificate naming its MAC (see
``provisioner.phones.certificates``), its own credentials on the authenticated path ``/p/a/``,
or the first-use window that pairing opened (bound to the first address using it). A
certificate naming another MAC is refused and audited. Everything else, including a wrong
vendor or a MAC in the User-Agent that differs from the file's, gets the bootstrap, byte for
byte what a MAC never seen gets.

Over 400 lines on purpose: the decision and the lookups it makes are one security boundary:
answers that cost the same for real and guessed MACs (``look_up_kept``, the preloaded tenant
views) are reasoned about together with ``decide`` (tests/http/test_timing.py).
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from flask import Flask
from sqlalchemy import String, literal, select
from sqlalchemy.orm import Session

from provisioner.firmware.directive import PhoneFirmware, directive
from provisioner.firmware.rollout import RolloutRule, live_rollouts
from provisioner.pairing.credentials import (
    Verdict,
    WindowState,
    as_utc,
    check_authorization,
    claim_window,
    note_file_key_delivered,
    tenant_admin_password,
    window_state,
)
from provisioner.pairing.timeline_writer import queue_audit
from provisioner.phones.answers import FULL_ANSWERS_KEPT, Kept
from provisioner.phones.certificates import CertificateProof, certificate_proof
from provisioner.phones.config import Secrets, phone_config
from provisioner.phones.encryption import Scheme
from provisioner.phones.file_keys import FileKey, choose_file_key, handed_event
from provisioner.phones.keys import PhoneBook, phone_book
from provisioner.phones.model import Answer, EventKind, FileRequest, PhoneConfig, RequestInfo
from provisioner.security import audit
from provisioner.security.nonces import begin_new_answer
from provisioner.security.ratelimit import get_rate_limiter, source_key
from provisioner.security.secrets import SecretBox, get_secret_box, load_keys
from provisioner.store import get_store, models
from provisioner.store.notices import LookupCache
from provisioner.tenants.repository import ROW_MODELS, row_to_item
from provisioner.tenants.schema import TenantDocument, TenantSettings
from provisioner.tenants.schema.devices import Phone


@dataclass(slots=True)  # not frozen: made on each phone request (see PER_REQUEST)
class FullFile:
    """A full file to send: everything its bytes depend on but the file name (``key``: the
    tenant's revision, the secrets' ciphertexts, the firmware offered...) and how to build
    its config when they are not kept yet; ``file_key`` encrypts it unless it is handed."""

    key: Hashable
    build: Callable[[], PhoneConfig]
    file_key: FileKey | None = None

    @property
    def encryption(self) -> tuple[Scheme, str] | None:
        """The scheme and key to encrypt the rendered file with, or None to send it plain."""
        if self.file_key is None or self.file_key.handed:
            return None
        return self.file_key.scheme, self.file_key.key


@dataclass(slots=True)  # not frozen: made on each phone request (see PER_REQUEST)
class Decision:
    """What the request earned; ``full`` is set only for FULL."""

    answer: Answer
    tenant_id: int | None = None
    full: FullFile | None = None
    challenge: bool = False
    kind: EventKind | None = None  # what the timeline records; the answer's kind when None
    tenant: str | None = None  # the name of the tenant the MAC is in (for the request log)
    # The file hands the phone its file key: noted as delivered (and audited) by the caller
    # once the file is made, so a failed render does not leave the phone keyless.
    key_handed: Callable[[Session], None] | None = None


NONCE_KEY = "provisioner.nonce_key"


def nonce_key(app: Flask) -> bytes:
    """The key that signs Digest nonces, derived from the instance's secrets key (once per
    app: reading the key file on every request would be start-up work per request)."""
    key: bytes | None = app.extensions.get(NONCE_KEY)
    if key is None:
        first = load_keys(app.config.get("SECRETS_KEY"), app.config["SECRETS_KEY_FILE"])[0]
        key = app.extensions[NONCE_KEY] = hashlib.sha256(
            b"provisioner digest nonce " + first
        ).digest()
    return key


@dataclass(slots=True)  # not frozen: made on each phone request (see PER_REQUEST)
class Asked:
    """One per-device request with what the front end knows beyond the file name."""

    file_request: FileRequest
    request: RequestInfo
    base_url: str
    authorization: str | None
    authenticated_path: bool
    method: str = "GET"
    uri: str = ""
    certificate: str | None = None  # the proxy's client-certificate header, when trusted
    secure: bool = False  # over TLS (the WSGI scheme, or X-Forwarded-Proto from PROXY_HOPS)


def decide(app: Flask, session: Session, asked: Asked) -> Decision:
    """Full, bootstrap or denied for ``asked``; writes the window's use and the audit.

    An unknown and an unpaired MAC take the same two lookups to the same bootstrap.
    A proven Digest answer must also be new (``provisioner.security.nonces``): its use is
    sent to the nonce store at once and its verdict read only once the rest is decided, so
    the round trip overlaps that work; the verdict is read before anything is written."""
    mac = asked.file_request.mac or ""
    found = look_up_kept(app, session, mac)
    tenant_id = found.phone_tenant_id
    tenant = found.tenant_name
    proof, still_new = _prove(app, session, asked, found)
    if isinstance(proof, EventKind):
        answer = Answer.BOOTSTRAP if proof is EventKind.BOOTSTRAP else Answer.DENIED
        return Decision(
            answer, tenant_id, challenge=asked.authenticated_path, kind=proof, tenant=tenant
        )
    is_new = _asked_once(still_new) if still_new is not None else _new
    decision, release = _decide_proven(app, session, asked, found, proof, is_new)
    if not is_new():  # a replay: refused as a wrong answer is, nothing written or counted
        kind = EventKind.WRONG_CREDENTIALS
        return Decision(Answer.DENIED, tenant_id, challenge=True, kind=kind, tenant=tenant)
    if release is not None:  # made (and counted in the metrics) only for a new answer
        queue_audit(app, session, release())  # batched with the timeline, off the request path
    return decision


def _new() -> bool:
    return True


def _asked_once(verdict: Callable[[], bool]) -> Callable[[], bool]:
    """``verdict``, read on the first call and remembered (it may be asked twice)."""
    read: list[bool] = []

    def settled() -> bool:
        if not read:
            read.append(verdict())
        return read[0]

    return settled


def _decide_proven(
    app: Flask,
    session: Session,
    asked: Asked,
    found: Lookup,
    proof: str,
    is_new: Callable[[], bool],
) -> tuple[Decision, Callable[[], dict[str, Any]] | None]:
    """``decide`` for a phone that proved itself by ``proof``; what makes the audit row of
    the secrets the answer releases, if any. ``is_new`` (a replay's verdict) is asked before
    a write."""
    mac = asked.file_request.mac or ""
    credential = found.credential
    tenant_id = found.phone_tenant_id
    tenant = found.tenant_name
    if tenant_id is None or credential is None or credential.tenant_id != tenant_id:
        return Decision(Answer.BOOTSTRAP, tenant_id, kind=EventKind.BOOTSTRAP, tenant=tenant), None
    view = tenant_view(app, session, tenant_id, found.revision or "")
    phone = stored_phone(app, found)
    if not _fits(view.document, phone, asked):
        return Decision(Answer.DENIED, tenant_id, kind=EventKind.MISMATCH, tenant=tenant), None
    source = asked.request.source
    if proof == FIRST_USE and not claim_window(session, credential, source, datetime.now(UTC)):
        _alarm_conflict(session, credential, source)
        kind = EventKind.FIRST_USE_CONFLICT
        return Decision(Answer.DENIED, tenant_id, kind=kind, tenant=tenant), None
    # Only a GET receives the key: a HEAD's answer has no body.
    trusted = (asked.secure or proof == CERTIFICATE) and asked.method == "GET"
    binds = proof in (CREDENTIALS, CERTIFICATE) and _binds_open_window(credential, source)
    # Binding the window, handing the file key and the firmware directive (a live rollout
    # records the phone's progress; a pinned image found altered is audited) may write: a
    # replay must not.
    writes = binds or trusted or bool(view.rollouts) or phone.firmware_target is not None
    if writes and not is_new():
        return Decision(Answer.DENIED, tenant_id, tenant=tenant), None
    if binds:
        claim_window(session, credential, source, datetime.now(UTC))
    vendor = asked.file_request.vendor
    file_key = choose_file_key(app, session, vendor, view.document, credential, trusted)
    key_handed = None
    if file_key is not None and file_key.handed:
        via = "https" if asked.secure else asked.request.protocol
        details = {"file": asked.file_request.file, "via": via, "proof": proof}
        event = handed_event(mac, tenant, file_key, {**details, "source": source})
        key_handed = partial(_note_key_handed, app, credential, event)
    full = _full_file(app, session, asked, found, view, phone, credential, tenant_id, file_key)
    release = partial(
        audit.event_fields,
        f"phone:{mac}",
        audit.RELEASE_SECRET,
        "phones",
        mac,
        found.tenant_name,
        {
            "fields": ["sip_password", "provisioning_password", "admin_password"],
            "file": asked.file_request.file,
            "via": asked.request.protocol,
            "proof": proof,
            "source": source,
        },
    )
    kind = FULL_KINDS[proof]
    decision = Decision(
        Answer.FULL, tenant_id, full, kind=kind, tenant=tenant, key_handed=key_handed
    )
    return decision, release


def plain_challenge(app: Flask, asked: Asked) -> Decision | None:
    """The decision ``decide`` would reach for a request that offers no proof at all (no
    credentials, no certificate header) on ``/p/a/``: the first leg of every Digest fetch.
    Taken from what this process keeps, with no session and no store; None when the MAC's
    rows are not kept (``decide`` then reads them)."""
    if not asked.authenticated_path or asked.authorization or asked.certificate:
        return None
    found = kept_lookup(app, asked.file_request.mac or "")
    if found is None:
        return None
    tenant_id = found.phone_tenant_id
    return Decision(
        Answer.DENIED,
        tenant_id,
        challenge=True,
        kind=EventKind.CHALLENGE,
        tenant=found.tenant_name,
    )


def _note_key_handed(
    app: Flask, credential: models.DeviceCredential, event: dict[str, Any], session: Session
) -> None:
    """The phone's file carrying its key was made: later files go encrypted; audited."""
    note_file_key_delivered(session, credential, datetime.now(UTC))
    queue_audit(app, session, event)  # batched with the timeline, as release-secret


FIRST_USE = "first-use window"
CREDENTIALS = "credentials"
CERTIFICATE = "factory certificate"
FULL_KINDS = {
    FIRST_USE: EventKind.FULL_FIRST_USE,
    CREDENTIALS: EventKind.FULL_CREDENTIALS,
    CERTIFICATE: EventKind.FULL_CERTIFICATE,
}


def _prove(
    app: Flask, session: Session, asked: Asked, found: Lookup
) -> tuple[str | EventKind, Callable[[], bool] | None]:
    """How the phone proves itself (its certificate, credentials, the window), or why it is
    refused (all but BOOTSTRAP are denials); for a proven Digest answer, the verdict on its
    being new, to be read later (see ``decide``). A certificate no configured vendor CA
    issued counts as none: today's rules apply."""
    credential = found.credential
    certificate = certificate_proof(app, asked.certificate)
    if certificate is not None:
        if certificate.mac == asked.file_request.mac:
            return CERTIFICATE, None
        _alarm_certificate(session, asked, found, certificate)
        return EventKind.CERTIFICATE_MISMATCH, None
    if asked.authenticated_path:
        proven, still_new = begin_proof(
            app, credential, asked.authorization, asked.method, asked.uri
        )
        if proven:
            return CREDENTIALS, still_new
        return (EventKind.WRONG_CREDENTIALS if asked.authorization else EventKind.CHALLENGE), None
    source = asked.request.source
    state = window_state(credential, source, datetime.now(UTC))
    if state is WindowState.CONFLICT and credential is not None:
        _alarm_conflict(session, credential, source)
        return EventKind.FIRST_USE_CONFLICT, None
    if state is not WindowState.ALLOWED:
        return EventKind.BOOTSTRAP, None
    return (EventKind.FIRST_USE_REFUSED if has_guessed(app, source) else FIRST_USE), None


def proves_credentials(
    app: Flask,
    credential: models.DeviceCredential | None,
    authorization: str | None,
    method: str,
    uri: str,
) -> bool:
    """True when ``authorization`` proves the phone's credentials (Digest or Basic); without
    credentials a random password stands in, so the work is the same. A Digest answer must
    also be new: one seen before (same nonce, no higher count) is a replay."""
    proven, still_new = begin_proof(app, credential, authorization, method, uri)
    return proven and (still_new is None or still_new())


def begin_proof(
    app: Flask,
    credential: models.DeviceCredential | None,
    authorization: str | None,
    method: str,
    uri: str,
) -> tuple[bool, Callable[[], bool] | None]:
    """Whether ``authorization`` proves the phone's credentials (see ``proves_credentials``)
    and, for a proven Digest answer, the verdict on its being new: its nonce's use is on its
    way to the nonce store, and the function returned reads the answer (call it once)."""
    password = get_secret_box(app).decrypt(credential.password_encrypted) if credential else None
    username = credential.username if credential else None
    proof = check_authorization(authorization, method, uri, username, password, nonce_key(app))
    if proof.verdict is not Verdict.PROVEN:
        return False, None
    if proof.scheme != "digest":
        return True, None
    return True, begin_new_answer(app, proof)


def _binds_open_window(credential: models.DeviceCredential, source: str) -> bool:
    """A phone proving itself by its credentials needs no first-use window: an open, unused
    one (a re-pair opens one for a deployed phone) is bound to its address, so no other can."""
    return credential.window_source is None and window_state(
        credential, source, datetime.now(UTC)
    ) is (WindowState.ALLOWED)


def _alarm_conflict(session: Session, credential: models.DeviceCredential, source: str) -> None:
    """A second address inside the first-use window: the audit log's alarm."""
    mac = credential.mac
    tenant = session.scalar(
        select(models.Tenant.name).where(models.Tenant.id == credential.tenant_id)
    )
    audit.record(
        session,
        f"phone:{mac}",
        "first-use-conflict",
        "phones",
        mac,
        tenant,
        {"source": source, "bound_to": credential.window_source},
    )


def _alarm_certificate(
    session: Session, asked: Asked, found: Lookup, certificate: CertificateProof
) -> None:
    """A vendor-signed certificate asking for another phone's file: the audit log's alarm."""
    mac = asked.file_request.mac or ""
    audit.record(
        session,
        f"phone:{mac}",
        "certificate-mismatch",
        "phones",
        mac,
        found.tenant_name,
        {
            "source": asked.request.source,
            "certificate_vendor": certificate.vendor,
            "certificate_mac": certificate.mac,
            "certificate_subject": certificate.subject,
            "file": asked.file_request.file,
        },
    )


def _full_file(
    app: Flask,
    session: Session,
    asked: Asked,
    found: Lookup,
    view: TenantView,
    phone: Phone,
    credential: models.DeviceCredential,
    tenant_id: int,
    file_key: FileKey | None = None,
) -> FullFile:
    """The firmware directive (it records the phone's progress, so it runs every time), and
    what the file's bytes depend on."""
    model = phone.model or asked.file_request.model
    # A phone stored without a vendor (an OUI two vendors share) is the vendor that asked.
    vendor = phone.vendor or asked.file_request.vendor
    firmware = PhoneFirmware(
        tenant_id,
        phone.mac,
        phone.site,
        vendor or "",
        model or "",
        phone.firmware_target,
        asked.file_request.firmware,
    )
    offer = directive(app, session, firmware, asked.request, asked.base_url, view.rollouts)
    url, version = (offer.url, offer.version) if offer else (None, None)

    def build() -> PhoneConfig:
        box = get_secret_box(app)
        secrets = Secrets(
            sip_passwords=line_passwords(box, view, phone.lines),
            provisioning_username=credential.username,
            provisioning_password=box.decrypt(credential.password_encrypted),
            admin_password=_admin_password(session, box, found, tenant_id),
        )
        asking = phone.model_copy(update={"vendor": vendor})
        return phone_config(
            view.document,
            asking,
            model,
            secrets,
            asked.base_url,
            url,
            version,
            book=view.book,
            issued_at=int(datetime.now(UTC).timestamp()),  # when this file is first built
            # Also inside the encrypted file: the phone keeps reading it (a Cisco rule
            # without --key would stop decrypting the next one).
            file_key=file_key.key if file_key is not None else None,
        )

    key = (
        phone.mac,
        vendor,
        model,
        tenant_id,
        found.revision,
        credential.username,
        credential.password_encrypted,
        found.admin_password_encrypted,
        url,
        version,
        asked.base_url,
        None if file_key is None else (file_key.handed, credential.file_key_encrypted),
    )
    return FullFile(key, build, file_key)


PHONES_KEY = "provisioner.stored_phones"


def stored_phone(app: Flask, found: Lookup) -> Phone:
    """The phone row as the schema's ``Phone``, kept per MAC and tenant revision (every
    change of a phone writes its tenant a new revision)."""
    assert found.phone is not None
    phones: Kept[Phone] | None = app.extensions.get(PHONES_KEY)
    if phones is None:
        phones = app.extensions.setdefault(PHONES_KEY, Kept[Phone](FULL_ANSWERS_KEPT))
    row = found.phone
    return phones.get(
        (row.mac, row.tenant_id, found.revision),
        lambda: Phone.model_validate(row_to_item("phones", row)),
    )


@dataclass(frozen=True, slots=True)
class Lookup:
    """What the store holds for one MAC: its phone with the tenant row's name, revision and
    admin password, and its credentials; any of them may be absent."""

    phone: models.Phone | None
    tenant_name: str | None
    revision: str | None
    admin_password_encrypted: str | None
    credential: models.DeviceCredential | None

    @property
    def phone_tenant_id(self) -> int | None:
        """The tenant of the MAC's phone (None: no tenant has a phone with it)."""
        return self.phone.tenant_id if self.phone is not None else None


# What a lookup reads: the phone, its tenant's name, revision and admin password, its credentials.
LOOKUP_COLUMNS = (
    models.Phone,
    models.Tenant.name,
    models.Tenant.revision,
    models.Tenant.phone_admin_password_encrypted,
    models.DeviceCredential,
)


def look_up_every(
    session: Session, tenant_id: int | None
) -> Iterator[tuple[str, int | None, Lookup | None]]:
    """``look_up`` for every MAC the store has (of one tenant, or of all), in two queries:
    phones with their credentials if any, then credentials without a phone; each with its
    tenant, and None for a lookup a request may not keep (see ``_keepable``)."""
    phones = (
        select(*LOOKUP_COLUMNS)
        .join(models.Tenant, models.Tenant.id == models.Phone.tenant_id)
        .outerjoin(models.DeviceCredential, models.DeviceCredential.mac == models.Phone.mac)
    )
    alone = (
        select(models.DeviceCredential)
        .outerjoin(models.Phone, models.Phone.mac == models.DeviceCredential.mac)
        .where(models.Phone.id.is_(None))
    )
    if tenant_id is not None:
        phones = phones.where(models.Phone.tenant_id == tenant_id)
        alone = alone.where(models.DeviceCredential.tenant_id == tenant_id)
    now = datetime.now(UTC)
    found = [Lookup(*row) for row in session.execute(phones)]
    found += [Lookup(None, None, None, None, row) for row in session.scalars(alone)]
    for lookup in found:
        mac = lookup.phone.mac if lookup.phone is not None else lookup.credential.mac  # type: ignore[union-attr]
        yield mac, _tenant_of(lookup), lookup if _keepable(lookup, now) else None


def look_up(session: Session, mac: str) -> Lookup:
    """One query for every MAC, known or not: the same work, the same single row."""
    asked = select(literal(mac, String).label("mac")).subquery()
    row = session.execute(
        select(*LOOKUP_COLUMNS)
        .select_from(asked)
        .outerjoin(models.Phone, models.Phone.mac == asked.c.mac)
        .outerjoin(models.Tenant, models.Tenant.id == models.Phone.tenant_id)
        .outerjoin(models.DeviceCredential, models.DeviceCredential.mac == asked.c.mac)
    ).one()
    return Lookup(*row)


LOOKUPS_KEY = "provisioner.phone_lookups"
NOBODY = Lookup(None, None, None, None, None)  # what ``look_up`` finds for a MAC no row has


def _lookups(app: Flask) -> LookupCache[Lookup]:
    cache: LookupCache[Lookup] | None = app.extensions.get(LOOKUPS_KEY)
    if cache is None:
        store = get_store(app)
        cache = app.extensions.setdefault(
            LOOKUPS_KEY, LookupCache[Lookup](store.statement_engine, look_up_every)
        )
        store.on_dispose(cache.close)
    return cache


def kept_lookup(app: Flask, mac: str) -> Lookup | None:
    """``look_up`` from this process's copy alone; None when only the store can tell."""
    cache = _lookups(app)
    kept = cache.get(mac)
    if kept is not None:
        return kept
    if cache.absent(mac):  # no row has it: known without a query, as a kept MAC is
        return NOBODY
    return None


def look_up_kept(app: Flask, session: Session, mac: str) -> Lookup:
    """``look_up`` answered from this process's copy when it holds one (see
    ``provisioner.store.notices``): no round trip for a phone that asked before."""
    kept = kept_lookup(app, mac)
    if kept is not None:
        return kept
    cache = _lookups(app)
    generation = cache.generation()
    found = look_up(session, mac)
    if _keepable(found, datetime.now(UTC)):
        cache.put(mac, _tenant_of(found), found, generation)
    return found


def _tenant_of(found: Lookup) -> int | None:
    """The tenant a lookup belongs to (None: no tenant has the MAC)."""
    if found.phone is not None:
        return found.phone_tenant_id
    return found.credential.tenant_id if found.credential is not None else None


def _keepable(found: Lookup, now: datetime) -> bool:
    """Rows a request only reads: no open first-use window (its use is written), and for a
    phone an admin password already made (its making is written)."""
    credential = found.credential
    until = as_utc(credential.window_until) if credential is not None else None
    if until is not None and until > now:  # the window is open
        return False
    # Without credentials no full file is made, so nothing is written for it.
    return found.phone is None or credential is None or found.admin_password_encrypted is not None


def line_passwords(box: SecretBox, view: TenantView, numbers: list[str]) -> dict[str, str]:
    """The SIP passwords of the phone's own lines only (never a colleague's is decrypted)."""
    stored = view.sip_passwords_encrypted
    return {number: box.decrypt(stored[number]) for number in numbers if number in stored}


def _admin_password(session: Session, box: SecretBox, found: Lookup, tenant_id: int) -> str:
    if found.admin_password_encrypted:
        return box.decrypt(found.admin_password_encrypted)
    tenant = session.get(models.Tenant, tenant_id)
    assert tenant is not None
    return tenant_admin_password(session, box, tenant)


# --- What phone files are built from, kept per tenant revision -----------------------------

# The parts of a tenant a phone's file is built from; the rest (flows, sounds) is not read.
PHONE_COLLECTIONS = ("sites", "extensions", "ring_groups")
VIEWS_KEY = "provisioner.tenant_views"
VIEWS_KEPT = 256  # tenants per process
_VIEWS_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class TenantView:
    """A tenant as phone files need it: settings, sites, extensions' numbers and names, ring
    groups, its phone book, the SIP passwords still encrypted (a phone's own are decrypted
    for its file, no other), and its live firmware rollouts."""

    document: TenantDocument
    book: PhoneBook
    sip_passwords_encrypted: Mapping[str, str]
    rollouts: tuple[RolloutRule, ...] = ()


def load_view(session: Session, tenant_id: int) -> TenantView:
    """Read the tenant's view from the store (nothing is decrypted)."""
    tenant = session.get(models.Tenant, tenant_id)
    assert tenant is not None
    data: dict[str, Any] = {name: getattr(tenant, name) for name in TenantSettings.model_fields}
    encrypted: dict[str, str] = {}
    for collection in PHONE_COLLECTIONS:
        model = ROW_MODELS[collection]
        rows = session.scalars(select(model).where(model.tenant_id == tenant.id).order_by(model.id))
        data[collection] = []
        for row in rows:
            data[collection].append(row_to_item(collection, row))
            if collection == "extensions":
                encrypted[row.number] = row.sip_password_encrypted
    document = TenantDocument.model_validate(data)
    rollouts = live_rollouts(session, tenant.id)
    return TenantView(document, phone_book(document), encrypted, rollouts)


def tenant_view(app: Flask, session: Session, tenant_id: int, revision: str) -> TenantView:
    """The view of the phone's tenant at the revision just read: from this process's cache,
    else from the store. Every change writes a new revision in its own transaction, so a
    view is never used after the change that made it stale is committed (in any worker)."""
    views: dict[tuple[int, str], TenantView] = app.extensions.setdefault(VIEWS_KEY, {})
    key = (tenant_id, revision)
    view = views.get(key)
    if view is None:
        view = load_view(session, tenant_id)
        with _VIEWS_LOCK:
            while len(views) >= VIEWS_KEPT:
                views.pop(next(iter(views)))
            views[key] = view
    return view


def has_guessed(app: Flask, source: str) -> bool:
    """True for an address with more misses than a booting office makes: a genuine phone asks
    for its own file without misses before it, while a guesser piles them up, so the window
    (trust on first use) is not handed to whoever guesses the MAC while it is open."""
    limit = int(app.config["PHONE_WINDOW_MAX_MISSES"])
    return get_rate_limiter(app).count(source_key(source)) > limit


def _fits(document: TenantDocument, phone: Phone, asked: Asked) -> bool:
    """The phone is the one that asks: vendor, MAC in the User-Agent, the site's networks."""
    file_request = asked.file_request
    if phone.vendor is not None and phone.vendor != file_request.vendor:
        return False
    if file_request.agent_mac is not None and file_request.agent_mac != phone.mac:
        return False
    if not phone.lines:
        return False
    if document.provisioning.restrict_to_site_networks:
        return _in_site_networks(document, phone, asked.request.source)
    return True


def _in_site_networks(document: TenantDocument, phone: Phone, source: str) -> bool:
    try:
        address = ipaddress.ip_address(source)
    except ValueError:
        return False
    sites = [site for site in document.sites if phone.site in (None, site.name)]
    return any(
        address in ipaddress.ip_network(network, strict=False)
        for site in sites
        for network in site.networks
    )
