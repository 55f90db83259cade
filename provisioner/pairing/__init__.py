"""Pairing phones with extensions: credentials, the first-use window, the device timeline."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the pair and unpair commands, and the timeline's flush before reads."""
    from provisioner.pairing import timeline_writer
    from provisioner.pairing.cli import COMMANDS

    timeline_writer.init_app(app)
    for command in COMMANDS:
        app.cli.add_command(command)
