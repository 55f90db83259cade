"""The instance keys: checked when read (naming where the bad one is, never its value), and a
secret box that encrypts and decrypts with them, older keys still opening old secrets."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from provisioner.errors import ConfigError
from provisioner.security.secrets import SecretBox, load_keys
from tests.conftest import make_app


@pytest.mark.parametrize(
    "configured",
    [
        "not-a-key",
        base64.urlsafe_b64encode(b"x" * 31).decode(),  # base64, but 31 bytes
    ],
    ids=["not-base64", "short"],
)
def test_a_configured_key_that_is_no_fernet_key_stops_the_start(
    tmp_path: Path, configured: str
) -> None:
    with pytest.raises(ConfigError, match="SECRETS_KEY") as refused:
        make_app(tmp_path, SECRETS_KEY=f"{Fernet.generate_key().decode()},{configured}")
    assert "key 2 is not a Fernet key" in str(refused.value)
    assert configured not in str(refused.value)


def test_a_configured_list_without_a_key_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRETS_KEY holds no key"):
        make_app(tmp_path, SECRETS_KEY=" , ")


def test_a_key_file_with_a_broken_key_is_named(tmp_path: Path) -> None:
    key_file = tmp_path / "secrets.key"
    key_file.write_bytes(b"garbage\n")
    with pytest.raises(ConfigError, match=f"{key_file}: key 1 is not a Fernet key"):
        load_keys(None, str(key_file))


def test_a_missing_key_file_is_made_with_a_working_key(tmp_path: Path) -> None:
    key_file = tmp_path / "instance" / "secrets.key"
    keys = load_keys(None, str(key_file))
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert SecretBox(keys).decrypt(SecretBox(keys).encrypt("1234")) == "1234"


def test_an_older_key_still_decrypts_what_it_encrypted() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    written = SecretBox([old]).encrypt("sip-password")
    rotated = SecretBox([new, old])
    assert rotated.decrypt(written) == "sip-password"
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        SecretBox([new]).decrypt(written)
