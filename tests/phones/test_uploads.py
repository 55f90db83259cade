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


def test_an_upload_inside_the_window_binds_it_like_a_download(phone_app: Flask) -> None:
    """The first-use window is for one device: once an address used it (here by uploading),
    another address can neither upload nor fetch secrets through it."""
    pair(phone_app, MAC, "polycom", "VVX450")
    client = phone_app.test_client()

    def put_from(source: str) -> int:
        answer = client.put(
            f"/p/{MAC}-app.log", data=source.encode(), environ_base={"REMOTE_ADDR": source}
        )
        return answer.status_code

    assert put_from("127.0.0.2") == 204 and put_from("127.0.0.3") == 204  # alike for both
    with get_store(phone_app).reading() as session:
        stored = session.scalar(select(models.PhoneUpload).where(models.PhoneUpload.mac == MAC))
        assert stored is not None and stored.content == b"127.0.0.2"
        credential = session.scalar(
            select(models.DeviceCredential).where(models.DeviceCredential.mac == MAC)
        )
        assert credential is not None and credential.window_source == "127.0.0.2"
