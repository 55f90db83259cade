"""Ed25519 keys and signatures for firmware files (pure: bytes in, bytes or reasons out).

What is signed is a short statement naming the file and what it is for, not the image alone,
so a valid image cannot be re-labelled for another model or version without a new signature:

    provisioner-firmware-v1
    <vendor>
    <model>,<model>...
    <version>
    <file name>
    <size>
    <sha256 hex>
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from provisioner.errors import ConfigError, FirmwareRefused

STATEMENT_HEADER = "provisioner-firmware-v1"


@dataclass(frozen=True, slots=True)
class Statement:
    """What a signature vouches for."""

    vendor: str
    models: tuple[str, ...]
    version: str
    file_name: str
    size: int
    sha256: str

    def encode(self) -> bytes:
        """The exact bytes that are signed."""
        lines = (
            STATEMENT_HEADER,
            self.vendor,
            ",".join(self.models),
            self.version,
            self.file_name,
            str(self.size),
            self.sha256,
        )
        return ("\n".join(lines) + "\n").encode()


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short name for a public key: the first 16 hex digits of its SHA-256."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_text(public_key: Ed25519PublicKey) -> str:
    """The public key as FIRMWARE_TRUSTED_KEYS holds it: base64 of its 32 raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def new_private_key() -> tuple[bytes, Ed25519PrivateKey]:
    """A fresh signing key and its PEM form (PKCS#8, unencrypted: keep the file private)."""
    private_key = Ed25519PrivateKey.generate()
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem, private_key


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    """A signing key from its PEM file; FirmwareRefused when it is not an Ed25519 key."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise FirmwareRefused(
            "the signing key is not a PEM private key; make one with `provisioner firmware keygen`"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise FirmwareRefused("the signing key is not an Ed25519 key")
    return key


# How an operator trusts a key: the setting's two spellings, and when the server sees it.
HOW_TO_TRUST = (
    "set PROVISIONER_FIRMWARE_TRUSTED_KEYS in the environment (or FIRMWARE_TRUSTED_KEYS in "
    "instance/config.py) and restart the server, which reads it at start"
)


def parse_public_key(text: str) -> Ed25519PublicKey:
    """One trusted key from its base64 text; ConfigError naming the setting otherwise."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(
            f"FIRMWARE_TRUSTED_KEYS: {text.strip()[:20]!r} is not a base64 Ed25519 public key; "
            "use the line `provisioner firmware keygen` prints"
        ) from exc


def trusted_keys(setting: str | Iterable[str] | None) -> dict[str, Ed25519PublicKey]:
    """FIRMWARE_TRUSTED_KEYS (a list, or text separated by commas) by key id."""
    if not setting:
        return {}
    texts = setting.split(",") if isinstance(setting, str) else list(setting)
    keys = [parse_public_key(text) for text in texts if text.strip()]
    return {key_id(key): key for key in keys}


def sign(private_key: Ed25519PrivateKey, statement: Statement) -> str:
    """The base64 signature of ``statement``."""
    return base64.b64encode(private_key.sign(statement.encode())).decode()


def signature_problem(
    statement: Statement, signature: str, signer: str, keys: Mapping[str, Ed25519PublicKey]
) -> str | None:
    """Why ``signature`` does not vouch for ``statement`` under the trusted ``keys``, or None."""
    if not keys:
        return f"no key is trusted: {HOW_TO_TRUST}"
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return "the signature is not base64"
    candidates = [keys[signer]] if signer in keys else list(keys.values())
    for key in candidates:
        try:
            key.verify(raw, statement.encode())
        except InvalidSignature:
            continue
        return None
    if signer and signer not in keys:
        return (
            f"signed by key {signer}, which FIRMWARE_TRUSTED_KEYS does not trust (to trust "
            f"it, {HOW_TO_TRUST})"
        )
    return (
        "the signature was not made by a trusted key (FIRMWARE_TRUSTED_KEYS) for this file "
        "with this vendor, models and version"
    )


def signer_of(statement: Statement, signature: str, keys: Mapping[str, Ed25519PublicKey]) -> str:
    """The id of the trusted key that made ``signature`` (call after signature_problem)."""
    raw = base64.b64decode(signature)
    for identifier, key in keys.items():
        try:
            key.verify(raw, statement.encode())
        except InvalidSignature:
            continue
        return identifier
    return ""
