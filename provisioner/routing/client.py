"""Fetching routes and sounds from the server, with a local cache for when it is down.

Runs inside FreeSWITCH (standard library only). Fresh data wins: the cache is written on every
successful fetch and read only when the server cannot be reached, so a change made through
the API or an import is used on the very next call.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

FETCH_TIMEOUT_SECONDS = 3.0
MAX_SOUND_BYTES = 32 * 1024 * 1024
MAX_PACK_BYTES = 256 * 1024 * 1024


class ServerUnreachable(Exception):
    """The server did not answer (down, refused the connection, timed out, sent garbage)."""


@dataclass(frozen=True, slots=True)
class RouteClient:
    """Talks to ``/freeswitch/...`` of the provisioning server and keeps the local cache."""

    base_url: str
    token: str
    cache_directory: str
    timeout: float = FETCH_TIMEOUT_SECONDS

    def route(self, tenant: str, number: str) -> tuple[dict[str, Any] | None, str]:
        """The route for ``number`` and where it came from: "server", "cache" or "none"."""
        path = "/freeswitch/flows/{}/{}".format(
            urllib.parse.quote(tenant, safe=""), urllib.parse.quote(number, safe="")
        )
        cache_file = self._route_file(tenant, number)
        try:
            route = json.loads(self._get(path))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:  # the server answered: there is no such number (any more)
                _remove(cache_file)
                return None, "server"
            return self._cached(cache_file)
        except (ServerUnreachable, ValueError):
            return self._cached(cache_file)
        write_atomically(cache_file, json.dumps(route).encode())
        return route, "server"

    def sound_path(self, route: dict[str, Any], name: str) -> str | None:
        """The local file of one of the route's sounds, fetched the first time it is played.

        Files are named by their digest, so a changed sound is a new file and an unchanged one
        is never fetched again; None when the sound is unknown or cannot be fetched.
        """
        sound = route.get("sounds", {}).get(name)
        if sound is None:
            return None
        path = os.path.join(
            self.cache_directory, "sounds", f"{sound['sha256']}.{sound['extension']}"
        )
        if os.path.exists(path):
            return path
        try:
            content = self._get(
                "/freeswitch/sounds/{}/{}".format(
                    urllib.parse.quote(str(route["tenant"]), safe=""),
                    urllib.parse.quote(name, safe=""),
                )
            )
        except (urllib.error.HTTPError, ServerUnreachable):
            return None
        if hashlib.sha256(content).hexdigest() != sound["sha256"]:
            return None
        write_atomically(path, content)
        return path

    def standby(self, etag: str = "") -> tuple[bytes | None, str]:
        """The standby pack and its ETag; None when it is still the one with ``etag``."""
        headers = {"If-None-Match": f'"{etag}"'} if etag else {}
        try:
            content, answer_etag = self._fetch("/freeswitch/standby", headers, MAX_PACK_BYTES)
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                return None, etag
            raise ServerUnreachable(f"HTTP {exc.code}") from exc
        return content, answer_etag

    def _get(self, path: str) -> bytes:
        return self._fetch(path, {}, MAX_SOUND_BYTES)[0]

    def _fetch(self, path: str, headers: dict[str, str], limit: int) -> tuple[bytes, str]:
        request = urllib.request.Request(
            self.base_url.rstrip("/") + path,
            headers={
                "Authorization": f"Bearer {self.token}",
                "User-Agent": "provisioner-callrouting",
                **headers,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                content: bytes = response.read(limit + 1)
                etag = str(response.headers.get("ETag") or "").strip('"')
        except urllib.error.HTTPError:
            raise
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            raise ServerUnreachable(str(exc)) from exc
        return content, etag

    def _route_file(self, tenant: str, number: str) -> str:
        key = hashlib.sha256(f"{tenant}\0{number}".encode()).hexdigest()
        return os.path.join(self.cache_directory, "routes", f"{key}.json")

    def _cached(self, cache_file: str) -> tuple[dict[str, Any] | None, str]:
        try:
            with open(cache_file, "rb") as cached:
                route: dict[str, Any] = json.loads(cached.read())
        except (OSError, ValueError):
            return None, "none"
        return route, "cache"


def write_atomically(path: str, content: bytes) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".partial-")
    try:
        with os.fdopen(descriptor, "wb") as output:
            output.write(content)
        os.replace(temporary, path)
    except OSError:
        _remove(temporary)
        raise


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
