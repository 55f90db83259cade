"""Routing fixtures: the demo tenant as a document and as routes, and calls through the stand-in."""

from __future__ import annotations

import copy
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from provisioner.routing.engine import walk
from provisioner.routing.route import StoredSound, build_route
from provisioner.routing.session_adapter import SessionAdapter
from provisioner.tenants.schema import TenantDocument
from provisioner.tenants.validation import parse_document
from provisioner.tenants.yaml_io import parse_yaml
from tests.routing.fake_freeswitch import Caller, FreeswitchModule, Session

PROJECT = Path(__file__).resolve().parents[2]
DEMO_FILE = PROJECT / "examples" / "demo.yaml"
DOMAIN = "demo.sip.example.net"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SOUND_DIRECTORY = "/var/cache/provisioner/sounds"


def amsterdam(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock moment in Amsterdam."""
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


def demo_document() -> TenantDocument:
    """examples/demo.yaml, parsed and validated like an import."""
    return parse_document(parse_yaml(DEMO_FILE.read_text()))


def demo_sounds(document: TenantDocument) -> dict[str, StoredSound]:
    """Digests as the store would hold them for the demo's sounds."""
    return {
        sound.name: StoredSound(f"{index:064x}", "audio/mpeg")
        for index, sound in enumerate(document.sounds)
    }


@pytest.fixture
def demo_route() -> dict[str, Any]:
    """The route of 5000 (the Hoofdroute) in the demo tenant."""
    document = demo_document()
    route = build_route(document, "5000", "provider", demo_sounds(document))
    assert route is not None
    return route


def sound_path(name: str) -> str:
    """Where the handler's sound cache keeps a sound (by name here, for readable tests)."""
    return f"{SOUND_DIRECTORY}/{name}"


class Call:
    """One call through the engine and the stand-in session, with what FreeSWITCH received."""

    def __init__(
        self,
        route: dict[str, Any],
        caller: Caller,
        clock: datetime,
        freeswitch: FreeswitchModule | None = None,
    ) -> None:
        self.freeswitch = freeswitch or FreeswitchModule(clock)
        self.session = Session(caller, destination=str(route.get("number", "5000")))
        sounds = {name: sound_path(name) for name in route.get("sounds", {})}
        self.adapter = SessionAdapter(self.session, self.freeswitch, sounds.get, "/tmp")
        self.visited = walk(copy.deepcopy(route), self.adapter)

    @property
    def applications(self) -> list[tuple[str, str]]:
        return self.session.applications

    def application_names(self) -> list[str]:
        return [name for name, _ in self.applications]


def call(
    route: dict[str, Any],
    caller: Caller,
    clock: datetime,
    freeswitch: FreeswitchModule | None = None,
) -> Call:
    """Run one scripted call (on ``freeswitch``, a stand-in switch with its state, if given)."""
    return Call(route, caller, clock, freeswitch)
