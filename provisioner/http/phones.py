"""What phones fetch: ``/p/<file>`` (no credentials) and ``/p/a/<file>`` (Digest or Basic).

The view only translates HTTP to ``render_for_path`` and back (``answer_fetch``, which the
WSGI fast path ``provisioner.http.phone_fast_path`` calls as well); ETag / If-None-Match save
polling phones the download. Basic credentials carry the password in clear text, so over
plain HTTP they are refused (as if absent: the answer is a Digest challenge) and logged,
unless ALLOW_BASIC_OVER_HTTP is set; TLS is told by the WSGI scheme, or behind PROXY_HOPS
trusted proxies by X-Forwarded-Proto. Behind them too, the client certificate the TLS proxy
verified comes in PHONE_CERTIFICATE_HEADER (``provisioner.phones.certificates``).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.http import HTTP_STATUS_CODES, http_date

from provisioner.http.request_log import note_phone_answer
from provisioner.pairing.credentials import authorization_scheme, challenge_headers
from provisioner.phones.answers import ANSWERS_KEPT, FULL_ANSWERS_KEPT
from provisioner.phones.authorize import nonce_key
from provisioner.phones.model import RequestInfo
from provisioner.phones.render import phone_base_url, render_for_path
from provisioner.phones.uploads import UploadStatus, store_upload

bp = Blueprint("phones", __name__, url_prefix="/p")
log = logging.getLogger(__name__)


@dataclass(slots=True)  # not frozen: made on each phone request (see PER_REQUEST)
class Fetch:
    """A phone's GET as the answer needs it, read from Flask's request or from the WSGI
    environment alike."""

    file: str
    authenticated_path: bool
    path: str  # the URL path, for Digest's uri
    source: str
    user_agent: str
    authorization: str | None
    host_url: Callable[[], str]  # asked only when PHONE_BASE_URL is not set
    secure: bool
    environ: dict[str, Any]  # for If-None-Match


def basic_allowed(app: Flask, secure: bool) -> bool:
    """Basic credentials are taken over TLS, or where ALLOW_BASIC_OVER_HTTP says so."""
    return secure or bool(app.config.get("ALLOW_BASIC_OVER_HTTP"))


def _authorization(
    app: Flask, header: str | None, secure: bool, source: str, path: str
) -> str | None:
    """The request's Authorization header; Basic over plain HTTP is dropped and logged."""
    if authorization_scheme(header) != "basic" or basic_allowed(app, secure):
        return header
    log.warning(
        "Basic credentials over plain HTTP refused from %s for %s (the password would travel "
        "in clear text): use Digest or HTTPS, or set ALLOW_BASIC_OVER_HTTP",
        source,
        path,
    )
    return None


def offered_headers(
    app: Flask, headers: Iterable[tuple[str, str]], secure: bool
) -> tuple[tuple[str, str], ...]:
    """The answer's headers; the Basic challenge only where Basic is taken."""
    basic = basic_allowed(app, secure)
    return tuple(
        (name, value)
        for name, value in headers
        if basic or not (name == "WWW-Authenticate" and value.startswith("Basic"))
    )


def _add_challenges(
    app: Flask, response: Response, headers: Iterable[tuple[str, str]], secure: bool
) -> None:
    """Add the answer's headers (see ``offered_headers``)."""
    for name, value in offered_headers(app, headers, secure):
        response.headers.add(name, value)


def proxied_certificate(app: Flask, environ: dict[str, Any]) -> str | None:
    """The client certificate in the TLS proxy's header; only behind PROXY_HOPS trusted
    proxies (without one, anyone could send the header)."""
    if not app.config.get("PROXY_HOPS"):
        return None
    header = str(app.config.get("PHONE_CERTIFICATE_HEADER") or "")
    if not header:
        return None
    value = environ.get("HTTP_" + header.upper().replace("-", "_"))
    return str(value) if value else None


def answer_fetch(app: Flask, fetch: Fetch) -> tuple[Response | PlainAnswer, str]:
    """The HTTP answer to a phone's GET (a 200 carries an ETag, and is a 304 when the phone
    holds these bytes already), and what the request log says it got."""
    request_info = RequestInfo(
        path=fetch.file,
        source=fetch.source,
        protocol="http",
        user_agent=fetch.user_agent,
        route="/p/a/" if fetch.authenticated_path else "/p/",
        method=str(fetch.environ.get("REQUEST_METHOD") or "GET"),
    )
    authorization = _authorization(app, fetch.authorization, fetch.secure, fetch.source, fetch.path)
    answer = render_for_path(
        app,
        request_info,
        phone_base_url(app, None if app.config.get("PHONE_BASE_URL") else fetch.host_url()),
        authorization,
        fetch.authenticated_path,
        fetch.path,
        proxied_certificate(app, fetch.environ),
        fetch.secure,
    )
    kind = (answer.kind or answer.answer).value
    if answer.status != 200:
        headers = offered_headers(app, answer.headers, fetch.secure)
        return PlainAnswer(answer.body, answer.content_type, answer.status, headers), kind
    if not answer.headers and CONDITIONAL_HEADERS.isdisjoint(fetch.environ):
        return PlainAnswer(answer.body, answer.content_type), kind
    response = Response(answer.body, status=answer.status, content_type=answer.content_type)
    _add_challenges(app, response, answer.headers, fetch.secure)
    response.set_etag(etag_of(answer.body))
    response.headers["Cache-Control"] = "no-cache"
    response.make_conditional(fetch.environ)
    return response, kind


# As many as the answer maps keep (phones.answers): mostly their very bodies, so little more.
@functools.lru_cache(maxsize=ANSWERS_KEPT + FULL_ANSWERS_KEPT)
def etag_of(body: bytes) -> str:
    """The ETag of a phone's answer (unquoted): its bytes' SHA-256 (kept for the bodies
    answered most lately: a storm sends the same bytes many times)."""
    return hashlib.sha256(body).hexdigest()


@dataclass(slots=True)  # not frozen: made on each phone request (see PER_REQUEST)
class PlainAnswer:
    """An answer with nothing conditional about it, the most common answers of a boot storm
    (a 200, a Digest challenge, a 404), as a WSGI app of its own: the status and headers
    werkzeug's ``Response`` would send (and in its order), without building one (tested side
    by side). A 200 carries its ETag, Cache-Control and Date (what ``make_conditional``
    adds); other statuses carry ``headers`` after the length."""

    body: bytes
    content_type: str
    status: int = 200
    extra_headers: tuple[tuple[str, str], ...] = ()

    def headers(self) -> list[tuple[str, str]]:
        headers = [("Content-Type", self.content_type), ("Content-Length", str(len(self.body)))]
        if self.status != 200:
            return [*headers, *self.extra_headers]
        return [
            *headers,
            ("ETag", f'"{etag_of(self.body)}"'),
            ("Cache-Control", "no-cache"),
            ("Date", http_date_now()),
        ]

    def __call__(self, _environ: Any, start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response(STATUS_LINES[self.status], self.headers())
        return [self.body]

    def response(self) -> Response:
        """The same answer as a ``Response`` (for Flask's view)."""
        return Response(self.body, status=self.status, headers=self.headers())


# Werkzeug's status lines ("401 UNAUTHORIZED"), made once.
STATUS_LINES = {code: f"{code} {reason.upper()}" for code, reason in HTTP_STATUS_CODES.items()}


def http_date_now() -> str:
    """The Date header's value for now, made once a second (a storm answers thousands)."""
    global _date_made  # noqa: PLW0603 - one (second, text) pair, replaced whole
    second = int(time.time())
    made = _date_made
    if made[0] != second:
        made = _date_made = (second, http_date(second))
    return made[1]


_date_made: tuple[int, str] = (0, "")


# The request headers make_conditional answers (with a 304, 412 or 206); without any of
# them, it only adds the Date.
CONDITIONAL_HEADERS = frozenset(
    {
        "HTTP_IF_NONE_MATCH",
        "HTTP_IF_MODIFIED_SINCE",
        "HTTP_IF_MATCH",
        "HTTP_IF_UNMODIFIED_SINCE",
        "HTTP_IF_RANGE",
        "HTTP_RANGE",
    }
)


def _serve(file: str, authenticated_path: bool) -> Response:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    fetch = Fetch(
        file,
        authenticated_path,
        request.path,
        request.remote_addr or "",
        request.headers.get("User-Agent", ""),
        request.headers.get("Authorization"),
        lambda: request.host_url,
        request.is_secure,
        request.environ,
    )
    response, kind = answer_fetch(app, fetch)
    note_phone_answer(file, kind)
    return response.response() if isinstance(response, PlainAnswer) else response


def _request_info(file: str, authenticated_path: bool) -> RequestInfo:
    return RequestInfo(
        path=file,
        source=request.remote_addr or "",
        protocol="http",
        user_agent=request.headers.get("User-Agent", ""),
        route="/p/a/" if authenticated_path else "/p/",
    )


def _upload(file: str, authenticated_path: bool) -> Response:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    limit = app.config["PHONE_UPLOAD_MAX_BYTES"]
    if (request.content_length or 0) > limit:
        return Response(b"", status=413)
    body = request.stream.read(limit + 1)
    header = _authorization(
        app,
        request.headers.get("Authorization"),
        request.is_secure,
        request.remote_addr or "",
        request.path,
    )
    status = store_upload(
        app, _request_info(file, authenticated_path), body, header, authenticated_path, request.path
    )
    response = Response(b"", status=int(status))
    if status is UploadStatus.CHALLENGE:  # a Digest client needs the challenge to answer it
        _add_challenges(app, response, challenge_headers(nonce_key(app)), request.is_secure)
    if status is UploadStatus.THROTTLED:
        response.headers["Retry-After"] = "60"
    return response


@bp.get("/<path:file>")
def fetch(file: str) -> Response:
    """A file a phone asks for without credentials."""
    return _serve(file, authenticated_path=False)


@bp.get("/a/<path:file>")
def fetch_authenticated(file: str) -> Response:
    """A file a paired phone asks for with its credentials (401 challenges otherwise)."""
    return _serve(file, authenticated_path=True)


@bp.put("/<path:file>")
def upload(file: str) -> Response:
    """A file a phone uploads (Poly logs and overrides)."""
    return _upload(file, authenticated_path=False)


@bp.put("/a/<path:file>")
def upload_authenticated(file: str) -> Response:
    """An upload with the phone's credentials."""
    return _upload(file, authenticated_path=True)
