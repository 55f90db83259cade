"""Pairing phones with extensions: credentials, the first-use window, the device timeline."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

    from provisioner.app_core import AppCore
    from provisioner.pairing.timeline_writer import TimelineWriter

# Where an app keeps its process's timeline writer (made by the first request that queues).
TIMELINE_WRITER_KEY = "provisioner.timeline_writer"


def flush_timeline(app: AppCore) -> None:
    """Write this process's queued events (readers call it, so they see the latest). It lives
    here, not beside the writer: a command that queued nothing loads no writer to find that."""
    writer: TimelineWriter | None = app.extensions.get(TIMELINE_WRITER_KEY)
    if writer is not None:
        writer.flush()


def init_app(app: Flask) -> None:
    """Register the timeline's flush before reads (the pairing commands are in
    provisioner.cli.all_commands)."""
    from provisioner.pairing import timeline_writer

    timeline_writer.init_app(app)
