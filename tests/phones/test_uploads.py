"""Poly's uploads with credentials, over real HTTP with a Digest client."""

from __future__ import annotations

import urllib.request

from flask import Flask
from sqlalchemy import select

from provisioner.pairing import service
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store, models
from tests.phones.conftest import pair

MAC = "64167f000042"


def test_authenticated_upload_answers_a_challenge_a_digest_client_can_meet(
    phone_app: Flask, live_server: str
) -> None:
    pair(phone_app, MAC, "polycom", "VVX450")
    with get_store(phone_app).transaction() as session:
        login = service.reveal_credential(session, get_secret_box(phone_app), "demo", MAC, "test")
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, live_server, login["username"], login["password"])
    opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(manager))
    request = urllib.request.Request(
        f"{live_server}/p/a/{MAC}-app.log", data=b"boot log", method="PUT"
    )
    with opener.open(request, timeout=10) as response:
        assert response.status == 204
    with get_store(phone_app).reading() as session:
        stored = session.scalar(select(models.PhoneUpload).where(models.PhoneUpload.mac == MAC))
        assert stored is not None and stored.content == b"boot log"
