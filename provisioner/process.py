"""This process's id without a system call.

Caches, connection lists and background threads note the process that made them, and a
forked worker must not use its parent's: each checks on every use, several times per phone
request. ``os.getpid()`` is a system call each time; ``process_id()`` reads a number that a
fork hook renews in each child (``os.fork`` and multiprocessing's fork both run it).
"""

from __future__ import annotations

import os

_current = os.getpid()


def process_id() -> int:
    """This process's id."""
    return _current


def _renew() -> None:
    global _current  # noqa: PLW0603 - renewed once per fork, read everywhere
    _current = os.getpid()


os.register_at_fork(after_in_child=_renew)
