"""Rendered answers, and what they are built from, kept per process in bounded maps.

A common file, and the bootstrap a per-device name gets when the phone is not proven, depend
only on the vendor, the model, the file name (the MAC in it aside), the base URL and the
bootstrap settings: never on the store. So each is rendered once and its bytes reused; the
MAC is blanked in the key, so every MAC of a model (known, unpaired or never seen) is
answered from the same entry at the same cost.

A paired phone's full file is kept under everything its bytes depend on (see
``authorize.FullFile``): the tenant's revision, the ciphertexts of its secrets, the firmware
it is offered, the file and the base URL. A change of any of them is a new key; the old entry
is never used again and ages out. Bounded: the oldest entries go first. With Redis, a full
file one worker made is taken by the others instead of being made again
(``provisioner.phones.shared_files``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from flask import Flask

Value = TypeVar("Value")
GENERIC_KEY = "provisioner.rendered_answers"
FULL_KEY = "provisioner.full_answers"
ANSWERS_KEPT = 4096
FULL_ANSWERS_KEPT = 20_000  # a few KB each: tens of MB per worker at most


class Kept(Generic[Value]):
    """A bounded map from what a value depends on to the value."""

    def __init__(self, kept: int = ANSWERS_KEPT) -> None:
        self._kept = kept
        self._values: dict[Hashable, Value] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], Value]) -> Value:
        """The value kept for ``key``, else ``make()``'s, kept from now on."""
        value = self._values.get(key)
        if value is None:
            value = make()
            with self._lock:
                while len(self._values) >= self._kept:
                    self._values.pop(next(iter(self._values)))
                self._values[key] = value
        return value


def rendered_answers(app: Flask) -> Kept[bytes]:
    """The app's common files and bootstraps (one map per process)."""
    answers: Kept[bytes] | None = app.extensions.get(GENERIC_KEY)
    if answers is None:  # made once: not a map (and its lock) per request
        answers = app.extensions.setdefault(GENERIC_KEY, Kept[bytes]())
    return answers


def full_answers(app: Flask) -> Kept[bytes]:
    """The app's paired phones' full files (one map per process)."""
    answers: Kept[bytes] | None = app.extensions.get(FULL_KEY)
    if answers is None:
        answers = app.extensions.setdefault(FULL_KEY, Kept[bytes](FULL_ANSWERS_KEPT))
    return answers


def file_shape(file: str, mac: str | None) -> str:
    """The file name with the MAC blanked out (any case), as answers are keyed."""
    if not mac:
        return file
    if not (file.isascii() and mac.isascii()):  # lower() keeps ASCII text's length only
        return re.sub(re.escape(mac), "{mac}", file, flags=re.IGNORECASE)
    # No regular expression made of the MAC: compiling one per new MAC (re keeps 512) made
    # a never-seen MAC's answer slower than a known one's, which timing would tell.
    lowered, wanted = file.lower(), mac.lower()
    parts, start = [], 0
    while (found := lowered.find(wanted, start)) != -1:
        parts += [file[start:found], "{mac}"]
        start = found + len(wanted)
    return "".join([*parts, file[start:]])
