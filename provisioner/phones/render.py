"""The one render function both front ends call: HTTP ``/p/<file>`` and the TFTP callback.

``render_for_path`` identifies the request, checks the source's misses, answers common files
from the vendor module, and per-device files through ``authorize.decide``. It never raises
for bad input; a failure to render a paired phone's file is logged and answered 500.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from sqlalchemy.orm import Session

from provisioner.errors import ProvisionerError
from provisioner.firmware.serving import firmware_bytes, is_firmware_path
from provisioner.logs import json_logs, log_request
from provisioner.metrics import TALLY, phone_requests, render_seconds
from provisioner.pairing.credentials import answers_expired_nonce, challenge_headers
from provisioner.pairing.timeline_writer import PendingEvent, queue_event
from provisioner.phones.answers import file_shape, full_answers, rendered_answers
from provisioner.phones.authorize import (
    Asked,
    Decision,
    FullFile,
    decide,
    nonce_key,
    plain_challenge,
)
from provisioner.phones.config import bootstrap_config
from provisioner.phones.encryption import encrypt
from provisioner.phones.identify import identify
from provisioner.phones.model import (
    Answer,
    EventKind,
    FileKind,
    FileRequest,
    PhoneConfig,
    RequestInfo,
)
from provisioner.phones.shared_files import shared_files
from provisioner.phones.vendors import PhoneVendor, by_name
from provisioner.security.ratelimit import (
    get_rate_limiter,
    is_throttled,
    over_limit,
    source_key,
)
from provisioner.store import get_store
from provisioner.store.models import utc_now

log = logging.getLogger(__name__)


@dataclass(slots=True)  # not frozen: made on each phone request (see PER_REQUEST)
class PhoneAnswer:
    """What to send back: status, body, type, and the timeline's word for it."""

    status: int
    body: bytes
    content_type: str
    answer: Answer
    headers: tuple[tuple[str, str], ...] = ()
    miss: bool = False  # counts against the source's limit
    kind: EventKind | None = None  # what happened, as the timeline and the request log say
    tenant: str | None = None  # the tenant of the MAC asked for, for the request log


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
    certificate: str | None = None,
    secure: bool = False,
) -> PhoneAnswer:
    """The answer to a phone asking for ``request.path`` (HTTP or TFTP), counted in the
    metrics and, with LOG_FORMAT=json, logged; ``certificate`` is the client certificate a
    trusted TLS proxy passed; ``secure`` says the request came over TLS."""
    started = time.perf_counter()
    answer, file_request = _answer_for_path(
        app, request, base_url, authorization, authenticated_path, uri, certificate, secure
    )
    seconds = time.perf_counter() - started
    kind = answer_kind(answer, file_request)
    TALLY.count(phone_requests(kind, request.protocol))
    TALLY.observe(render_seconds(request.protocol), seconds)
    if json_logs(app):
        log_request(
            {
                "mac": file_request.mac if file_request else None,
                "tenant": answer.tenant,
                "file": request.path,
                "answer": kind,
                "status": answer.status,
                "protocol": request.protocol,
                "source": request.source,
                "ms": round(seconds * 1000, 2),
            }
        )
    return answer


def answer_kind(answer: PhoneAnswer, file_request: FileRequest | None) -> str:
    """The metrics' word for an answer: full, bootstrap, common, not_found, denied,
    throttled or failed."""
    if answer.status == 429:
        return "throttled"
    if answer.status == 500:
        return "failed"
    if answer.status == 200 and file_request is not None and file_request.kind is FileKind.COMMON:
        return "common"
    return answer.answer.value.replace(" ", "_")


def _answer_for_path(
    app: Flask,
    request: RequestInfo,
    base_url: str | None,
    authorization: str | None,
    authenticated_path: bool,
    uri: str,
    certificate: str | None = None,
    secure: bool = False,
) -> tuple[PhoneAnswer, FileRequest | None]:
    limiter = get_rate_limiter(app)
    throttled = is_throttled(limiter, source_key(request.source))
    # On /p/a/ a throttled address is still challenged and its credentials still checked: a
    # guesser behind an office's NAT address must not cut its paired phones off, whether they
    # send Basic at once or do the Digest handshake (random passwords cannot be guessed).
    if throttled and not authenticated_path:
        _record_throttled(app, request)
        return THROTTLED, None
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
        certificate=certificate,
        secure=secure,
    )
    if answer.miss and over_limit(limiter, limiter.hit(source_key(request.source))):
        throttled = True  # past the limit while this request was answered (another worker)
    if throttled and answer.answer is not Answer.FULL and not is_challenge(answer):
        _record_throttled(app, request)
        return THROTTLED, file_request  # a failed proof, or anything but the phone's own file
    if file_request is not None and file_request.kind is not FileKind.DEVICE:
        _record(app, request, file_request, answer.answer)
    return answer, file_request


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
    certificate: str | None = None,
    secure: bool = False,
) -> PhoneAnswer:
    if file_request is None:
        return UNKNOWN_NAME
    if file_request.kind in (FileKind.ABSENT, FileKind.UPLOAD):
        return NOT_FOUND
    vendor = by_name(file_request.vendor)
    file = file_request.file
    shape = file_shape(file, file_request.mac)
    key = (vendor.name, file_request.model, file_request.kind, shape, base_url)
    answers = rendered_answers(app)

    def generic() -> bytes:
        """The answer every phone of the model gets for this name (rendered once)."""
        if file_request.kind is FileKind.COMMON:
            render = vendor.render_common
        else:
            render = vendor.render_device
        return answers.get(
            key, lambda: render(_bootstrap(app, vendor.name, file_request.model, base_url), file)
        )

    try:
        if file_request.kind is FileKind.COMMON:
            return PhoneAnswer(200, generic(), vendor.content_type, Answer.BOOTSTRAP)
        asked = Asked(
            file_request,
            request,
            base_url,
            authorization,
            authenticated_path,
            request.method,
            uri,
            certificate,
            secure,
        )
        return _device_answer(app, vendor, asked, generic, record)
    except ProvisionerError:
        log.exception("cannot render %s for %s", file_request.file, file_request.vendor)
        return FAILED


def full_body(app: Flask, vendor: PhoneVendor, full: FullFile, file: str) -> bytes:
    """A paired phone's file, encrypted with its file key unless the key is handed: kept by
    this process, else shared by every worker through Redis (``shared_files``), else made."""
    encryption = full.encryption
    key = (full.key, file, None if encryption is None else encryption[0])

    def made() -> bytes:
        body = vendor.render_device(full.build(), file)
        if encryption is None:
            return body
        scheme, file_key = encryption
        return encrypt(scheme, body, file_key)

    shared = shared_files(app)
    if shared is None:
        return full_answers(app).get(key, made)
    return full_answers(app).get(key, lambda: shared.get(key, made))


def _bootstrap(app: Flask, vendor: str, model: str | None, base_url: str) -> PhoneConfig:
    """The bootstrap config for a vendor and model (the same for every phone)."""
    return bootstrap_config(
        vendor,
        model,
        base_url,
        app.config["PHONE_BOOTSTRAP_TIMEZONE"],
        app.config["PHONE_BOOTSTRAP_LANGUAGE"],
        app.config["PHONE_BOOTSTRAP_NTP_SERVER"],
        app.config["PHONE_BOOTSTRAP_RESYNC_SECONDS"],
    )


def _device_answer(
    app: Flask,
    vendor: PhoneVendor,
    asked: Asked,
    bootstrap: Callable[[], bytes],
    record: bool = True,
) -> PhoneAnswer:
    """Decide and render; ``record`` False (a throttled address) leaves failures off the
    timeline, so trying credentials from there writes nothing."""
    file_request = asked.file_request

    def record_decision(session: Session | None, decision: Decision) -> None:
        if file_request.mac and (record or decision.full is not None):
            event = PendingEvent(
                decision.tenant_id,
                file_request.mac,
                asked.request,
                file_request.file,
                decision.answer,
                utc_now(),
                kind=decision.kind,
            )
            queue_event(app, session, event)

    def decide_and_render(session: Session) -> tuple[Decision, bytes | None]:
        decision = decide(app, session, asked)
        record_decision(session, decision)
        full = decision.full
        if full is None:
            return decision, None
        body = full_body(app, vendor, full, file_request.file)
        if decision.key_handed is not None:  # made: the key in it counts as delivered
            decision.key_handed(session)
        return decision, body

    # A request with no proof at all is challenged from what this process keeps.
    unproven = plain_challenge(app, asked)
    if unproven is not None:
        record_decision(None, unproven)
        decision, body = unproven, None
    else:
        # Every write here is one statement that stands alone (the window's claim is one
        # conditional UPDATE), so no transaction is opened: two round trips fewer per request.
        decision, body = get_store(app).run_statements(decide_and_render)
    if body is not None:
        return PhoneAnswer(
            200, body, vendor.content_type, Answer.FULL, kind=decision.kind, tenant=decision.tenant
        )
    if decision.challenge:
        # A request without credentials is the first leg of every Digest fetch, and an answer
        # to an expired nonce comes from a phone that waited; their 401 is the same for every
        # MAC, so only a failed proof counts against the source.
        stale = answers_expired_nonce(asked.authorization, nonce_key(app))
        challenge = tuple(challenge_headers(nonce_key(app), stale))
        failed_proof = asked.authorization is not None and not stale
        return PhoneAnswer(
            401,
            b"",
            "text/plain",
            Answer.DENIED,
            challenge,
            failed_proof,
            decision.kind,
            decision.tenant,
        )
    return PhoneAnswer(
        200,
        bootstrap(),
        vendor.content_type,
        decision.answer,
        miss=True,
        kind=decision.kind,
        tenant=decision.tenant,
    )


def _record(app: Flask, request: RequestInfo, file_request: FileRequest, answer: Answer) -> None:
    """Put a common or absent file named after a MAC on that device's timeline."""
    if file_request.mac is None:
        return
    event = PendingEvent(
        None, file_request.mac, request, file_request.file, answer, utc_now(), look_up=True
    )
    queue_event(app, None, event)


def _record_throttled(app: Flask, request: RequestInfo) -> None:
    """Put a throttled request on the timeline of the tenant's phone it names. Only a phone a
    tenant has: a guesser's flood of made-up MACs writes nothing."""
    file_request = identify(request)
    if file_request is None or file_request.mac is None:
        return
    event = PendingEvent(
        None,
        file_request.mac,
        request,
        file_request.file,
        Answer.DENIED,
        utc_now(),
        look_up=True,
        kind=EventKind.THROTTLED,
        known_only=True,
    )
    queue_event(app, None, event)


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
