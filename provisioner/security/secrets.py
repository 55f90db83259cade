"""Secrets at rest: SIP passwords, PINs and device credentials are stored encrypted (Fernet)."""

from __future__ import annotations

import base64
import binascii
import functools
import os
import secrets
import string
from pathlib import Path
from typing import TYPE_CHECKING

from provisioner.app_core import AppCore, flask_current_app
from provisioner.errors import ConfigError

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

EXTENSION_KEY = "provisioner.secrets"
PASSWORD_ALPHABET = string.ascii_letters + string.digits


# Decrypted secrets kept per process, by ciphertext: a boot storm asks for the same few
# secrets again and again, and a Fernet decrypt costs more than the rest of a lookup. A changed
# secret has a new ciphertext (Fernet's IV is random), so nothing stale is ever returned.
DECRYPTED_KEPT = 65_536


class SecretBox:
    """Encrypts and decrypts secrets with the instance key (older keys still decrypt).

    The cipher is made on first use, so a command that opens no secret (the lists) loads no
    cryptography; the keys were checked when read (load_keys).
    """

    def __init__(self, keys: list[bytes]) -> None:
        self._keys = keys
        self._decrypted = functools.lru_cache(maxsize=DECRYPTED_KEPT)(self._open)

    @functools.cached_property
    def _fernet(self) -> MultiFernet:
        from cryptography.fernet import Fernet, MultiFernet

        return MultiFernet([Fernet(key) for key in self._keys])

    def encrypt(self, plaintext: str) -> str:
        """The ciphertext of ``plaintext``, as text for a database column."""
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext of ``ciphertext``; ConfigError if no configured key opens it."""
        return self._decrypted(ciphertext)

    def _open(self, ciphertext: str) -> str:
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
        except InvalidToken as exc:
            raise ConfigError(
                "a stored secret cannot be decrypted with the configured SECRETS_KEY; "
                "restore the key file the data was written with"
            ) from exc


def new_password(length: int = 20) -> str:
    """A random password of letters and digits (safe in every phone config format)."""
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(length))


def new_pin(length: int = 6) -> str:
    """A random numeric PIN."""
    return "".join(secrets.choice(string.digits) for _ in range(length))


def load_keys(configured: str | None, key_file: str) -> list[bytes]:
    """Keys from SECRETS_KEY (comma-separated, newest first), else the instance key file;
    ConfigError naming the source when one is not a Fernet key."""
    if configured:
        keys = [key.strip().encode() for key in configured.split(",") if key.strip()]
        return checked_keys(keys, "SECRETS_KEY")
    path = Path(key_file)
    if not path.exists():
        from cryptography.fernet import Fernet

        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(Fernet.generate_key())
    keys = [line.strip() for line in path.read_bytes().splitlines() if line.strip()]
    return checked_keys(keys, str(path))


def checked_keys(keys: list[bytes], source: str) -> list[bytes]:
    """``keys`` when each is a Fernet key (32 bytes, URL-safe base64); ConfigError naming
    ``source`` and the key's position otherwise (never the key)."""
    if not keys:
        raise ConfigError(f"{source} holds no key; give one made by Fernet.generate_key()")
    for position, key in enumerate(keys, start=1):
        try:
            length = len(base64.urlsafe_b64decode(key))
        except (binascii.Error, ValueError):
            length = -1
        if length != 32:
            raise ConfigError(
                f"{source}: key {position} is not a Fernet key (32 bytes, URL-safe base64); "
                "restore the key the data was written with"
            )
    return keys


def init_app(app: AppCore) -> None:
    """Attach the app's secret box, creating the instance key on first start."""
    keys = load_keys(app.config.get("SECRETS_KEY"), app.config["SECRETS_KEY_FILE"])
    app.extensions[EXTENSION_KEY] = SecretBox(keys)


def get_secret_box(app: AppCore | None = None) -> SecretBox:
    """The secret box of ``app``, or of the current app."""
    box: SecretBox = (app or flask_current_app()).extensions[EXTENSION_KEY]
    return box
