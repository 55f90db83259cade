"""Per-VLAN forwarding tables (Cisco): which VLANs are read, and how each is asked for."""

from __future__ import annotations

import pytest

from provisioner.network import vlans
from provisioner.network.snmp import Credentials
from provisioner.network.vendors import GENERIC, cisco_ios, vendor_for

BRIDGE = cisco_ios.PER_VLAN_BRIDGE


def test_operational_vlans_are_read_and_the_reserved_ones_are_not() -> None:
    states = {(1, 1): 1, (1, 100): 1, (1, 21): 1, (1, 30): 2, (1, 1002): 1, (1, 1005): 1}
    assert vlans.vlans_to_read(states, BRIDGE) == [1, 21, 100]


@pytest.mark.parametrize(
    ("credentials", "community", "context"),
    [
        (Credentials("2c", community="s3cret"), "s3cret@20", ""),
        (Credentials("3", user="monsha", auth_key="a", priv_key="p"), None, "vlan-20"),
    ],
    ids=["v2c-community", "v3-context"],
)
def test_a_vlan_is_asked_for_by_community_or_context(
    credentials: Credentials, community: str | None, context: str
) -> None:
    asked = vlans.vlan_credentials(credentials, BRIDGE, 20)
    assert (asked.community, asked.context) == (community, context)
    assert (asked.user, asked.auth_key) == (credentials.user, credentials.auth_key)


def test_a_reason_names_the_vlan_community_without_the_secret() -> None:
    assert vlans.how_asked(Credentials("2c", community="s3cret"), BRIDGE, 20) == "community@20"
    v3 = Credentials("3", user="monsha")
    assert vlans.how_asked(v3, BRIDGE, 20) == "v3 context vlan-20"


def test_the_cisco_module_decides_per_vlan_tables_and_others_do_not() -> None:
    assert vendor_for("1.3.6.1.4.1.9.1.516").per_vlan_bridge is BRIDGE  # Catalyst 3750
    assert vendor_for("1.3.6.1.4.1.9.12.3.1.3.1084").per_vlan_bridge is BRIDGE  # Nexus 5000
    assert vendor_for("1.3.6.1.4.1.3320.1.283.0").per_vlan_bridge is None  # BDCOM
    assert GENERIC.per_vlan_bridge is None
