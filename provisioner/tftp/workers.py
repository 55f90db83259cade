"""A small pool of daemon threads: transfers reuse idle threads instead of starting one each.

Not ``ThreadPoolExecutor``: its threads are joined at interpreter exit, so one render stuck in
user code would keep the whole process from ending. Ours are daemons, and ``stop`` waits only
for a bounded time.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

Work = Callable[[], Any]


class WorkerPool:
    """Runs submitted work on at most ``limit`` threads, started on demand and then kept."""

    def __init__(self, limit: int, name: str) -> None:
        self.limit = limit
        self.name = name
        self._work: queue.SimpleQueue[Work | None] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def submit(self, work: Work) -> None:
        """Queue ``work``; start a thread when none is idle and the limit allows."""
        self._work.put(work)
        if self._idle.acquire(blocking=False):
            return  # an idle thread will take it
        with self._lock:
            if len(self._threads) < self.limit:
                thread = threading.Thread(
                    target=self._run, name=f"{self.name}-{len(self._threads)}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def stop(self, wait_seconds: float) -> bool:
        """Ask every thread to end after its current work; True when all ended in time."""
        with self._lock:
            threads = list(self._threads)
            self._threads.clear()
        for _thread in threads:
            self._work.put(None)
        deadline = time.monotonic() + wait_seconds
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in threads)

    def _run(self) -> None:
        """Take work until told to stop; the work itself must not raise."""
        while (work := self._work.get()) is not None:
            work()
            self._idle.release()
