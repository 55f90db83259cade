"""Phones' GETs are answered past Flask's dispatch, with exactly the bytes the Flask view
gives: status, headers and body, for every kind of answer."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

from flask import Flask, Response
from werkzeug.http import parse_date
from werkzeug.test import EnvironBuilder, run_wsgi_app

from provisioner.store import get_store
from tests.conftest import import_demo, make_app
from tests.phones.conftest import deployed_phone

MAC = "805ec0aa0404"
AGENT = "Yealink SIP-T46U 108.86.0.90 80:5e:c0:aa:04:04"


def paired_app(tmp_path: Path) -> tuple[Flask, str]:
    app = make_app(tmp_path, ALLOW_BASIC_OVER_HTTP=True, PHONE_MISS_LIMIT=1000)
    import_demo(app)
    return app, deployed_phone(app, MAC)


def answer(app: Flask, path: str, **headers: str) -> tuple[str, list[tuple[str, str]], bytes]:
    environ = EnvironBuilder(
        path=path,
        headers={"User-Agent": AGENT, **headers},
        environ_base={"REMOTE_ADDR": "127.0.0.9"},
    ).get_environ()
    body, status, response_headers = run_wsgi_app(app.wsgi_app, environ, buffered=True)
    kept = [
        (name, re.sub(r'nonce="[^"]+"', 'nonce="-"', value))
        for name, value in response_headers
        if name != "Date"
    ]
    return status, kept, b"".join(body)


def test_the_fast_path_answers_what_the_view_answers(tmp_path: Path) -> None:
    app, basic = paired_app(tmp_path)
    dispatched: list[str] = []
    app.before_request(lambda: dispatched.append("flask"))
    full = answer(app, f"/p/a/{MAC}.cfg", Authorization=basic)
    etag = dict(full[1])["ETag"]
    cases = [
        ("/p/y000000000028.cfg", {}),  # common file
        ("/p/805ec0999999.cfg", {}),  # an unknown MAC's bootstrap
        (f"/p/{MAC}.cfg", {}),  # a paired MAC without proof: the same bootstrap
        (f"/p/a/{MAC}.cfg", {"Authorization": basic}),  # the full file
        (f"/p/a/{MAC}.cfg", {"Authorization": basic, "If-None-Match": etag}),  # 304
        (f"/p/a/{MAC}.cfg", {}),  # the challenge
        (f"/p/a/{MAC}.cfg", {"Authorization": "Basic bm86cGU="}),  # a wrong password
        ("/p/no-phone-asks-this.txt", {}),  # no phone's name
    ]
    app.config["PHONE_FAST_PATH"] = True
    fast = [answer(app, path, **headers) for path, headers in cases]
    assert dispatched == []  # none of them went through Flask
    app.config["PHONE_FAST_PATH"] = False
    viewed = [answer(app, path, **headers) for path, headers in cases]
    assert len(dispatched) == len(cases)
    assert fast == viewed
    assert [status for status, _, _ in fast] == [
        "200 OK",
        "200 OK",
        "200 OK",
        "200 OK",
        "304 NOT MODIFIED",
        "401 UNAUTHORIZED",
        "401 UNAUTHORIZED",
        "404 NOT FOUND",
    ]
    get_store(app).dispose()


def test_other_requests_go_to_flask(tmp_path: Path) -> None:
    app, _ = paired_app(tmp_path)
    dispatched: list[str] = []
    app.before_request(lambda: dispatched.append("flask"))
    for path in ("/healthz", "/p/firmware/x/y/z.bin", "/p//805ec0999999.cfg", "/p/"):
        answer(app, path)
    assert len(dispatched) == 4
    get_store(app).dispose()


def test_a_plain_answer_is_what_werkzeug_would_send() -> None:
    from provisioner.http.phones import PlainAnswer

    body = b"#!version:1.0.0.1\naccount.1.enable = 1\n"
    reference = Response(body, status=200, content_type="text/plain")  # the full way
    reference.set_etag(hashlib.sha256(body).hexdigest())
    reference.headers["Cache-Control"] = "no-cache"
    environ = EnvironBuilder(path="/p/x.cfg").get_environ()
    reference.make_conditional(environ)
    sent = [
        run_wsgi_app(app, environ, buffered=True)
        for app in (reference, PlainAnswer(body, "text/plain"))
    ]
    (
        (reference_body, reference_status, reference_headers),
        (plain_body, plain_status, plain_headers),
    ) = sent
    assert plain_status == reference_status == "200 OK"
    assert b"".join(plain_body) == b"".join(reference_body) == body

    def without_date(headers: object) -> list[tuple[str, str]]:
        return [(name, value) for name, value in headers if name != "Date"]  # type: ignore[attr-defined]

    assert without_date(plain_headers) == without_date(reference_headers)
    assert [name for name, _ in plain_headers] == [name for name, _ in reference_headers]
    date = parse_date(dict(plain_headers)["Date"])  # made once a second, still now
    assert date is not None and abs(date.timestamp() - time.time()) < 5


def test_a_plain_challenge_or_refusal_is_what_werkzeug_would_send() -> None:
    from provisioner.http.phones import PlainAnswer

    challenges = (
        ("WWW-Authenticate", 'Digest realm="provisioner", qop="auth", nonce="1.2.3"'),
        ("WWW-Authenticate", 'Basic realm="provisioner"'),
    )
    environ = EnvironBuilder(path="/p/a/x.cfg").get_environ()
    for status, headers in ((401, challenges), (429, (("Retry-After", "60"),)), (404, ())):
        reference = Response(b"", status=status, content_type="text/plain")
        for name, value in headers:
            reference.headers.add(name, value)
        sent = [
            run_wsgi_app(app, environ, buffered=True)
            for app in (reference, PlainAnswer(b"", "text/plain", status, headers))
        ]
        assert sent[0][1] == sent[1][1]  # the status line, e.g. "401 UNAUTHORIZED"
        assert list(sent[0][2]) == list(sent[1][2])  # every header, in order
        assert b"".join(sent[0][0]) == b"".join(sent[1][0]) == b""
