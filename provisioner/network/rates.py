"""Pure rate derivation from counters: wraps, agent restarts and counter resets.

A rate needs two samples of the same counter. Between them a Counter32 may wrap (it does in
34 s at 1 Gb/s), the agent may restart (sysUpTime or snmpEngineTime goes back, or
snmpEngineBoots goes up), or someone may clear the counters. A restart or a reset makes the
delta meaningless, so no rate is given for that interval rather than a wrong one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from provisioner.network import oids

COUNTER32_MODULUS = 2**32
COUNTER64_MODULUS = 2**64
# sysUpTime is a 32-bit TimeTicks value that wraps after 497 days.
UPTIME_MODULUS = 2**32
# A wrapped delta bigger than the link could carry (with this margin) is a reset, not a wrap.
SPEED_MARGIN = 1.5
# A minimum Ethernet frame on the wire: 64 bytes plus preamble and inter-frame gap (84 bytes).
MINIMUM_FRAME_BITS = 84 * 8


@dataclass(frozen=True, slots=True)
class Clock:
    """When a sample was taken: the agent's clocks and ours."""

    wall_seconds: float
    uptime_ticks: int | None
    engine_boots: int | None = None
    engine_time: int | None = None


def agent_restarted(previous: Clock, current: Clock) -> bool:
    """True when the agent restarted between the two samples."""
    if None not in (previous.engine_boots, current.engine_boots):
        if current.engine_boots != previous.engine_boots:
            return True
    if None not in (previous.engine_time, current.engine_time):
        if current.engine_time < previous.engine_time:  # type: ignore[operator]
            return True
    if previous.uptime_ticks is None or current.uptime_ticks is None:
        return False
    if current.uptime_ticks >= previous.uptime_ticks:
        return False
    # Going back is a wrap only when the old value was near the top and time went on past it.
    wall_ticks = (current.wall_seconds - previous.wall_seconds) * 100
    return previous.uptime_ticks < UPTIME_MODULUS - 2 * wall_ticks - 100


def elapsed_seconds(previous: Clock, current: Clock) -> float:
    """Seconds between samples, by the agent's clock when it went forward, else by ours."""
    if previous.uptime_ticks is not None and current.uptime_ticks is not None:
        ticks = (current.uptime_ticks - previous.uptime_ticks) % UPTIME_MODULUS
        if ticks > 0:
            return ticks / 100
    return max(current.wall_seconds - previous.wall_seconds, 0.0)


def counter_delta(
    previous: int, current: int, modulus: int, ceiling: float | None = None
) -> int | None:
    """Increase of a counter, across one wrap; None when it must have been reset."""
    delta = current - previous
    if delta >= 0:
        return delta
    wrapped = delta + modulus
    if ceiling is not None and wrapped > ceiling:
        return None
    return wrapped


def interface_rates(
    previous: Mapping[str, int],
    current: Mapping[str, int],
    seconds: float,
    speed_bps: int | None,
) -> dict[str, float | None]:
    """Per-second rates of one interface's counters (octets as bits per second)."""
    rates: dict[str, float | None] = {}
    if seconds <= 0:
        return rates
    for name, value in current.items():
        if name not in previous:
            continue
        modulus = COUNTER64_MODULUS if name in oids.COUNTER64_FIELDS else COUNTER32_MODULUS
        delta = counter_delta(previous[name], value, modulus, ceiling_of(name, speed_bps, seconds))
        if delta is None:
            rates[rate_name(name)] = None
            continue
        per_second = delta / seconds
        rates[rate_name(name)] = per_second * 8 if "octets" in name else per_second
    return rates


def ceiling_of(counter: str, speed_bps: int | None, seconds: float) -> float | None:
    """The most a counter can grow in ``seconds`` on this link; a bigger 'wrap' is a reset.

    Octets: the link's speed. Frames (errors, discards): minimum-size frames at that speed.
    Without a speed an octet counter may wrap, but a frame counter that went back was
    cleared: billions of errors in one interval are not plausible.
    """
    if "octets" in counter:
        return speed_bps / 8 * seconds * SPEED_MARGIN if speed_bps else None
    if not speed_bps:
        return 0.0
    return speed_bps / MINIMUM_FRAME_BITS * seconds * SPEED_MARGIN


def rate_name(counter: str) -> str:
    """``in_octets`` -> ``in_bps`` (``in_octets_32`` -> ``in_bps_32``); else ``..._per_second``."""
    if "octets" in counter:
        return counter.replace("octets", "bps")
    return f"{counter}_per_second"


def derive_all(
    previous_state: Mapping[str, Any] | None,
    current_clock: Clock,
    interfaces: list[dict[str, Any]],
) -> tuple[dict[int, dict[str, float | None]], bool]:
    """Rates for every interface against the previous poll; also whether the agent restarted."""
    if not previous_state or "clock" not in previous_state:
        return {}, False
    previous_clock = Clock(**previous_state["clock"])
    if agent_restarted(previous_clock, current_clock):
        return {}, True
    seconds = elapsed_seconds(previous_clock, current_clock)
    before = {item["if_index"]: item for item in previous_state.get("interfaces", [])}
    rates = {}
    for item in interfaces:
        old = before.get(item["if_index"])
        if old is not None:
            rates[item["if_index"]] = interface_rates(
                old.get("counters", {}), item["counters"], seconds, item.get("speed_bps")
            )
    return rates, False
