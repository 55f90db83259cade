"""Encrypted per-device files: the vendors' documented schemes as pure functions.

Two schemes cover the vendors that document one we can reproduce (docs/phones.md,
"Encrypted configuration files"):

- ``AES_128_ECB`` (Yealink): the 16-character key's bytes are the AES-128 key, ECB mode,
  PKCS#7 padding; what ``openssl enc -aes-128-ecb -K <hex of the key>`` reads.
- ``OPENSSL_AES_256_CBC`` (Cisco SPA and MPP): ``openssl enc -aes-256-cbc -md md5 -k <key>``:
  ``Salted__``, an 8-byte salt, then AES-256-CBC with key and IV from EVP_BytesToKey (MD5,
  one round), PKCS#7 padding.

The salt is derived from the key and the file (an HMAC), not drawn at random: the same file
encrypts to the same bytes, so its ETag holds and every worker answers alike. It tells no
more than the ETag does (whether the file changed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from enum import StrEnum

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY_ALPHABET = string.ascii_letters + string.digits  # every vendor takes these in a key
KEY_LENGTH = 16  # Yealink's older firmware takes 16 characters only (aes_key_16)
OPENSSL_MAGIC = b"Salted__"


class Scheme(StrEnum):
    """How a vendor's phone decrypts a file with the key it was given."""

    AES_128_ECB = "aes-128-ecb"
    OPENSSL_AES_256_CBC = "openssl-aes-256-cbc"


def new_file_key() -> str:
    """A random key for one device: 16 letters and digits (about 95 bits)."""
    return "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))


def encrypt(scheme: Scheme, body: bytes, key: str) -> bytes:
    """``body`` encrypted with ``key`` as ``scheme`` says."""
    if scheme is Scheme.AES_128_ECB:
        return encrypt_aes_128_ecb(body, key)
    return encrypt_openssl_aes_256_cbc(body, key, openssl_salt(body, key))


def _padded(body: bytes) -> bytes:
    padder = padding.PKCS7(128).padder()
    return padder.update(body) + padder.finalize()


def encrypt_aes_128_ecb(body: bytes, key: str) -> bytes:
    """AES-128-ECB with the key's 16 ASCII bytes as the key, PKCS#7 padding. ECB shows
    equal 16-byte blocks as equal: it is the phone's scheme, not our choice."""
    raw = key.encode("ascii")
    if len(raw) != 16:
        raise ValueError(f"an AES-128 key is 16 characters, not {len(raw)}")
    encryptor = Cipher(algorithms.AES(raw), modes.ECB()).encryptor()  # noqa: S305
    return encryptor.update(_padded(body)) + encryptor.finalize()


def evp_bytes_to_key(passphrase: bytes, salt: bytes) -> tuple[bytes, bytes]:
    """OpenSSL's EVP_BytesToKey with MD5 and one round: a 32-byte key and a 16-byte IV
    (what ``openssl enc -md md5 -k`` derives; MD5 was its default before 1.1.0)."""
    derived, block = b"", b""
    while len(derived) < 48:
        block = hashlib.md5(block + passphrase + salt, usedforsecurity=False).digest()
        derived += block
    return derived[:32], derived[32:48]


def openssl_salt(body: bytes, key: str) -> bytes:
    """The 8-byte salt for ``body``: an HMAC of it under the key (see the module's note)."""
    return hmac.new(key.encode(), body, hashlib.sha256).digest()[:8]


def encrypt_openssl_aes_256_cbc(body: bytes, passphrase: str, salt: bytes) -> bytes:
    """What ``openssl enc -e -aes-256-cbc -md md5 -k <passphrase> -S <salt>`` writes."""
    if len(salt) != 8:
        raise ValueError(f"an openssl salt is 8 bytes, not {len(salt)}")
    key, iv = evp_bytes_to_key(passphrase.encode(), salt)
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return OPENSSL_MAGIC + salt + encryptor.update(_padded(body)) + encryptor.finalize()
