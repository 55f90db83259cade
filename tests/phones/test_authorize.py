"""Deciding what a request earns, at the level of ``authorize.decide`` (no HTTP in between)."""

from __future__ import annotations

from pathlib import Path

from provisioner.pairing import flush_timeline
from provisioner.pairing.credentials import find_credential
from provisioner.phones.authorize import Asked, decide
from provisioner.phones.identify import identify
from provisioner.phones.model import Answer, RequestInfo
from provisioner.store import get_store
from tests.conftest import import_demo, make_app
from tests.phones.conftest import pair
from tests.phones.samples import SAMPLES

SAMPLE = SAMPLES[0]
DEVICE_FILE = f"{SAMPLE.mac}.cfg"


def asked_from(source: str) -> Asked:
    request = RequestInfo(DEVICE_FILE, source, "http", SAMPLE.user_agent)
    file_request = identify(request)
    assert file_request is not None
    return Asked(file_request, request, "http://prov.example.net/p/", None, False)


def test_first_use_window_cannot_be_raced(tmp_path: Path, database_url: str) -> None:
    """Two addresses inside the open window at once: only one of them gets the secrets."""
    phone_app = make_app(tmp_path, database_url)
    import_demo(phone_app)
    pair(phone_app, SAMPLE.mac, SAMPLE.vendor, SAMPLE.model)
    store = get_store(phone_app)
    with store.transaction() as slow:
        # The slow request has seen the window open and unbound ...
        credential = find_credential(slow, SAMPLE.mac)
        assert credential is not None and credential.window_source is None
        # ... when another address uses the window and commits first.
        with store.transaction() as fast:
            assert decide(phone_app, fast, asked_from("127.0.0.2")).answer is Answer.FULL
        second = decide(phone_app, slow, asked_from("127.0.0.3"))
    assert second.answer is not Answer.FULL and second.full is None
    with store.reading() as session:
        bound = find_credential(session, SAMPLE.mac)
        assert bound is not None and bound.window_source == "127.0.0.2"
    flush_timeline(phone_app)  # the release's audit row, before the schema goes
    store.dispose()
