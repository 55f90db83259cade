"""Rates from counters: wraps, 64-bit counters, resets and agent restarts."""

from __future__ import annotations

import pytest

from provisioner.network import rates
from provisioner.network.rates import Clock


def test_counter32_wrap_gives_the_true_increase() -> None:
    assert rates.counter_delta(2**32 - 100, 50, rates.COUNTER32_MODULUS) == 150


def test_counter64_plain_increase() -> None:
    assert rates.counter_delta(10**15, 10**15 + 8_000, rates.COUNTER64_MODULUS) == 8_000


def test_counter_that_went_back_more_than_the_link_carries_is_a_reset() -> None:
    # A 100 Mb/s link cannot move 2**32 - 1000 octets in 10 s: someone cleared the counters.
    ceiling = 100_000_000 / 8 * 10 * rates.SPEED_MARGIN
    assert rates.counter_delta(1_000, 0, rates.COUNTER32_MODULUS, ceiling) is None


def test_interface_rates_in_bits_and_per_second() -> None:
    previous = {"in_octets": 1_000, "in_errors_32": 0, "in_errors": 10}
    current = {"in_octets": 126_000, "in_errors": 40}
    result = rates.interface_rates(previous, current, 10.0, 1_000_000_000)
    assert result == {"in_bps": 100_000.0, "in_errors_per_second": 3.0}


def test_interface_rates_across_a_counter32_wrap() -> None:
    result = rates.interface_rates(
        {"in_octets_32": 2**32 - 500}, {"in_octets_32": 500}, 1.0, 1_000_000_000
    )
    assert result == {"in_bps_32": 8_000.0}


@pytest.mark.parametrize(
    ("previous", "current", "restarted"),
    [
        (Clock(0, 10_000), Clock(60, 16_000), False),
        (Clock(0, 10_000), Clock(60, 500), True),
        (Clock(0, 2**32 - 1_000), Clock(60, 5_000), False),  # sysUpTime wrapped after 497 days
        (Clock(0, 10_000, 4, 100), Clock(60, 16_000, 5, 3), True),  # snmpEngineBoots went up
        (Clock(0, 2**32 - 10, 4, 100), Clock(60, 200, 4, 160), False),
    ],
    ids=["running", "uptime-back", "uptime-wrap", "engine-boots", "engine-time-on"],
)
def test_agent_restart_detection(previous: Clock, current: Clock, restarted: bool) -> None:
    assert rates.agent_restarted(previous, current) is restarted


def test_elapsed_time_by_agent_uptime() -> None:
    assert rates.elapsed_seconds(Clock(0, 1_000), Clock(99, 7_000)) == 60.0


def test_derive_all_gives_no_rates_after_a_restart() -> None:
    previous = {
        "clock": {
            "wall_seconds": 0,
            "uptime_ticks": 900_000,
            "engine_boots": None,
            "engine_time": None,
        },
        "interfaces": [{"if_index": 1, "counters": {"in_octets": 10**9}}],
    }
    interfaces = [{"if_index": 1, "counters": {"in_octets": 100}, "speed_bps": 10**9}]
    found, restarted = rates.derive_all(previous, Clock(300, 2_000), interfaces)
    assert restarted is True
    assert found == {}
    found, restarted = rates.derive_all(previous, Clock(300, 930_000), interfaces[:0])
    assert restarted is False


def test_cleared_error_counters_give_no_rate_rather_than_billions() -> None:
    # `clear counters` on a switch: ifInErrors 1234 -> 0. Read as a Counter32 wrap that would
    # be 14 million errors per second on a port support is looking at.
    result = rates.interface_rates(
        {"in_errors": 1_234, "in_discards": 10}, {"in_errors": 0, "in_discards": 0}, 300.0, None
    )
    assert result == {"in_errors_per_second": None, "in_discards_per_second": None}
    on_gigabit = rates.interface_rates({"in_errors": 1_234}, {"in_errors": 0}, 300.0, 10**9)
    assert on_gigabit == {"in_errors_per_second": None}


def test_error_counter32_wrap_within_what_the_link_carries_is_a_wrap() -> None:
    # 1,500 frames/s errored for a second across the wrap: plausible on a gigabit port.
    result = rates.interface_rates({"in_errors": 2**32 - 500}, {"in_errors": 1_000}, 1.0, 10**9)
    assert result == {"in_errors_per_second": 1_500.0}
