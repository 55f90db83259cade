"""LLDP-MED without sockets: frames built by scapy's LLDP layer, read by the agent."""

from __future__ import annotations

from scapy.layers.l2 import Ether

from tests.zerotouch.senders import phone_lldp, switch_lldp, voice_policy
from zerotouch.lldp import parse_lldp, parse_policy


def lldpdu(frame) -> bytes:
    return bytes(frame[Ether].payload)


def test_a_switch_voice_policy_is_read() -> None:
    info = parse_lldp(lldpdu(switch_lldp()))
    assert info.system_name == "sw-kantoor"
    assert info.chassis_mac == "02aabbccdd01"
    policy = info.voice_policy()
    assert policy is not None
    assert (policy.vlan, policy.tagged, policy.priority, policy.dscp) == (100, True, 5, 46)


def test_a_phone_says_it_is_a_voice_endpoint_and_its_model() -> None:
    info = parse_lldp(lldpdu(phone_lldp()))
    assert info.device_class == 3
    assert info.inventory == {"model": "VVX 450"}
    assert info.voice_policy() is None


def test_policy_bits_for_signalling_untagged() -> None:
    bits = (0 << 22) | (20 << 9) | (4 << 6) | 24
    policy = parse_policy(bytes([2]) + bits.to_bytes(3, "big"))
    assert policy is not None
    assert (policy.application, policy.tagged, policy.vlan, policy.priority, policy.dscp) == (
        2, False, 20, 4, 24,
    )  # fmt: skip


def test_truncated_frames_never_raise() -> None:
    whole = lldpdu(switch_lldp())
    for length in range(len(whole)):
        parse_lldp(whole[:length])
    assert parse_policy(voice_policy(1, 1, 1)[:3]) is None
