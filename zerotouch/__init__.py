"""zerotouch: the agent a technician runs on a laptop in a customer's LAN.

``zerotouch check`` asks the LAN's DHCP server the way each supported phone vendor would and
says, per vendor, whether those phones will find the provisioning server. ``zerotouch discover``
listens for booting phones and reports them to the server's discovered-device list.

The pure parts (building DHCP requests, reading offers and LLDP frames, verdicts, reports) are
separate from the I/O (``network.py``: raw sockets with scapy; ``server.py``: HTTP), so the
pure parts are tested without sockets and the I/O inside network namespaces.
"""

from __future__ import annotations

__version__ = "0.1.0"
