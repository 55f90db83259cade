"""Routers and switches: inventory, SNMP poller, trap receiver and diagnostics."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def start_beside_http(app: Flask, enabled: bool | None = None) -> Callable[[], None]:
    """For `provisioner serve`: start the poller/trap receiver thread if enabled; its stopper.

    ``enabled`` (the --network/--no-network option) overrides NETWORK_POLLER_ENABLED and
    NETWORK_TRAPS_ENABLED; with both off nothing starts.
    """
    if enabled is not None:
        app.config["NETWORK_POLLER_ENABLED"] = app.config["NETWORK_TRAPS_ENABLED"] = enabled
    if not (app.config["NETWORK_POLLER_ENABLED"] or app.config["NETWORK_TRAPS_ENABLED"]):
        return lambda: None
    from provisioner.network.poller import start_background

    return start_background(app)
