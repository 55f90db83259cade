"""Firmware files are served only as signed: checked when added, and again before serving.

A file is hashed and its signature checked when it is added (``add``), and again whenever its
``stat`` (device, inode, size, mtime, ctime) differs from the last check in this process; the
verdict is kept per process keyed on that stat. Hashing 16 MiB for every request of a boot
storm is what this avoids; a change of the file's content through any ordinary write changes
its mtime/ctime, so it is caught at the next request.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from provisioner.errors import FirmwareRefused
from provisioner.firmware.catalogue import (
    FirmwareEntry,
    entries_for_change,
    hash_stream,
    locked,
    remove_empty_folders,
    write_manifest,
)
from provisioner.firmware.signing import Statement, sign, signature_problem, signer_of


def statement_of(entry: FirmwareEntry) -> Statement:
    """What ``entry``'s signature vouches for."""
    return Statement(
        entry.vendor, entry.models, entry.version, entry.file_name, entry.size, entry.sha256
    )


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
            remove_empty_folders(target_folder, directory)
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


def full_check(
    directory: Path,
    entry: FirmwareEntry,
    keys: Mapping[str, Ed25519PublicKey],
    stream: BinaryIO | None = None,
) -> str | None:
    """Hash the file now (``stream`` when it is open already) and check its signature: why
    it may not be served, or None."""
    problem = signature_problem(statement_of(entry), entry.signature, entry.signed_by, keys)
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
