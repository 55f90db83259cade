"""The switch's side of the standby pack (``provisioner.routing.standby``).

Run by mod_python3 as a startup script (``runtime`` in ``provisioner.callrouting``), in a
thread of its own for the switch's lifetime. Every ``provisioner_standby_interval`` seconds
(default 30) it asks provisioner for the pack (``GET /freeswitch/standby``, with the ETag of the
one it keeps, so an unchanged pack costs a 304) and keeps it in the cache folder. After
``MISSES_BEFORE_STANDBY`` polls in a row that could not reach provisioner, it writes the kept
pack into ``<conf_dir>/provisioner-standby/{directory,dialplan}.xml`` (which freeswitch.xml
includes in its directory and dialplan sections) and runs ``reloadxml``: phones then register
and call, 112 included, against the static copy, and call flows run from the handler's cache.
The first poll that reaches provisioner again empties both files and reloads, so every answer
comes from provisioner once more. Standard library only: this runs inside FreeSWITCH.
"""

from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from provisioner.routing.client import ServerUnreachable, write_atomically

MISSES_BEFORE_STANDBY = 2
DEFAULT_INTERVAL_SECONDS = 30.0
INCLUDE_FOLDER = "provisioner-standby"
SECTIONS = ("directory", "dialplan")
EMPTY_INCLUDE = "<include>\n</include>\n"


def include_files(pack: bytes | None) -> dict[str, str]:
    """The include file of each section: the pack's elements of that section, or nothing.

    FreeSWITCH's pre-processor drops lines holding ``<include>``, so those stand alone."""
    if pack is None:
        return dict.fromkeys(SECTIONS, EMPTY_INCLUDE)
    root = ElementTree.fromstring(pack)
    files = {}
    for name in SECTIONS:
        section = root.find(f"section[@name='{name}']")
        children = [] if section is None else list(section)
        body = "\n".join(ElementTree.tostring(child, encoding="unicode") for child in children)
        files[name] = f"<include>\n{body}\n</include>\n"
    return files


class PackSource(Protocol):
    """Where the pack comes from: ``provisioner.routing.client.RouteClient``."""

    @property
    def cache_directory(self) -> str:
        """The folder where the pack is kept."""

    def standby(self, etag: str = "") -> tuple[bytes | None, str]:
        """The pack and its tag; None when it is still the one tagged ``etag``."""


@dataclass
class StandbyWatch:
    """One switch's watch: the pack it keeps and whether the switch stands by on it."""

    client: PackSource
    include_folder: str
    reload: Callable[[], object]
    log: Callable[[str, str], None]
    misses: int = 0
    standing_by: bool = False

    @property
    def pack_file(self) -> str:
        """Where the newest pack is kept."""
        return os.path.join(self.client.cache_directory, "standby", "pack.xml")

    def kept_pack(self) -> bytes | None:
        """The pack kept from the last poll that got one."""
        try:
            with open(self.pack_file, "rb") as kept:
                return kept.read()
        except OSError:
            return None

    def poll(self) -> None:
        """Ask provisioner once; stand by, or stop standing by, as the answer says."""
        try:
            pack, etag = self.client.standby(self._kept_etag())
        except ServerUnreachable as exc:
            self.misses += 1
            if not self.standing_by and self.misses >= MISSES_BEFORE_STANDBY:
                self._stand_by(f"provisioner unreachable ({exc})")
            return
        self.misses = 0
        if pack is not None:
            write_atomically(self.pack_file, pack)
            write_atomically(self.pack_file + ".etag", etag.encode())
        if self.standing_by:
            self._switch(None)
            self.standing_by = False
            self.log("warning", "provisioner answers again: standby copy removed")

    def _kept_etag(self) -> str:
        try:
            with open(self.pack_file + ".etag") as kept:
                return kept.read().strip()
        except OSError:
            return ""

    def _stand_by(self, reason: str) -> None:
        pack = self.kept_pack()
        if pack is None:
            self.log("err", f"{reason}; no standby copy kept yet, so none to use")
            return
        self._switch(pack)
        self.standing_by = True
        self.log("warning", f"{reason}: the switch runs on the standby copy")

    def _switch(self, pack: bytes | None) -> None:
        os.makedirs(self.include_folder, exist_ok=True)
        for name, text in include_files(pack).items():
            write_atomically(os.path.join(self.include_folder, f"{name}.xml"), text.encode())
        self.reload()


def run(freeswitch: Any, client: PackSource, interval: float) -> None:
    """Watch until the switch stops (mod_python3's startup-script thread)."""
    conf_dir = str(freeswitch.getGlobalVariable("conf_dir") or "/etc/freeswitch")
    api = freeswitch.API()

    def log(level: str, message: str) -> None:
        freeswitch.consoleLog(level, f"provisioner: standby: {message}\n")

    watch = StandbyWatch(
        client,
        os.path.join(conf_dir, INCLUDE_FOLDER),
        lambda: api.executeString("reloadxml"),
        log,
    )
    while freeswitch.running():
        try:
            watch.poll()
        except Exception as exc:  # noqa: BLE001 - the watch must outlive any one poll
            log("err", f"{type(exc).__name__}: {exc}")
        deadline = time.monotonic() + interval
        while time.monotonic() < deadline and freeswitch.running():
            time.sleep(min(1.0, interval))
