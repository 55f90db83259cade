"""The switch's standby watch: it keeps the pack, stands by after two missed polls, and lets
go at the first answer (provisioner.routing.standby_watch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from provisioner.routing.client import ServerUnreachable
from provisioner.routing.standby_watch import EMPTY_INCLUDE, StandbyWatch, include_files

PACK = (
    b'<document type="freeswitch/xml"><section name="directory"><domain name="d"/></section>'
    b'<section name="dialplan"><context name="d"/><context name="public"/></section></document>'
)


@dataclass
class Provisioner:
    """The server as the watch sees it: up with a pack, or unreachable."""

    cache_directory: str
    up: bool = True
    polls: list[str] = field(default_factory=list)

    def standby(self, etag: str = "") -> tuple[bytes | None, str]:
        self.polls.append(etag)
        if not self.up:
            raise ServerUnreachable("connection refused")
        return (None, etag) if etag == "v1" else (PACK, "v1")


def watch(tmp_path: Path) -> tuple[StandbyWatch, Provisioner, list[str]]:
    server = Provisioner(str(tmp_path / "cache"))
    reloads: list[str] = []
    standby = StandbyWatch(
        server,
        str(tmp_path / "conf" / "provisioner-standby"),
        lambda: reloads.append("reloadxml"),
        lambda level, message: None,
    )
    return standby, server, reloads


def includes(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "conf" / "provisioner-standby"
    return {name: (folder / f"{name}.xml").read_text() for name in ("directory", "dialplan")}


def test_the_include_files_hold_each_sections_elements_on_lines_of_their_own():
    files = include_files(PACK)
    assert files["directory"] == '<include>\n<domain name="d" />\n</include>\n'
    assert files["dialplan"].splitlines()[0] == "<include>"
    assert files["dialplan"].count("<context") == 2
    assert include_files(None) == {"directory": EMPTY_INCLUDE, "dialplan": EMPTY_INCLUDE}


def test_two_missed_polls_put_the_kept_pack_in_place_and_reload(tmp_path):
    standby, server, reloads = watch(tmp_path)
    standby.poll()  # keeps the pack
    assert server.polls == [""] and reloads == []
    server.up = False
    standby.poll()
    assert reloads == []  # one miss may be a blip
    standby.poll()
    assert reloads == ["reloadxml"] and standby.standing_by
    assert '<domain name="d" />' in includes(tmp_path)["directory"]


def test_the_first_answer_again_empties_the_includes(tmp_path):
    standby, server, reloads = watch(tmp_path)
    standby.poll()
    server.up = False
    standby.poll()
    standby.poll()
    server.up = True
    standby.poll()
    assert server.polls[-1] == "v1"  # asked with the kept pack's tag: a 304 costs nothing
    assert reloads == ["reloadxml", "reloadxml"] and not standby.standing_by
    assert includes(tmp_path) == {"directory": EMPTY_INCLUDE, "dialplan": EMPTY_INCLUDE}


def test_without_a_kept_pack_the_switch_does_not_stand_by(tmp_path):
    standby, server, reloads = watch(tmp_path)
    server.up = False
    for _ in range(3):
        standby.poll()
    assert reloads == [] and not standby.standing_by
