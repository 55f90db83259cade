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
