"""The firmware catalogue: ``manifest.json`` and the files beside it, in FIRMWARE_DIR.

Files live at ``<FIRMWARE_DIR>/<vendor>/<version>/<file name>`` (Grandstream images share one
fixed name per model, so the version is part of the path). The manifest is rewritten whole
(temporary file, then rename) under a lock, so a reader never sees half of it.

Adding a file and checking it before it is served (signatures, hence cryptography) are in
``provisioner.firmware.verification``; listing the catalogue needs neither.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

from provisioner.errors import FirmwareNotFound, FirmwareRefused

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
FORMAT = 1
CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FirmwareEntry:
    """One image in the catalogue, as the manifest records it."""

    vendor: str
    models: tuple[str, ...]
    version: str
    file_name: str
    size: int
    sha256: str
    signature: str
    signed_by: str
    added_by: str
    added_at: str

    @property
    def identifier(self) -> str:
        """The entry's short name: the first 12 hex digits of its SHA-256."""
        return self.sha256[:12]

    @property
    def relative_path(self) -> str:
        """Where the file is under FIRMWARE_DIR."""
        return f"{self.vendor}/{self.version}/{self.file_name}"

    def serves(self, vendor: str, model: str) -> bool:
        """True for an image meant for ``vendor``'s ``model``."""
        return self.vendor == vendor and model.upper() in (name.upper() for name in self.models)

    def as_json(self) -> dict[str, Any]:
        """The manifest's (and the API's) form."""
        return {"id": self.identifier, **asdict(self), "models": list(self.models)}


def _entry(data: Mapping[str, Any]) -> FirmwareEntry:
    return FirmwareEntry(
        vendor=str(data["vendor"]),
        models=tuple(str(model) for model in data["models"]),
        version=str(data["version"]),
        file_name=str(data["file_name"]),
        size=int(data["size"]),
        sha256=str(data["sha256"]),
        signature=str(data["signature"]),
        signed_by=str(data.get("signed_by", "")),
        added_by=str(data.get("added_by", "")),
        added_at=str(data.get("added_at", "")),
    )


_manifest_cache: dict[str, tuple[tuple[int, int, int], tuple[FirmwareEntry, ...]]] = {}
_manifest_lock = threading.Lock()


def read_manifest(directory: Path) -> tuple[FirmwareEntry, ...]:
    """The catalogue's entries (none when there is no manifest); parsed once per change."""
    path = directory / MANIFEST
    try:
        stat = path.stat()
    except FileNotFoundError:
        return ()
    key = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    with _manifest_lock:
        cached = _manifest_cache.get(str(path))
    if cached is not None and cached[0] == key:
        return cached[1]
    entries = _parse_manifest(path)
    with _manifest_lock:
        _manifest_cache[str(path)] = (key, entries)
    return entries


def _parse_manifest(path: Path) -> tuple[FirmwareEntry, ...]:
    """The entries, or none (logged) when the file is not a manifest: phones then get their
    configs without a firmware directive rather than no config at all."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return tuple(_entry(item) for item in data["files"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.error("%s is not a firmware manifest (%r); no image is served until it is", path, exc)
        return ()


def entries_for_change(directory: Path) -> tuple[FirmwareEntry, ...]:
    """The entries read strictly, for add and remove: a broken manifest is never rewritten."""
    path = directory / MANIFEST
    if not path.exists():
        return ()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return tuple(_entry(item) for item in data["files"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise FirmwareRefused(
            f"{path} is not a firmware manifest ({exc!r}); restore it from a backup first"
        ) from exc


def write_manifest(directory: Path, entries: Sequence[FirmwareEntry]) -> None:
    """Replace the manifest atomically (written beside it, then renamed over it)."""
    document = {"format": FORMAT, "files": [_manifest_item(entry) for entry in entries]}
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".manifest-")
    with os.fdopen(handle, "w", encoding="utf-8") as output:
        output.write(text)
        output.flush()
        os.fsync(output.fileno())
    os.replace(temporary, directory / MANIFEST)


def _manifest_item(entry: FirmwareEntry) -> dict[str, Any]:
    item = entry.as_json()
    del item["id"]
    return item


@contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold the catalogue's lock (one `firmware add/remove` at a time, across processes)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def hash_stream(stream: BinaryIO, copy_to: BinaryIO | None = None) -> tuple[int, str]:
    """(size, sha256 hex) of what ``stream`` holds, copied on to ``copy_to`` if given."""
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if copy_to is not None:
            copy_to.write(chunk)
    return size, digest.hexdigest()


def remove_empty_folders(folder: Path, root: Path) -> None:
    """Remove ``folder`` and its parents up to ``root`` while they are empty."""
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def find(entries: Sequence[FirmwareEntry], name: str) -> FirmwareEntry:
    """The entry called ``name``: its id (or a prefix of its SHA-256), or its file name."""
    found = [
        entry
        for entry in entries
        if (len(name) >= 6 and entry.sha256.startswith(name.lower())) or entry.file_name == name
    ]
    if not found:
        raise FirmwareNotFound(
            f"no firmware {name!r} in the catalogue; `provisioner firmware list` shows them"
        )
    if len(found) > 1:
        ids = ", ".join(entry.identifier for entry in found)
        raise FirmwareNotFound(f"{name!r} names several files ({ids}); give the id")
    return found[0]


def remove(directory: Path, name: str) -> FirmwareEntry:
    """Take the entry ``name`` out of the manifest and delete its file."""
    with locked(directory):
        entries = entries_for_change(directory)
        entry = find(entries, name)
        write_manifest(directory, [other for other in entries if other is not entry])
        path = directory / entry.relative_path
        path.unlink(missing_ok=True)
        remove_empty_folders(path.parent, directory)
    return entry


def for_target(
    entries: Sequence[FirmwareEntry], vendor: str, model: str, version: str
) -> FirmwareEntry | None:
    """The image of ``version`` for ``vendor``'s ``model``, if the catalogue has it."""
    for entry in entries:
        if entry.version == version and entry.serves(vendor, model):
            return entry
    return None
