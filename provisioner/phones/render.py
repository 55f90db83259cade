"""The one render function both front ends call: HTTP ``/p/<file>`` and the TFTP callback.

``render_for_path`` identifies the request, checks the source's misses, answers common files
from the vendor module, and per-device files through ``authorize.decide``. It never raises
for bad input; a failure to render a paired phone's file is logged and answered 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import select

from provisioner.errors import ProvisionerError
from provisioner.firmware.serving import firmware_bytes, is_firmware_path
from provisioner.pairing.credentials import answers_expired_nonce, challenge_headers
from provisioner.pairing.timeline import record_event
from provisioner.phones.authorize import Asked, Decision, decide, nonce_key
from provisioner.phones.config import bootstrap_config
from provisioner.phones.identify import identify
from provisioner.phones.model import (
    Answer,
    EventKind,
    FileKind,
    FileRequest,
    PhoneConfig,
    RequestInfo,
)
from provisioner.phones.vendors import PhoneVendor, by_name
from provisioner.security.ratelimit import get_rate_limiter, is_throttled, source_key
from provisioner.store import get_store, models

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PhoneAnswer:
    """What to send back: status, body, type, and the timeline's word for it."""

    status: int
    body: bytes
    content_type: str
    answer: Answer
    headers: tuple[tuple[str, str], ...] = ()
    miss: bool = False  # counts against the source's limit
    kind: EventKind | None = None  # what happened, as the timeline and the request log say


NOT_FOUND = PhoneAnswer(404, b"", "text/plain", Answer.NOT_FOUND)
UNKNOWN_NAME = PhoneAnswer(404, b"", "text/plain", Answer.NOT_FOUND, miss=True)
THROTTLED = PhoneAnswer(
    429, b"", "text/plain", Answer.DENIED, (("Retry-After", "60"),), kind=EventKind.THROTTLED
)
FAILED = PhoneAnswer(500, b"", "text/plain", Answer.DENIED)


def phone_base_url(app: Flask, host_url: str | None = None) -> str:
    """Where phones fetch from: PHONE_BASE_URL, else the request's host, else HTTP_HOST:PORT."""
    configured = app.config.get("PHONE_BASE_URL")
    if configured:
        return str(configured).rstrip("/") + "/"
    if host_url:
        return host_url.rstrip("/") + "/p/"
    return f"http://{app.config['HTTP_HOST']}:{app.config['HTTP_PORT']}/p/"


def render_for_path(
    app: Flask,
    request: RequestInfo,
    base_url: str | None = None,
    authorization: str | None = None,
    authenticated_path: bool = False,
    uri: str = "",
) -> PhoneAnswer:
    """The answer to a phone asking for ``request.path`` (HTTP or TFTP)."""
    limiter = get_rate_limiter(app)
    throttled = is_throttled(limiter, source_key(request.source))
    # On /p/a/ a throttled address is still challenged and its credentials still checked: a
    # guesser behind an office's NAT address must not cut its paired phones off, whether they
    # send Basic at once or do the Digest handshake (random passwords cannot be guessed).
    if throttled and not authenticated_path:
        _record_throttled(app, request)
        return THROTTLED
    file_request = identify(request)
    answer = _answer(
        app,
        request,
        file_request,
        base_url or phone_base_url(app),
        authorization,
        authenticated_path,
        uri,
        record=not throttled,
    )
    if answer.miss:
        limiter.hit(source_key(request.source))
    if throttled and answer.answer is not Answer.FULL and not is_challenge(answer):
        _record_throttled(app, request)
        return THROTTLED  # a failed proof, or anything but the phone's own file
    if file_request is not None and file_request.kind is not FileKind.DEVICE:
        _record(app, request, file_request, answer.answer)
    return answer


def is_challenge(answer: PhoneAnswer) -> bool:
    """A 401 that is no failed proof: the first leg of a Digest fetch, or a stale nonce."""
    return answer.status == 401 and not answer.miss


def _answer(
    app: Flask,
    request: RequestInfo,
    file_request: FileRequest | None,
    base_url: str,
    authorization: str | None,
    authenticated_path: bool,
    uri: str,
    record: bool = True,
) -> PhoneAnswer:
    if file_request is None:
        return UNKNOWN_NAME
    if file_request.kind in (FileKind.ABSENT, FileKind.UPLOAD):
        return NOT_FOUND
    vendor = by_name(file_request.vendor)
    bootstrap = bootstrap_config(
        vendor.name,
        file_request.model,
        base_url,
        app.config["PHONE_BOOTSTRAP_TIMEZONE"],
        app.config["PHONE_BOOTSTRAP_LANGUAGE"],
        app.config["PHONE_BOOTSTRAP_NTP_SERVER"],
        app.config["PHONE_BOOTSTRAP_RESYNC_SECONDS"],
    )
    try:
        if file_request.kind is FileKind.COMMON:
            body = vendor.render_common(bootstrap, file_request.file)
            return PhoneAnswer(200, body, vendor.content_type, Answer.BOOTSTRAP)
        asked = Asked(
            file_request, request, base_url, authorization, authenticated_path, "GET", uri
        )
        return _device_answer(app, vendor, asked, bootstrap, record)
    except ProvisionerError:
        log.exception("cannot render %s for %s", file_request.file, file_request.vendor)
        return FAILED


def _device_answer(
    app: Flask, vendor: PhoneVendor, asked: Asked, bootstrap: PhoneConfig, record: bool = True
) -> PhoneAnswer:
    """Decide and render; ``record`` False (a throttled address) leaves failures off the
    timeline, so trying credentials from there writes nothing."""
    file_request = asked.file_request
    with get_store(app).transaction() as session:
        decision: Decision = decide(app, session, asked)
        if file_request.mac and (record or decision.config is not None):
            record_event(
                session,
                decision.tenant_id,
                file_request.mac,
                asked.request,
                file_request.file,
                decision.answer,
                app.config["PHONE_TIMELINE_LENGTH"],
                decision.kind,
            )
        if decision.config is not None:
            body = vendor.render_device(decision.config, file_request.file)
            return PhoneAnswer(200, body, vendor.content_type, Answer.FULL, kind=decision.kind)
    if decision.challenge:
        # A request without credentials is the first leg of every Digest fetch, and an answer
        # to an expired nonce comes from a phone that waited; their 401 is the same for every
        # MAC, so only a failed proof counts against the source.
        stale = answers_expired_nonce(asked.authorization, nonce_key(app))
        challenge = tuple(challenge_headers(nonce_key(app), stale))
        failed_proof = asked.authorization is not None and not stale
        return PhoneAnswer(
            401, b"", "text/plain", Answer.DENIED, challenge, failed_proof, decision.kind
        )
    body = vendor.render_device(bootstrap, file_request.file)
    return PhoneAnswer(
        200, body, vendor.content_type, decision.answer, miss=True, kind=decision.kind
    )


def _record(app: Flask, request: RequestInfo, file_request: FileRequest, answer: Answer) -> None:
    """Put a common or absent file named after a MAC on that device's timeline."""
    if file_request.mac is None:
        return
    with get_store(app).transaction() as session:
        tenant_id = session.scalar(
            select(models.Phone.tenant_id).where(models.Phone.mac == file_request.mac)
        )
        limit = app.config["PHONE_TIMELINE_LENGTH"]
        record_event(
            session, tenant_id, file_request.mac, request, file_request.file, answer, limit
        )


def _record_throttled(app: Flask, request: RequestInfo) -> None:
    """Put a throttled request on the timeline of the tenant's phone it names. Only a phone a
    tenant has: a guesser's flood of made-up MACs writes nothing."""
    file_request = identify(request)
    if file_request is None or file_request.mac is None:
        return
    with get_store(app).transaction() as session:
        tenant_id = session.scalar(
            select(models.Phone.tenant_id).where(models.Phone.mac == file_request.mac)
        )
        if tenant_id is not None:
            limit = app.config["PHONE_TIMELINE_LENGTH"]
            record_event(
                session,
                tenant_id,
                file_request.mac,
                request,
                file_request.file,
                Answer.DENIED,
                limit,
                EventKind.THROTTLED,
            )


RenderFunction = Callable[[str, str], bytes | None]


def tftp_render_function(app: Flask) -> RenderFunction:
    """The callback for the TFTP service: (file name, client IP) -> bytes, or None for 404."""

    def render(name: str, client: str) -> bytes | None:
        if is_firmware_path(name):  # images named in paired phones' configs
            with app.app_context():
                return firmware_bytes(app, name, client)
        with app.app_context():
            answer = render_for_path(app, RequestInfo(name, client, "tftp"))
        return answer.body if answer.status == 200 else None

    return render
