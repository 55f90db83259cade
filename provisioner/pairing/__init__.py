"""Pairing phones with extensions: credentials, the first-use window, the device timeline."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the pair and unpair commands."""
    from provisioner.pairing.cli import COMMANDS

    for command in COMMANDS:
        app.cli.add_command(command)
