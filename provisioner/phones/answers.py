"""Rendered answers that are the same for every phone of a model, kept per process.

A common file, and the bootstrap a per-device name gets when the phone is not proven, depend
only on the vendor, the model, the file name (the MAC in it aside), the base URL and the
bootstrap settings: never on the store. So each is rendered once and its bytes reused; the
MAC is blanked in the key, so every MAC of a model (known, unpaired or never seen) is
answered from the same entry at the same cost. Bounded: the oldest entries go first.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Hashable

from flask import Flask

EXTENSION_KEY = "provisioner.rendered_answers"
ANSWERS_KEPT = 4096


class RenderedAnswers:
    """A bounded map from what an answer depends on to its bytes."""

    def __init__(self, kept: int = ANSWERS_KEPT) -> None:
        self._kept = kept
        self._bodies: dict[Hashable, bytes] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        """The bytes kept for ``key``, else ``render()``'s, kept from now on."""
        body = self._bodies.get(key)
        if body is None:
            body = render()
            with self._lock:
                while len(self._bodies) >= self._kept:
                    self._bodies.pop(next(iter(self._bodies)))
                self._bodies[key] = body
        return body


def rendered_answers(app: Flask) -> RenderedAnswers:
    """The app's cache (one per process)."""
    answers: RenderedAnswers = app.extensions.setdefault(EXTENSION_KEY, RenderedAnswers())
    return answers


def file_shape(file: str, mac: str | None) -> str:
    """The file name with the MAC blanked out (any case), as answers are keyed."""
    if not mac:
        return file
    return re.sub(re.escape(mac), "{mac}", file, flags=re.IGNORECASE)
