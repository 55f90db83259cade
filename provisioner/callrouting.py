"""The module FreeSWITCH runs for a call: ``<action application="python"
data="provisioner.callrouting <tenant> <number>"/>``, and at start-up as mod_python3's
``startup-script`` (``runtime``: the standby watch, ``provisioner.routing.standby_watch``).

mod_python3 re-imports this module on every call, so it stays tiny and imports nothing heavy
(no Flask, SQLAlchemy or pydantic): the work is in ``provisioner.routing.runner``, which is
imported once and kept.
"""

from __future__ import annotations

from typing import Any


def handler(session: Any, args: str) -> None:
    """mod_python3's entry point for the dialplan application ``python``."""
    import freeswitch  # type: ignore[import-not-found]  # only inside FreeSWITCH (or a stand-in)

    from provisioner.routing.runner import run_call

    run_call(session, args, freeswitch)


def runtime(args: str) -> None:
    """mod_python3's entry point for a startup script: the standby watch, for the switch's life."""
    import freeswitch

    from provisioner.routing.runner import watch_standby

    watch_standby(freeswitch)
