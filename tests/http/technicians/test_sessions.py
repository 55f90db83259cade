"""Sessions on the technicians' page are held on the server: sign-out, idle time, age and a
revoked token end them, and a copy of the cookie taken before opens nothing after."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from provisioner.store import get_store, models
from tests.http.technicians.test_pages import audit, csrf, sign_in

COOKIE = "provisioner_session"


def _copy_of_cookie(client: FlaskClient, app: Flask) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie."""
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    other = app.test_client()
    other.set_cookie(COOKIE, cookie.value)
    return other


def _age_session(app: Flask, column: str, age: timedelta) -> None:
    """Move the one session's ``column`` back by ``age``, as if that time had passed."""
    with get_store(app).transaction() as session:
        row = session.scalars(select(models.TechnicianSession)).one()
        session.execute(
            update(models.TechnicianSession)
            .where(models.TechnicianSession.id == row.id)
            .values({column: getattr(row, column) - age})
        )


def _opens_the_page(client: FlaskClient) -> bool:
    answer = client.get("/t/")
    assert answer.status_code in (200, 302)
    return answer.status_code == 200


def test_a_cookie_copied_before_sign_out_is_refused_after_it(
    client: FlaskClient, demo_app: Flask
) -> None:
    sign_in(client, demo_app, "technician")
    thief = _copy_of_cookie(client, demo_app)
    assert _opens_the_page(thief)  # the copy works while the session lives
    answer = client.post("/t/sign-out", data={"csrf_token": csrf(client, "/t/")})
    assert answer.status_code == 302
    assert not _opens_the_page(thief)
    assert not _opens_the_page(client)
    assert [event.actor for event in audit(demo_app, "sign-out")] == ["token:technician-test"]
    with get_store(demo_app).reading() as session:
        assert session.scalars(select(models.TechnicianSession)).all() == []


@pytest.mark.parametrize(
    ("column", "age", "reason"),
    [
        ("last_seen_at", timedelta(minutes=31), "idle"),
        ("created_at", timedelta(hours=13), "session too old"),
    ],
    ids=["idle", "too-old"],
)
def test_an_idle_or_old_session_ends_on_the_server(
    client: FlaskClient, demo_app: Flask, column: str, age: timedelta, reason: str
) -> None:
    sign_in(client, demo_app, "technician")
    thief = _copy_of_cookie(client, demo_app)
    _age_session(demo_app, column, age)
    assert not _opens_the_page(thief)
    assert not _opens_the_page(client)  # the row is gone for every copy
    ended = audit(demo_app, "session-ended")
    assert [event.changes["reason"] for event in ended] == [reason]


def test_a_session_in_use_stays_open(client: FlaskClient, demo_app: Flask) -> None:
    """Use within the idle time keeps it: last use is recorded (once a minute at most)."""
    sign_in(client, demo_app, "technician")
    _age_session(demo_app, "last_seen_at", timedelta(minutes=20))
    assert _opens_the_page(client)
    _age_session(demo_app, "last_seen_at", timedelta(minutes=20))
    assert _opens_the_page(client)  # 20 minutes since the last use, not 40 since sign-in


def test_signing_in_again_starts_a_new_session_and_the_old_cookie_dies_with_sign_out(
    client: FlaskClient, demo_app: Flask
) -> None:
    """Each sign-in has its own row: signing out one browser leaves another signed in."""
    sign_in(client, demo_app, "technician")
    laptop = demo_app.test_client()
    sign_in(laptop, demo_app, "technician")
    client.post("/t/sign-out", data={"csrf_token": csrf(client, "/t/")})
    assert not _opens_the_page(client) and _opens_the_page(laptop)
