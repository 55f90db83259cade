"""This process's id, kept without a system call, is a forked child's own."""

from __future__ import annotations

import os

from provisioner.process import process_id


def test_the_process_id_is_this_process_and_a_forked_childs_own() -> None:
    assert process_id() == os.getpid()
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the child: report what it reads, then leave at once
        os.write(writing, f"{process_id()} {os.getpid()}".encode())
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as pipe:
        seen, actual = pipe.read().split()
    os.waitpid(child, 0)
    assert seen == actual and int(seen) != os.getpid()
