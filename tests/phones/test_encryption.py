"""The file encryption schemes against the real ``openssl`` command, as the vendors document
them: Yealink's AES-128-ECB with the key's bytes, and ``openssl enc -aes-256-cbc -md md5 -k``
(Cisco)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from provisioner.phones.encryption import (
    KEY_ALPHABET,
    Scheme,
    encrypt,
    encrypt_aes_128_ecb,
    encrypt_openssl_aes_256_cbc,
    new_file_key,
)
from provisioner.phones.vendors import VENDORS
from provisioner.tenants.schema import EncryptingVendor

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

BODY = b"#!version:1.0.0.1\naccount.1.password = s3cret-240\n" * 7  # not a block multiple


def openssl(data: bytes, *arguments: str) -> subprocess.CompletedProcess[bytes]:
    """``openssl enc`` with ``arguments``, ``data`` on standard input."""
    return subprocess.run(
        ["openssl", "enc", *arguments], input=data, capture_output=True, check=False
    )


def aes_128_ecb(key: str) -> tuple[str, ...]:
    return ("-aes-128-ecb", "-K", key.encode().hex())


def aes_256_cbc(key: str) -> tuple[str, ...]:
    return ("-aes-256-cbc", "-md", "md5", "-k", key)


def test_new_keys_are_16_letters_and_digits_and_differ() -> None:
    keys = {new_file_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(len(key) == 16 and set(key) <= set(KEY_ALPHABET) for key in keys)


def test_yealink_scheme_is_what_openssl_aes_128_ecb_decrypts() -> None:
    key = new_file_key()
    encrypted = encrypt_aes_128_ecb(BODY, key)
    assert BODY not in encrypted and len(encrypted) % 16 == 0
    assert openssl(encrypted, "-d", *aes_128_ecb(key)).stdout == BODY
    # openssl's own encryption with that key gives the same bytes (ECB, PKCS#7)
    assert openssl(BODY, "-e", *aes_128_ecb(key)).stdout == encrypted


def test_openssl_scheme_is_what_openssl_enc_md5_decrypts() -> None:
    key = new_file_key()
    encrypted = encrypt(Scheme.OPENSSL_AES_256_CBC, BODY, key)
    assert encrypted.startswith(b"Salted__") and BODY not in encrypted
    assert openssl(encrypted, "-d", *aes_256_cbc(key)).stdout == BODY
    # The same salt through openssl itself: the same bytes (EVP_BytesToKey with MD5); with
    # -S, OpenSSL 3 leaves the header out.
    salt = encrypted[8:16]
    ciphertext = openssl(BODY, "-e", *aes_256_cbc(key), "-S", salt.hex()).stdout
    assert ciphertext.removeprefix(b"Salted__" + salt) == encrypted[16:]
    assert encrypt_openssl_aes_256_cbc(BODY, key, salt) == encrypted


def test_the_same_file_encrypts_alike_and_a_changed_one_differently() -> None:
    key = new_file_key()
    first = encrypt(Scheme.OPENSSL_AES_256_CBC, BODY, key)
    assert encrypt(Scheme.OPENSSL_AES_256_CBC, BODY, key) == first  # its ETag holds
    changed = encrypt(Scheme.OPENSSL_AES_256_CBC, BODY + b"x", key)
    assert changed[8:16] != first[8:16]  # a new salt, so a new key and IV


@pytest.mark.parametrize("scheme", list(Scheme), ids=[scheme.value for scheme in Scheme])
def test_another_key_does_not_open_the_file(scheme: Scheme) -> None:
    encrypted = encrypt(scheme, BODY, new_file_key())
    arguments = aes_128_ecb if scheme is Scheme.AES_128_ECB else aes_256_cbc
    opened = openssl(encrypted, "-d", *arguments(new_file_key()))
    assert opened.returncode != 0 or b"s3cret-240" not in opened.stdout


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: encrypt_aes_128_ecb(BODY, "short"), "16 characters, not 5"),
        (lambda: encrypt_openssl_aes_256_cbc(BODY, "k" * 16, b"1234"), "8 bytes, not 4"),
    ],
    ids=["yealink key length", "openssl salt length"],
)
def test_wrong_sizes_are_refused_with_the_reason(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_the_tenant_setting_names_exactly_the_vendors_with_a_scheme() -> None:
    with_scheme = {vendor.name for vendor in VENDORS if vendor.file_encryption is not None}
    assert set(EncryptingVendor.__args__) == with_scheme == {"yealink", "cisco_mpp", "cisco_spa"}
