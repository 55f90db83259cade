"""Re-pairing a deployed phone, over real HTTP: the phone keeps its credentials (they belong to
the device, not the line), so its next boot over ``/p/a/`` gets the new file; the lines are
replaced unless a line is added, and the lines it lost get new SIP passwords."""

from __future__ import annotations

import urllib.request

from flask import Flask

from provisioner.pairing import service
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store
from tests.phones.conftest import pair, sip_password
from tests.phones.readers import READERS
from tests.phones.samples import SAMPLES
from tests.phones.test_boot import boot, credentials, device_name

SAMPLE = SAMPLES[0]  # a Yealink T46U


def digest_fetch(base_url: str, login: dict[str, str]) -> bytes:
    """The phone's file over /p/a/ with Digest, as a phone's HTTP stack answers the 401."""
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, base_url, login["username"], login["password"])
    opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(manager))
    request = urllib.request.Request(
        f"{base_url}/p/a/{device_name(SAMPLE)}", headers={"User-Agent": SAMPLE.user_agent}
    )
    with opener.open(request, timeout=10) as response:
        body: bytes = response.read()
    return body


def repair(app: Flask, extension: str, add_line: bool = False) -> service.Pairing:
    with get_store(app).transaction() as session:
        return service.pair(
            session,
            get_secret_box(app),
            "demo",
            SAMPLE.mac,
            extension,
            "test",
            30,
            add_line=add_line,
        )


def test_a_repaired_phone_boots_over_the_authenticated_path_with_its_old_credentials(
    phone_app: Flask, live_server: str
) -> None:
    pair(phone_app, SAMPLE.mac, SAMPLE.vendor, SAMPLE.model)
    assert READERS["yealink"](boot(live_server, SAMPLE)).user == "240"
    old_login = credentials(phone_app, SAMPLE.mac)  # what the phone now sends on /p/a/

    pairing = repair(phone_app, "241")

    facts = READERS["yealink"]({"device": digest_fetch(live_server, old_login)})
    assert facts.user == "241" and facts.password == sip_password(phone_app, "241")
    assert pairing.lines == ("241",)


def test_repairing_replaces_the_lines_unless_told_to_add(phone_app: Flask) -> None:
    pair(phone_app, SAMPLE.mac, SAMPLE.vendor, SAMPLE.model)
    assert repair(phone_app, "241").lines == ("241",)
    assert repair(phone_app, "242", add_line=True).lines == ("242", "241")
    assert repair(phone_app, "241", add_line=True).lines == ("241", "242")


def test_lines_a_repaired_phone_lost_get_new_sip_passwords(phone_app: Flask) -> None:
    pair(phone_app, SAMPLE.mac, SAMPLE.vendor, SAMPLE.model)
    before = {number: sip_password(phone_app, number) for number in ("240", "241")}
    repair(phone_app, "241")
    assert sip_password(phone_app, "240") != before["240"]  # it was in the phone's old file
    assert sip_password(phone_app, "241") == before["241"]


def test_a_repaired_phone_proving_itself_closes_the_window_to_other_addresses(
    phone_app: Flask, live_server: str
) -> None:
    """A re-pair opens a first-use window, but the deployed phone needs none: once it proves
    itself with its credentials, the window is bound to its address."""
    pair(phone_app, SAMPLE.mac, SAMPLE.vendor, SAMPLE.model)
    boot(live_server, SAMPLE)
    login = credentials(phone_app, SAMPLE.mac)
    repair(phone_app, "241")
    digest_fetch(live_server, login)  # from 127.0.0.1
    stolen = READERS["yealink"](boot(live_server, SAMPLE, source="127.0.0.2"))
    assert stolen.password is None
