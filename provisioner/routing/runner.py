"""One call, start to end, as ``provisioner.callrouting.handler`` runs it inside FreeSWITCH.

Finds the server (FreeSWITCH globals ``provisioner_url`` / ``provisioner_token`` from vars.xml,
else the environment's ``PROVISIONER_URL`` / ``PROVISIONER_TOKEN``), fetches the route (or
takes it from the cache), walks it, then mails any fax received. Whatever goes wrong, the
caller hears a goodbye rather than silence, and the reason is in FreeSWITCH's log.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

from provisioner.routing import dialstrings, standby_watch
from provisioner.routing.client import RouteClient
from provisioner.routing.engine import walk
from provisioner.routing.fax import deliver_fax
from provisioner.routing.session_adapter import SessionAdapter
from provisioner.tenants.numbers import EMERGENCY_NUMBERS_BY_COUNTRY, EMERGENCY_NUMBERS_EVERYWHERE

DEFAULT_CACHE_DIRECTORY = "/var/cache/provisioner"


@dataclass(frozen=True, slots=True)
class HandlerSettings:
    """Where the server is and where the cache lives."""

    url: str
    token: str
    cache_directory: str


def find_settings(freeswitch: Any) -> HandlerSettings:
    """FreeSWITCH globals first, then environment variables."""

    def setting(global_name: str, environment_name: str, default: str = "") -> str:
        value = freeswitch.getGlobalVariable(global_name)
        return str(value or os.environ.get(environment_name) or default)

    return HandlerSettings(
        url=setting("provisioner_url", "PROVISIONER_URL"),
        token=setting("provisioner_token", "PROVISIONER_TOKEN"),
        cache_directory=setting("provisioner_cache", "PROVISIONER_CACHE", DEFAULT_CACHE_DIRECTORY),
    )


def is_emergency(number: str) -> bool:
    """True for an emergency number of any country we know."""
    every = set(EMERGENCY_NUMBERS_EVERYWHERE)
    for numbers in EMERGENCY_NUMBERS_BY_COUNTRY.values():
        every.update(numbers)
    return number in every


def log(freeswitch: Any, level: str, message: str) -> None:
    """A line in FreeSWITCH's log."""
    freeswitch.consoleLog(level, f"provisioner: {message}\n")


def goodbye(session: Any) -> None:
    """The polite end when nothing else is possible."""
    if session.ready():
        if not session.answered():
            session.answer()
        session.execute("playback", dialstrings.GOODBYE_SOUND)
        session.hangup("NORMAL_CLEARING")


def run_call(session: Any, args: str, freeswitch: Any) -> None:
    """Route one call; ``args`` is ``<tenant> <number>`` from the dialplan's python action."""
    try:
        parts = (args or "").split()
        if len(parts) != 2:
            log(freeswitch, "err", f"expected '<tenant> <number>' as arguments, got {args!r}")
            goodbye(session)
            return
        route_call(session, parts[0], parts[1], freeswitch)
    except Exception as exc:  # noqa: BLE001 - the caller must never be left in silence
        log(freeswitch, "err", f"call routing failed: {type(exc).__name__}: {exc}")
        goodbye(session)


def route_call(session: Any, tenant: str, number: str, freeswitch: Any) -> None:
    """Fetch, walk, deliver."""
    settings = find_settings(freeswitch)
    if not settings.url:
        log(freeswitch, "err", "set provisioner_url in vars.xml (or PROVISIONER_URL)")
        goodbye(session)
        return
    client = RouteClient(settings.url, settings.token, settings.cache_directory)
    route, source = client.route(tenant, number)
    if route is None and is_emergency(number):
        # Never reached through our dialplan; if it happens, let the dialplan send it out.
        context = str(session.getVariable("domain_name") or "")
        log(freeswitch, "err", f"emergency number {number} reached the handler; transferring")
        session.transfer(number, "XML", context)
        return
    if route is None:
        log(freeswitch, "err", f"no route for {number} of {tenant} (source: {source})")
        goodbye(session)
        return
    if source == "cache":
        log(freeswitch, "warning", f"server unreachable; routing {number} from the cache")
    fax_directory = os.path.join(settings.cache_directory, "fax")
    os.makedirs(fax_directory, mode=0o700, exist_ok=True)
    adapter = SessionAdapter(
        session, freeswitch, functools.partial(client.sound_path, route), fax_directory
    )
    visited = walk(route, adapter)
    log(freeswitch, "info", f"{tenant} {number}: " + " -> ".join(visited))
    caller = str(session.getVariable("caller_id_number") or "onbekend")
    for fax in adapter.faxes:
        deliver_fax(freeswitch, fax.tiff_path, fax.email, f"fax@{route['domain']}", caller)


def watch_standby(freeswitch: Any) -> None:
    """Keep the standby pack and stand the switch by on it while provisioner is unreachable."""
    settings = find_settings(freeswitch)
    if not settings.url:
        log(freeswitch, "err", "standby: set provisioner_url in vars.xml (or PROVISIONER_URL)")
        return
    setting = freeswitch.getGlobalVariable("provisioner_standby_interval")
    try:
        interval = max(1.0, float(setting or standby_watch.DEFAULT_INTERVAL_SECONDS))
    except ValueError:
        log(freeswitch, "err", f"standby: provisioner_standby_interval={setting!r} is no number")
        interval = standby_watch.DEFAULT_INTERVAL_SECONDS
    client = RouteClient(settings.url, settings.token, settings.cache_directory)
    standby_watch.run(freeswitch, client, interval)
