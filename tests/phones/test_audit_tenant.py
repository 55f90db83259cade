"""Every audit event about a tenant's data names the tenant, so the tenant's audit view
(``GET /api/v1/audit?tenant=``) shows all of it: pairing, a first-use conflict, the secrets a
phone fetched, unpairing, imports. Only API tokens, which no tenant owns, have none."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from provisioner.pairing import service
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store, models
from tests.conftest import DEMO_FILE
from tests.phones.conftest import pair
from tests.phones.samples import SAMPLES
from tests.phones.test_boot import boot


def test_every_event_about_a_tenant_names_it(phone_app: Flask, live_server: str) -> None:
    sample = SAMPLES[0]
    pair(phone_app, sample.mac, sample.vendor, sample.model)
    boot(live_server, sample)  # secrets released through the window
    boot(live_server, sample, source="127.0.0.2")  # the first-use conflict
    runner = phone_app.test_cli_runner()
    assert runner.invoke(args=["token", "create", "--role", "support"]).exit_code == 0
    assert runner.invoke(args=["export", "demo", "--include-secrets"]).exit_code == 0
    with get_store(phone_app).transaction() as session:
        service.unpair(session, get_secret_box(phone_app), "demo", sample.mac, "test")
    assert runner.invoke(args=["import", str(DEMO_FILE), "--yes"]).exit_code == 0
    with get_store(phone_app).reading() as session:
        events = session.scalars(select(models.AuditEvent)).all()
    actions = {event.action for event in events}
    assert {"pair", "release-secret", "first-use-conflict", "unpair", "rotate-secret"} <= actions
    assert [
        (event.action, event.object_type, event.object_key)
        for event in events
        if event.tenant is None and event.object_type != "api_token"
    ] == []
