"""TFTP for phones that boot over TFTP: the same render function as HTTP, read-only.

Our own small server (RFC 1350, 2347, 2348 blksize, 2349 tsize and timeout), not tftpy's:
tftpy 0.8.7 runs every transfer and every ``dyn_file_func`` call in one select loop, so one
slow render stalls all transfers, and four inputs end its loop (a BytesIO, ``blksize abc``, a
non-ASCII name, a failing ``sendto``; reference zerotouch.md §1.4-1.7). Here the listener
only parses, each transfer renders and sends on a worker thread from its own port, and every
parser is total. tftpy stays in the tests as a second codec and in ``bench/`` as a yardstick.

- ``packets``: the pure codec, name cleaning and option negotiation;
- ``transfer``: one lock-step read transfer with retransmission;
- ``sockets``: the listening socket, per-transfer sockets, the stop signal;
- ``workers``: the daemon thread pool;
- ``service``: ``TftpService``, which ties them together.
"""

from __future__ import annotations

from provisioner.tftp.service import RenderFunction, TftpService

__all__ = ["RenderFunction", "TftpService"]
