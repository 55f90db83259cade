"""The firmware catalogue: ``manifest.json`` and the files beside it, in FIRMWARE_DIR.

Files live at ``<FIRMWARE_DIR>/<vendor>/<version>/<file name>`` (Grandstream images share one
fixed name per model, so the version is part of the path). The manifest is rewritten whole
(temporary file, then rename) under a lock, so a reader never sees half of it.

Integrity at serving time: a file is hashed and its signature checked when it is added, and
again whenever its ``stat`` (device, inode, size, mtime, ctime) differs from the last check
in this process; the verdict is kept per process keyed on that stat. Hashing 16 MiB for every
request of a boot storm is what this avoids; a change of the file's content through any
ordinary write changes its mtime/ctime, so it is caught at the next request.
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

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from provisioner.errors import FirmwareNotFound, FirmwareRefused
from provisioner.firmware.signing import Statement, sign, signature_problem, signer_of

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

    def statement(self) -> Statement:
        """What the signature vouches for."""
        return Statement(
            self.vendor, self.models, self.version, self.file_name, self.size, self.sha256
        )

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


@dataclass(frozen=True, slots=True)
class NewFirmware:
    """What `firmware add` was told about a file."""

    source: Path
    vendor: str
    models: tuple[str, ...]
    version: str
    added_by: str
    added_at: str
    signature: str | None = None
    signing_key: Ed25519PrivateKey | None = None


def add(directory: Path, new: NewFirmware, keys: Mapping[str, Ed25519PublicKey]) -> FirmwareEntry:
    """Copy ``new.source`` into the catalogue once its signature verifies against ``keys``.

    The copy is hashed while it is written and the signature checked against that hash, so
    what is stored is what was verified; on any refusal the copy is deleted and the manifest
    is unchanged."""
    with locked(directory):
        entries = entries_for_change(directory)
        _refuse_duplicates(entries, new)
        target_folder = directory / new.vendor / new.version
        target_folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target_folder, prefix=".adding-")
        try:
            with os.fdopen(handle, "wb") as copy, new.source.open("rb") as source:
                size, sha256 = hash_stream(source, copy)
                copy.flush()
                os.fsync(copy.fileno())
            entry = _signed_entry(new, size, sha256, keys)
            os.replace(temporary, target_folder / new.source.name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            _remove_empty(target_folder, directory)
            raise
        write_manifest(directory, [*entries, entry])
    return entry


def _signed_entry(
    new: NewFirmware, size: int, sha256: str, keys: Mapping[str, Ed25519PublicKey]
) -> FirmwareEntry:
    statement = Statement(new.vendor, new.models, new.version, new.source.name, size, sha256)
    signature = new.signature
    if new.signing_key is not None:
        signature = sign(new.signing_key, statement)
    if not signature:
        raise FirmwareRefused(
            f"{new.source.name}: no signature; give --sign-with KEY or --signature SIGNATURE"
        )
    problem = signature_problem(statement, signature, "", keys)
    if problem is not None:
        raise FirmwareRefused(f"{new.source.name} refused, nothing was copied: {problem}")
    return FirmwareEntry(
        vendor=new.vendor,
        models=new.models,
        version=new.version,
        file_name=new.source.name,
        size=size,
        sha256=sha256,
        signature=signature,
        signed_by=signer_of(statement, signature, keys),
        added_by=new.added_by,
        added_at=new.added_at,
    )


def _refuse_duplicates(entries: Sequence[FirmwareEntry], new: NewFirmware) -> None:
    for entry in entries:
        if entry.vendor != new.vendor or entry.version != new.version:
            continue
        shared = {model.upper() for model in entry.models} & {m.upper() for m in new.models}
        if entry.file_name == new.source.name or shared:
            raise FirmwareRefused(
                f"{new.vendor} {new.version} is in the catalogue already ({entry.identifier}, "
                f"{entry.file_name}); remove it first with `provisioner firmware remove "
                f"{entry.identifier}`"
            )


def _remove_empty(folder: Path, root: Path) -> None:
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
        _remove_empty(path.parent, directory)
    return entry


def for_target(
    entries: Sequence[FirmwareEntry], vendor: str, model: str, version: str
) -> FirmwareEntry | None:
    """The image of ``version`` for ``vendor``'s ``model``, if the catalogue has it."""
    for entry in entries:
        if entry.version == version and entry.serves(vendor, model):
            return entry
    return None


def full_check(
    directory: Path,
    entry: FirmwareEntry,
    keys: Mapping[str, Ed25519PublicKey],
    stream: BinaryIO | None = None,
) -> str | None:
    """Hash the file now (``stream`` when it is open already) and check its signature: why
    it may not be served, or None."""
    problem = signature_problem(entry.statement(), entry.signature, entry.signed_by, keys)
    if problem is not None:
        return problem
    try:
        if stream is not None:
            size, sha256 = hash_stream(stream)
            stream.seek(0)
        else:
            with (directory / entry.relative_path).open("rb") as opened:
                size, sha256 = hash_stream(opened)
    except OSError as exc:
        return f"cannot read {entry.relative_path}: {exc.strerror}"
    if size != entry.size or sha256 != entry.sha256:
        return f"{entry.relative_path} changed on disk: its SHA-256 is not the signed one"
    return None


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether an entry's file may be served now; ``first`` is True when this process has
    not reported this state of the file before (so the caller logs and audits it once)."""

    problem: str | None
    first: bool

    @property
    def servable(self) -> bool:
        """True when the file is the signed one."""
        return self.problem is None


StatKey = tuple[str, int, int, int, int, int, str, str, tuple[str, ...]]
_verdicts: dict[StatKey, str | None] = {}
_verdict_lock = threading.Lock()
MAXIMUM_VERDICTS = 4096


def _stat_key(
    path: Path, stat: os.stat_result, entry: FirmwareEntry, keys: Mapping[str, Ed25519PublicKey]
) -> StatKey:
    return (
        str(path),
        stat.st_dev,
        stat.st_ino,
        stat.st_size,
        stat.st_mtime_ns,
        stat.st_ctime_ns,
        entry.sha256,
        entry.signature,
        tuple(sorted(keys)),
    )


def check(
    directory: Path,
    entry: FirmwareEntry,
    keys: Mapping[str, Ed25519PublicKey],
    stat: os.stat_result | None = None,
    stream: BinaryIO | None = None,
) -> Verdict:
    """Whether ``entry``'s file may be served: hashed again only when its stat changed."""
    path = directory / entry.relative_path
    try:
        stat = stat or path.stat()
    except OSError:
        return Verdict(f"{entry.relative_path} is missing", first=True)
    key = _stat_key(path, stat, entry, keys)
    with _verdict_lock:
        if key in _verdicts:
            return Verdict(_verdicts[key], first=False)
    problem = full_check(directory, entry, keys, stream)
    with _verdict_lock:
        if len(_verdicts) >= MAXIMUM_VERDICTS:
            _verdicts.clear()
        _verdicts[key] = problem
    return Verdict(problem, first=True)


def open_verified(
    directory: Path, entry: FirmwareEntry, keys: Mapping[str, Ed25519PublicKey]
) -> tuple[BinaryIO | None, os.stat_result | None, Verdict]:
    """The entry's file opened for reading, with its stat, when it checks out.

    The check uses the stat of the file already open, so what is sent is the file checked
    (a rename over it after this point does not change what this request gets)."""
    try:
        stream = (directory / entry.relative_path).open("rb")
    except OSError:
        return None, None, Verdict(f"{entry.relative_path} is missing", first=True)
    stat = os.fstat(stream.fileno())
    verdict = check(directory, entry, keys, stat, stream)
    if not verdict.servable:
        stream.close()
        return None, None, verdict
    return stream, stat, verdict
