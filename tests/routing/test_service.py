"""The server side of FreeSWITCH's questions, against a real store."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, select

from provisioner.routing import service
from provisioner.routing.directory import DirectoryRequest
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store, models
from tests.conftest import import_demo, make_app
from tests.routing.dialplan_evaluator import route_number

DOMAIN = "demo.sip.example.net"


@pytest.fixture
def big_tenant(tmp_path: Path) -> Flask:
    """The demo tenant with 200 more extensions."""
    application = make_app(tmp_path)
    import_demo(application)
    box = get_secret_box(application)
    with get_store(application).transaction() as session:
        tenant = session.scalar(select(models.Tenant).where(models.Tenant.name == "demo"))
        for number in range(300, 500):
            session.add(
                models.Extension(
                    tenant_id=tenant.id,
                    number=str(number),
                    name=f"Collega {number}",
                    sip_password_encrypted=box.encrypt(f"password-{number}-abcdef"),
                )
            )
    yield application
    get_store(application).dispose()


def test_a_one_user_lookup_reads_that_user_only(big_tenant):
    """A registration storm must not load every extension of the tenant per REGISTER."""
    loaded: list[str] = []

    def count(target: models.Extension, _context: object) -> None:
        loaded.append(target.number)

    event.listen(models.Extension, "load", count)
    try:
        request = DirectoryRequest(domain=DOMAIN, user="412", action="sip_auth")
        with get_store(big_tenant).transaction() as session:
            answer = service.directory_answer(session, get_secret_box(big_tenant), request, "test")
    finally:
        event.remove(models.Extension, "load", count)
    assert answer is not None and b'id="412"' in answer
    assert set(loaded) == {"412"}


def dialplan_answers(app, destinations: list[str]) -> tuple[list[bytes | None], set[str]]:
    """The dialplan answers for ``destinations``, and the extensions read to make them."""
    loaded: list[str] = []

    def count(target: models.Extension, _context: object) -> None:
        loaded.append(target.number)

    settings = service.SwitchSettings(gateway="provider", country="NL")
    event.listen(models.Extension, "load", count)
    try:
        with get_store(app).reading() as session:
            answers = [
                service.dialplan_answer(session, DOMAIN, destination, settings)
                for destination in destinations
            ]
    finally:
        event.remove(models.Extension, "load", count)
    return answers, set(loaded)


def test_a_dialplan_lookup_reads_only_the_dialled_extension(big_tenant):
    """Each call's dialplan holds the extension it can reach, not all 200 of the tenant."""
    (answer, flow), loaded = dialplan_answers(big_tenant, ["412", "5000"])
    assert loaded == {"412"}
    assert answer is not None and flow is not None
    assert route_number(answer, DOMAIN, "412")[0] == "extension 412"
    assert route_number(answer, DOMAIN, "112")[0] == "emergency"
    assert route_number(flow, DOMAIN, "5000")[0] == "number 5000"
    assert route_number(flow, DOMAIN, "0612345678")[0] == "outside"


def test_a_directed_pickup_reads_only_the_colleague_it_names(big_tenant):
    """``*8412`` (a BLF key on 412) needs extension 412, and only it, to take 412's call."""
    (answer,), loaded = dialplan_answers(big_tenant, ["*8412"])
    assert loaded == {"412"}
    assert answer is not None
    assert route_number(answer, DOMAIN, "*8412")[0] == "directed pickup"
