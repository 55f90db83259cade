"""provisioner.callrouting end to end: the stand-in switch calls the handler, which talks to a
real HTTP server on an ephemeral loopback port, and keeps routing from its cache when the
server is stopped."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from provisioner import callrouting
from provisioner.store import get_store
from tests.conftest import PROJECT, import_demo, make_app, token_for
from tests.routing.conftest import DOMAIN, amsterdam
from tests.routing.fake_freeswitch import Caller, FreeswitchModule, Press, Session

QUEUE = f"wachtrij-1@{DOMAIN}"

TOKEN = "switch-token-for-the-handler-0123"
OPEN = amsterdam(2026, 11, 25, 10, 0)
WELCOME_DIGEST = hashlib.sha256((PROJECT / "examples/sounds/Welkom.mp3").read_bytes()).hexdigest()


class LiveServer:
    """The app served over real HTTP on 127.0.0.1:<ephemeral>."""

    def __init__(self, tmp_path: Path) -> None:
        self.app = make_app(tmp_path, FREESWITCH_TOKEN=TOKEN)
        import_demo(self.app)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=10)
            self.running = False


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path)
    yield server
    server.stop()
    get_store(server.app).dispose()


@pytest.fixture
def switch(
    tmp_path: Path, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> FreeswitchModule:
    """The stand-in module, with vars.xml globals pointing at the live server."""
    module = FreeswitchModule(OPEN)
    module.globals.update(
        provisioner_url=live_server.url,
        provisioner_token=TOKEN,
        provisioner_cache=str(tmp_path / "cache"),
    )
    monkeypatch.setitem(sys.modules, "freeswitch", module)
    return module


def place_call(caller: Caller, number: str = "5000", args: str | None = None) -> Session:
    session = Session(caller, destination=number)
    session.variables["domain_name"] = DOMAIN
    callrouting.handler(session, args if args is not None else f"demo {number}")
    return session


def test_a_call_is_routed_with_sounds_from_the_server(switch, tmp_path):
    session = place_call(Caller(script=[Press("9")]))
    welcome = str(tmp_path / "cache" / "sounds" / f"{WELCOME_DIGEST}.mp3")
    assert [name for name, _ in session.applications] == [
        "playback",
        "callcenter",
        "play_and_get_digits",
        "voicemail",
    ]
    assert session.applications[0] == ("playback", welcome)
    assert Path(welcome).read_bytes() == (PROJECT / "examples/sounds/Welkom.mp3").read_bytes()
    assert session.applications[-1] == ("voicemail", f"default {DOMAIN} 8000")
    assert any("demo 5000: call_flow:Hoofdroute" in message for _, message in switch.log)


def test_the_cache_routes_calls_while_the_server_is_stopped(switch, live_server):
    first = place_call(Caller(script=[Press("9")]))
    live_server.stop()
    second = place_call(Caller(script=[Press("9")]))
    assert second.applications == first.applications
    assert any("from the cache" in message for level, message in switch.log if level == "warning")


def test_server_down_and_nothing_cached_ends_with_a_goodbye(switch, live_server):
    live_server.stop()
    session = place_call(Caller())
    assert session.applications == [("playback", "voicemail/vm-goodbye.wav")]
    assert ("hangup", "NORMAL_CLEARING") in session.events
    assert any(level == "err" for level, _ in switch.log)


def test_a_change_through_the_api_is_used_on_the_next_call(switch, live_server):
    place_call(Caller(script=[Press("9")]))  # fills the cache
    client = live_server.app.test_client()
    admin = {"Authorization": f"Bearer {token_for(live_server.app, 'admin')}"}
    flow = client.get("/api/v1/tenants/demo/call_flows/Hoofdroute", headers=admin).get_json()
    menu = next(step for step in flow["steps"] if step["id"] == "keuzemenu")
    menu["choices"]["9"] = "allen"
    response = client.put("/api/v1/tenants/demo/call_flows/Hoofdroute", json=flow, headers=admin)
    assert response.status_code == 200, response.get_json()
    session = place_call(Caller(script=[Press("9")]))
    # 9 now rings everybody (and, as nobody answers, then reaches the voicemail box).
    assert [name for name, _ in session.applications][-3:] == [
        "play_and_get_digits",
        "bridge",
        "voicemail",
    ]
    assert "pickup/8500@" in session.applications[-2][1]


def test_the_server_is_found_through_the_environment_too(
    switch, live_server, monkeypatch, tmp_path
):
    switch.globals.clear()
    monkeypatch.setenv("PROVISIONER_URL", live_server.url)
    monkeypatch.setenv("PROVISIONER_TOKEN", TOKEN)
    monkeypatch.setenv("PROVISIONER_CACHE", str(tmp_path / "env-cache"))
    session = place_call(Caller(script=[Press("9")]))
    assert session.applications[-1] == ("voicemail", f"default {DOMAIN} 8000")


def test_a_wrong_token_gets_no_route_and_a_goodbye(switch):
    switch.globals["provisioner_token"] = "guess"
    session = place_call(Caller())
    assert session.applications == [("playback", "voicemail/vm-goodbye.wav")]


def test_bad_arguments_end_politely(switch):
    session = place_call(Caller(), args="demo")
    assert session.applications == [("playback", "voicemail/vm-goodbye.wav")]


def test_an_emergency_number_reaching_the_handler_goes_straight_out(switch, live_server, tmp_path):
    gateway = "sofia/gateway/provider/112"
    session = place_call(Caller(answering={gateway}), number="112")
    assert session.applications == [
        ("bridge", "{ignore_early_media=true}[leg_timeout=60]sofia/gateway/provider/112")
    ]
    live_server.stop()
    switch.globals["provisioner_cache"] = str(tmp_path / "empty-cache")  # nothing to fall back on
    offline = place_call(Caller(answering={gateway}), number="112")
    assert offline.applications == [("transfer", f"112 XML {DOMAIN}")]


def test_importing_the_handler_stays_cheap():
    """mod_python3 re-imports the handler on every call: no Flask, SQLAlchemy or pydantic."""
    code = (
        "import sys, provisioner.callrouting, provisioner.routing.runner;"
        "heavy = ('flask', 'sqlalchemy', 'pydantic', 'lxml');"
        "print([name for name in heavy if name in sys.modules])"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "[]"


def test_a_ring_group_number_through_the_handler(switch):
    session = place_call(Caller(answering={f"user/242@{DOMAIN}"}), number="*8500")
    assert [name for name, _ in session.applications] == ["bridge"]
    assert session.variables["last_bridge_to"] == f"user/242@{DOMAIN}"


def callcenter_conf(server: LiveServer) -> bytes:
    """callcenter.conf as mod_xml_curl fetches it (form POST, Basic credentials)."""
    form = {
        "section": "configuration",
        "tag_name": "configuration",
        "key_name": "name",
        "key_value": "callcenter.conf",
    }
    credentials = base64.b64encode(f"freeswitch:{TOKEN}".encode()).decode()
    request = urllib.request.Request(
        server.url + "/freeswitch/xml",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Authorization": f"Basic {credentials}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        content: bytes = response.read()
    return content


def test_taking_242_out_of_wachtrij_1_removes_it_on_the_switch_and_spares_breaks(
    switch, live_server
):
    switch.callcenter.configuration = callcenter_conf(live_server)
    switch.callcenter.start()  # mod_callcenter loading at switch start-up
    switch.callcenter.agents[f"241@{DOMAIN}"]["status"] = "On Break"
    client = live_server.app.test_client()
    admin = {"Authorization": f"Bearer {token_for(live_server.app, 'admin')}"}
    path = "/api/v1/tenants/demo/queues/Wachtrij%201"
    queue = client.get(path, headers=admin).get_json()
    queue["agents"] = ["240", "241"]
    response = client.put(path, json=queue, headers=admin)
    assert response.status_code == 200, response.get_json()
    switch.callcenter.configuration = callcenter_conf(live_server)  # if the switch asked now

    place_call(Caller(agent_answers=True))

    assert f"callcenter_config tier del {QUEUE} 242@{DOMAIN}" in switch.api_commands
    assert (QUEUE, f"242@{DOMAIN}") not in switch.callcenter.tiers
    assert switch.callcenter.agents[f"241@{DOMAIN}"]["status"] == "On Break"
    assert switch.callcenter.fetches == 1  # only at start-up: no callcenter.conf per caller
    assert any(f"queue {QUEUE}: tier del" in message for _, message in switch.log)
