"""Configuration: defaults, then ``instance/config.py``, then ``PROVISIONER_*`` variables.

Read here without Flask, with the rules of Flask's ``Config.from_pyfile`` and
``from_prefixed_env``: `create_app` puts the result in its Flask app's config, and the command
line's other commands (`provisioner.app_core`) use it as it is, without importing Flask.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from provisioner.errors import ConfigError

if TYPE_CHECKING:
    from provisioner.app_core import AppCore

ENVIRONMENT_PREFIX = "PROVISIONER_"

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
        # With Redis: how long a paired phone's full file, once made, is kept there for every
        # worker and instance (sealed; 0: each worker makes its own).
        "PHONE_SHARED_FILE_SECONDS": 3600,
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


def load_settings(instance_path: str, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Layer the configuration in one place, then check it."""
    settings = default_settings(instance_path)
    settings.update(read_instance_file(Path(instance_path) / "config.py"))
    read_environment(settings, os.environ)
    settings.update(upper_case_items(overrides or {}))
    check_config(settings)
    return settings


def load_config(app: AppCore, overrides: Mapping[str, Any] | None) -> None:
    """Put the layered, checked configuration in the app's config."""
    app.config.update(load_settings(app.instance_path, overrides))


def upper_case_items(values: Mapping[str, Any]) -> dict[str, Any]:
    """The settings among ``values``: upper-case names only (Flask's ``from_mapping``)."""
    return {key: value for key, value in values.items() if key.isupper()}


def read_instance_file(file: Path) -> dict[str, Any]:
    """The upper-case names ``file`` sets when run (Flask's ``from_pyfile``); {} when there is
    no such file."""
    namespace: dict[str, Any] = {"__name__": "config", "__file__": str(file)}
    try:
        source = file.read_bytes()
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.EISDIR, errno.ENOTDIR):
            return {}
        exc.strerror = f"Unable to load configuration file ({exc.strerror})"
        raise
    exec(compile(source, str(file), "exec"), namespace)  # the operator's own settings file
    return upper_case_items(namespace)


def read_environment(settings: dict[str, Any], environment: Mapping[str, str]) -> None:
    """Apply ``PROVISIONER_*`` variables, in name order (Flask's ``from_prefixed_env``): a value
    is JSON when it parses as JSON, else text; ``__`` in a name sets a key of a nested dict
    (``PROVISIONER_PHONE_CERTIFICATE_AUTHORITIES__yealink``)."""
    for name in sorted(environment):
        if not name.startswith(ENVIRONMENT_PREFIX):
            continue
        value: Any = environment[name]
        try:
            value = json.loads(value)
        except ValueError:
            pass
        *parents, key = name.removeprefix(ENVIRONMENT_PREFIX).split("__")
        target = settings
        for parent in parents:
            target = target.setdefault(parent, {})
        target[key] = value


def default_instance_path() -> str:
    """Flask's default instance folder for this package: ``instance`` beside the package in a
    checkout, ``PREFIX/var/provisioner-instance`` when installed into a Python or virtualenv."""
    package_path = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    prefix = os.path.abspath(sys.prefix)
    if PurePath(package_path).is_relative_to(prefix):
        return os.path.join(prefix, "var", "provisioner-instance")
    site_parent, site_folder = os.path.split(package_path)
    if site_folder.lower() != "site-packages":
        return os.path.join(package_path, "instance")
    parent, folder = os.path.split(site_parent)
    if folder.lower() == "lib":
        return os.path.join(parent, "var", "provisioner-instance")
    if os.path.basename(parent).lower() == "lib":
        return os.path.join(os.path.dirname(parent), "var", "provisioner-instance")
    return os.path.join(site_parent, "var", "provisioner-instance")


def instance_path(chosen: str | None = None) -> str:
    """The instance folder: ``chosen``, else ``$PROVISIONER_INSTANCE``, else Flask's default.
    Like Flask, refuses a relative one."""
    path = chosen or os.environ.get("PROVISIONER_INSTANCE") or default_instance_path()
    if not os.path.isabs(path):
        raise ValueError(
            "If an instance path is provided it must be absolute. A relative path was given"
            " instead."
        )
    return path


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


def ensure_instance_folder(app: AppCore) -> None:
    """Create the instance folder, readable by the owner only (it holds the secrets key)."""
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
