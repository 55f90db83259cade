"""Pairing phones with extensions: credentials, the first-use window, the device timeline."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the timeline's flush before reads (the pairing commands are in
    provisioner.cli.all_commands)."""
    from provisioner.pairing import timeline_writer

    timeline_writer.init_app(app)
