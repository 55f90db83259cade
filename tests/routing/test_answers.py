"""Answers kept per process under the tenants' revisions: the same bytes as built fresh, one
small query per kept lookup, stale from the change's commit on, never frozen in time."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, select

from provisioner.routing import service
from provisioner.routing.answers import AnswerCache, get_answer_cache
from provisioner.routing.directory import DirectoryRequest
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store, models
from provisioner.tenants.repository import load_document, save_document
from tests.conftest import import_demo, make_app
from tests.routing.conftest import DOMAIN, amsterdam, call, sound_path
from tests.routing.fake_freeswitch import Caller

SETTINGS = service.SwitchSettings(gateway="provider", country="NL")
DIRECTORY_REQUESTS = [
    DirectoryRequest(domain=DOMAIN, user="240", action="sip_auth"),
    DirectoryRequest(domain=DOMAIN, user="240", action="user_call"),
    DirectoryRequest(domain=DOMAIN, user="8000", action="message-count"),
    DirectoryRequest(domain=DOMAIN, user="8000", action="sip_auth"),
    DirectoryRequest(domain=DOMAIN, user="999", action="sip_auth"),
    DirectoryRequest(domain=DOMAIN, action="group_call"),
    DirectoryRequest(domain=DOMAIN, purpose="gateways"),
    DirectoryRequest(domain="nobody.example.net", user="240", action="sip_auth"),
]
DIALLED = [(DOMAIN, "240"), (DOMAIN, "5000"), (DOMAIN, "112"), (DOMAIN, "0612345678")]
DIALLED += [("public", "0202103356"), ("public", "+31202103356"), ("public", "112")]
DIALLED += [("public", "0201111111"), ("nobody.example.net", "240")]


@pytest.fixture
def demo(tmp_path: Path) -> Flask:
    application = make_app(tmp_path)
    import_demo(application)
    yield application
    get_store(application).dispose()


def test_the_cache_keeps_at_most_its_size_and_drops_the_least_recently_used():
    cache = AnswerCache(kept=2)
    cache.put("a", b"1")
    cache.put("b", b"2")
    assert cache.get("a") == b"1"  # "b" is now the least recently used
    cache.put("c", b"3")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"1", None, b"3")
    assert len(cache) == 2


def test_one_cache_per_app(demo, tmp_path):
    other = make_app(tmp_path / "other")
    assert get_answer_cache(demo) is get_answer_cache(demo)
    assert get_answer_cache(demo) is not get_answer_cache(other)
    get_store(other).dispose()


@pytest.mark.parametrize("request_", DIRECTORY_REQUESTS, ids=repr)
def test_a_kept_directory_answer_is_the_fresh_one_byte_for_byte(demo, request_):
    box, cache = get_secret_box(demo), AnswerCache()
    with get_store(demo).statements() as session:
        fresh = service.directory_answer(session, box, request_, "test")
        built = service.directory_answer(session, box, request_, "test", cache)
        kept = service.directory_answer(session, box, request_, "test", cache)
    assert fresh == built == kept


@pytest.mark.parametrize(("context", "number"), DIALLED)
def test_a_kept_dialplan_is_the_fresh_one_byte_for_byte(demo, context, number):
    cache = AnswerCache()
    with get_store(demo).statements() as session:
        fresh = service.dialplan_answer(session, context, number, SETTINGS)
        built = service.dialplan_answer(session, context, number, SETTINGS, cache)
        kept = service.dialplan_answer(session, context, number, SETTINGS, cache)
    assert fresh == built == kept


def test_kept_callcenter_and_route_are_the_fresh_ones(demo):
    cache = AnswerCache()
    with get_store(demo).statements() as session:
        fresh = (
            service.callcenter_answer(session),
            service.route_answer(session, "demo", "5000", SETTINGS),
        )
        for _ in range(2):
            kept = (
                service.callcenter_answer(session, cache),
                service.route_answer(session, "demo", "5000", SETTINGS, cache),
            )
            assert kept == fresh


def statements_of(app: Flask, work) -> list[str]:
    """The SQL statements ``work(session)`` sends."""
    sent: list[str] = []

    def keep(_connection, _cursor, statement, *_arguments) -> None:
        sent.append(statement.split()[0].upper())

    engine = get_store(app).engine
    event.listen(engine, "before_cursor_execute", keep)
    try:
        with get_store(app).statements() as session:
            work(session)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return sent


def test_a_kept_lookup_reads_one_row_and_writes_only_the_audit(demo):
    box, cache = get_secret_box(demo), AnswerCache()
    registration = DirectoryRequest(domain=DOMAIN, user="240", action="sip_auth")

    def register(session):
        service.directory_answer(session, box, registration, "test", cache)

    def dial(session):
        service.dialplan_answer(session, DOMAIN, "240", SETTINGS, cache)

    assert len(statements_of(demo, register)) > 2  # the first builds the answer
    assert statements_of(demo, register) == ["SELECT", "INSERT"]
    statements_of(demo, dial)
    assert statements_of(demo, dial) == ["SELECT"]


@pytest.mark.parametrize(
    ("user", "action"), [("8000", "some-new-action"), ("240", "voicemail-lookup")]
)
def test_a_throwaway_hash_is_not_kept(demo, user, action):
    """Secrets without the SIP password (a voicemail-only box, a voicemail lookup) come with
    the hash of a random secret, new in each answer."""
    box, cache = get_secret_box(demo), AnswerCache()
    request_ = DirectoryRequest(domain=DOMAIN, user=user, action=action)
    with get_store(demo).statements() as session:
        first = service.directory_answer(session, box, request_, "test", cache)
        second = service.directory_answer(session, box, request_, "test", cache)
    assert first is not None and first != second
    assert len(cache) == 0


def test_a_change_in_the_service_is_seen_by_the_next_lookup(demo):
    box, cache = get_secret_box(demo), AnswerCache()
    with get_store(demo).statements() as session:
        before = service.dialplan_answer(session, DOMAIN, "5000", SETTINGS, cache)
    with get_store(demo).transaction() as session:
        tenant = session.scalar(select(models.Tenant).where(models.Tenant.name == "demo"))
        document = load_document(session, tenant)
        support = document.ring_groups[0].model_copy(update={"number": "*8600", "name": "Hulp"})
        groups = [*document.ring_groups, support]
        save_document(session, document.model_copy(update={"ring_groups": groups}), "test", box)
    with get_store(demo).statements() as session:
        after = service.dialplan_answer(session, DOMAIN, "5000", SETTINGS, cache)
        fresh = service.dialplan_answer(session, DOMAIN, "5000", SETTINGS)
    assert before is not None and b"number *8600" not in before
    assert after == fresh and b"number *8600" in after


def test_a_kept_route_still_decides_opening_hours_at_call_time(demo):
    """Time conditions travel as rules: the same kept route is open at 10:00, closed at 18:00."""
    cache = AnswerCache()
    with get_store(demo).statements() as session:
        service.route_answer(session, "demo", "5000", SETTINGS, cache)
        route = service.route_answer(session, "demo", "5000", SETTINGS, cache)
    assert route is not None and route["time_conditions"]
    opened = call(route, Caller(), amsterdam(2026, 11, 25, 10, 0))
    closed = call(route, Caller(), amsterdam(2026, 11, 25, 18, 0))
    assert opened.applications[0] == ("playback", sound_path("Welkom.mp3"))
    assert closed.applications[0] == ("playback", sound_path("Gesloten.mp3"))
    assert service.route_answer(session, "demo", "5000", SETTINGS, cache) == route
