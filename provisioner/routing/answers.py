"""FreeSWITCH's answers kept per process, keyed on what they were built from.

Every key holds the id and the ``tenants.revision`` of each tenant the answer was built from.
The revision is a fresh random token written in the transaction of every change to the tenant
(``tenants.repository.touch``), and each lookup reads it first, so an answer is never used
after the change that made it stale has committed, in any worker. None of these answers reads
the clock: time conditions travel as rules in the route JSON and the handler decides them per
call (``routing.engine`` with the session's ``now()``), and the dialplan hands every flow
number to the handler whatever the time. So nothing here depends on when it was built.

On PostgreSQL the tenant row a lookup starts from (id, name, revision by SIP domain) is kept
as well, in a ``LookupCache`` that forgets a tenant as soon as the database announces its
change (the phones' mechanism, ``provisioner.store.notices``), so a kept answer costs no
round trip at all.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from flask import Flask

from provisioner.store import get_store
from provisioner.store.notices import LookupCache

EXTENSION_KEY = "provisioner.freeswitch_answers"
# Answers per process: a registration's document is about 1 KiB, a dialplan's a few; the
# least recently used goes first, so a busy switch keeps its users' answers.
ANSWERS_KEPT = 4096


class AnswerCache:
    """A bounded, thread-safe map from a lookup's key to its answer (least recently used out)."""

    def __init__(self, kept: int = ANSWERS_KEPT, domains: LookupCache[Any] | None = None) -> None:
        self.kept = kept
        # SIP domain -> (the tenant's key or None,); ("public number", E.164) -> (its owners,)
        self.domains = domains
        self._answers: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        """The answer kept for ``key``, or None."""
        with self._lock:
            answer = self._answers.get(key)
            if answer is not None:
                self._answers.move_to_end(key)
            return answer

    def put(self, key: Hashable, answer: Any) -> None:
        """Keep ``answer`` for ``key``, dropping the least recently used past ``kept``."""
        with self._lock:
            self._answers[key] = answer
            self._answers.move_to_end(key)
            while len(self._answers) > self.kept:
                self._answers.popitem(last=False)

    def __len__(self) -> int:
        return len(self._answers)


def get_answer_cache(app: Flask) -> AnswerCache:
    """The app's answer cache (one per process: each server worker has its own)."""
    cache: AnswerCache | None = app.extensions.get(EXTENSION_KEY)
    if cache is None:
        store = get_store(app)
        domains = LookupCache[Any](store.statement_engine)
        store.on_dispose(domains.close)
        cache = app.extensions.setdefault(EXTENSION_KEY, AnswerCache(domains=domains))
    return cache
