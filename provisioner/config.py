"""Configuration: defaults, then ``instance/config.py``, then ``PROVISIONER_*`` variables."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from provisioner.errors import ConfigError

DEFAULT_HTTP_HOST = "127.0.0.1"
DEFAULT_HTTP_PORT = 8470


def default_settings(instance_path: str) -> dict[str, Any]:
    """The embedded default: a SQLite file in the instance folder, loopback only, demo tenant."""
    database_file = Path(instance_path) / "provisioner.sqlite3"
    return {
        "DATABASE_URL": f"sqlite:///{database_file}",
        "SECRETS_KEY_FILE": str(Path(instance_path) / "secrets.key"),
        "SECRETS_KEY": None,
        "REDIS_URL": None,
        "HTTP_HOST": DEFAULT_HTTP_HOST,
        "HTTP_PORT": DEFAULT_HTTP_PORT,
        "HTTP_THREADS": 16,
        # Reverse proxies in front of us that set X-Forwarded-For/-Proto/-Host; 0 trusts none.
        # Set it behind a load balancer, or rate limits and allowlists see only the proxy.
        "PROXY_HOPS": 0,
        "LOAD_DEMO_ON_EMPTY": True,
        "DEMO_FILE": str(Path(__file__).resolve().parent.parent / "examples" / "demo.yaml"),
        "AUDIT_RETENTION_DAYS": 365,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        # The largest tenant document `import` and the API's document PUT read (checked first).
        "IMPORT_MAX_BYTES": 10 * 1024 * 1024,
        # FreeSWITCH (mod_xml_curl and the call-routing handler): closed until a token is set.
        "FREESWITCH_TOKEN": None,
        "FREESWITCH_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
        "FREESWITCH_GATEWAY": "provider",
        "FREESWITCH_COUNTRY": "NL",
        # GET /metrics (Prometheus): from these networks, or anywhere with this bearer token.
        "METRICS_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
        "METRICS_TOKEN": None,
        # "json": one JSON object per log line, with a line per phone request (MAC, tenant,
        # answer); anything else: plain text lines.
        "LOG_FORMAT": "text",
        # network: SNMP poller and trap receiver (`provisioner serve` runs them when enabled)
        "NETWORK_POLLER_ENABLED": False,
        "NETWORK_POLL_CONCURRENCY": 50,
        # This poller's name among those sharing the inventory (None: host name and process id).
        "NETWORK_POLLER_NAME": None,
        "NETWORK_POLL_DEADLINE": 300,
        "NETWORK_HISTORY_LIMIT": 288,
        "NETWORK_TRAPS_ENABLED": False,
        "NETWORK_TRAP_ADDRESS": "127.0.0.1",
        "NETWORK_TRAP_PORT": 16162,
        "NETWORK_TRAP_COMMUNITY": None,
        "NETWORK_TRAPS_KEPT": 500,
        # Phones: misses allowed per source address and window before it is throttled (0: off),
        # the first-use window opened by pairing (refused to an address with more misses than
        # PHONE_WINDOW_MAX_MISSES), the timeline kept per device and how often it is written
        # (batched off the request path; 0: in each request), the upload size limit.
        "PHONE_MISS_LIMIT": 100,
        "PHONE_MISS_WINDOW_SECONDS": 60,
        "PHONE_PAIRING_WINDOW_MINUTES": 30,
        "PHONE_WINDOW_MAX_MISSES": 20,
        # Routers' misses on /z/ are counted apart from phones' (one office's phones cannot
        # use up its router's limit).
        "ZEROTOUCH_MISS_LIMIT": 100,
        "ZEROTOUCH_MISS_WINDOW_SECONDS": 60,
        # A router that fetched its configuration is not polled until it reports how applying
        # it went (its done URL), or until this long after the fetch (then the timeline says
        # it never reported).
        "ZEROTOUCH_DONE_GRACE_SECONDS": 600,
        "PHONE_TIMELINE_LENGTH": 100,
        "PHONE_TIMELINE_FLUSH_SECONDS": 0.5,
        "PHONE_FAST_PATH": True,
        # With Redis: 0 counts each miss in one atomic round trip, so the limit holds across
        # workers; above 0, misses are sent in one pipeline this often and the limit holds
        # per worker only (a source may get up to that many answers more from each).
        "PHONE_MISS_SEND_SECONDS": 0.0,
        "PHONE_UPLOAD_MAX_BYTES": 1024 * 1024,
        # Basic credentials on /p/a/ over plain HTTP (the password in clear text): refused unless
        # set; over TLS (the WSGI scheme, or X-Forwarded-Proto with PROXY_HOPS) always taken.
        "ALLOW_BASIC_OVER_HTTP": False,
        # Phones proven by their factory certificate (docs/phones.md): each vendor's CA
        # certificates (PEM file: root and intermediates), {"yealink": "/etc/.../yealink.pem"},
        # and the header in which the TLS proxy passes the client certificate it verified
        # (read only with PROXY_HOPS set).
        "PHONE_CERTIFICATE_AUTHORITIES": {},
        "PHONE_CERTIFICATE_HEADER": "X-Client-Certificate",
        # The URL phones are sent to (http://host:port/p/); from the request or HTTP_HOST if unset.
        "PHONE_BASE_URL": None,
        # Where routers fetch their zero-touch configuration (https://host/); the request's host
        # if unset. Bootstrap commands name it.
        "ZEROTOUCH_BASE_URL": None,
        # The generic bootstrap's time zone, language and NTP server (no tenant is known there).
        "PHONE_BOOTSTRAP_TIMEZONE": "Europe/Amsterdam",
        "PHONE_BOOTSTRAP_LANGUAGE": "nl",
        "PHONE_BOOTSTRAP_NTP_SERVER": "pool.ntp.org",
        # How soon an unpaired phone asks again (so it finds its pairing while the window is open).
        "PHONE_BOOTSTRAP_RESYNC_SECONDS": 300,
        # Firmware: the catalogue's folder (manifest.json and the images), the providers'
        # Ed25519 public keys (base64, comma-separated; several during a key rotation), and
        # how long after fetching an image a phone that still reports its old version is
        # flagged as failed.
        # In the instance folder, not the checkout: `firmware add` writes the manifest, and a
        # git-tracked one would make every deployment's `git pull` conflict.
        "FIRMWARE_DIR": str(Path(instance_path) / "firmware"),
        "FIRMWARE_TRUSTED_KEYS": None,
        "FIRMWARE_FAILED_AFTER_SECONDS": 900,
        # The technicians' page /t/: how long a sign-in lasts at most and unused, failed
        # sign-ins per address.
        "TECHNICIAN_SESSION_HOURS": 12,
        "TECHNICIAN_IDLE_MINUTES": 30,
        "TECHNICIAN_SIGN_IN_LIMIT": 10,
        "TECHNICIAN_SIGN_IN_WINDOW_SECONDS": 300,
    }


REQUIRED_KEYS = ("DATABASE_URL",)


def load_config(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    """Layer the configuration in one place, then check it."""
    app.config.from_mapping(default_settings(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("PROVISIONER")
    if overrides is not None:
        app.config.from_mapping(overrides)
    check_config(app.config)


def check_config(config: Mapping[str, Any]) -> None:
    """Fail fast, naming the key that is missing or wrong."""
    for key in REQUIRED_KEYS:
        if not config.get(key):
            raise ConfigError(
                f"configuration key {key} is missing; set it in instance/config.py "
                f"or as the environment variable PROVISIONER_{key}"
            )
    networks = config.get("FREESWITCH_ALLOWED_NETWORKS") or ""
    for network in networks.split(",") if isinstance(networks, str) else networks:
        try:
            ipaddress.ip_network(str(network).strip(), strict=False)
        except ValueError as exc:
            raise ConfigError(
                f"FREESWITCH_ALLOWED_NETWORKS: {network!r} is not a network; "
                "write e.g. 127.0.0.0/8,192.0.2.10/32"
            ) from exc
    if config.get("FIRMWARE_TRUSTED_KEYS"):  # cryptography is loaded only when there are keys
        from provisioner.firmware.signing import trusted_keys

        trusted_keys(config["FIRMWARE_TRUSTED_KEYS"])  # a ConfigError names a key that is not one
    if config.get("PHONE_CERTIFICATE_AUTHORITIES"):  # a ConfigError names the wrong vendor/file
        from provisioner.phones.certificates import load_authorities

        load_authorities(config["PHONE_CERTIFICATE_AUTHORITIES"])
    grace = config.get("ZEROTOUCH_DONE_GRACE_SECONDS")
    if isinstance(grace, bool) or not isinstance(grace, int | float) or not 0 <= grace <= 86_400:
        raise ConfigError(
            f"ZEROTOUCH_DONE_GRACE_SECONDS must be a number of seconds 0-86400, not {grace!r}"
        )
    port = config.get("HTTP_PORT")
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"HTTP_PORT must be a port number 0-65535, not {port!r}")


def ensure_instance_folder(app: Flask) -> None:
    """Create the instance folder, readable by the owner only (it holds the secrets key)."""
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
