"""Encrypted per-device files through real servers: the app on plain HTTP and on HTTPS
(werkzeug with a self-signed certificate, loopback), and TFTP. A phone gets its file key
only over HTTPS; from then on its file is encrypted everywhere, and the real ``openssl``
decrypts it with the vendor's documented scheme."""

from __future__ import annotations

import base64
import http.client
import re
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from provisioner.phones.encryption import new_file_key
from provisioner.phones.render import tftp_render_function
from provisioner.security import audit
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store, models
from tests.phones.conftest import deployed_phone, encrypt_files_of, pair, serve, sip_password
from tests.phones.http_client import digest_authorization, digest_challenge, fetch
from tests.phones.samples import SAMPLES
from tests.phones.test_tftp import curl_tftp
from tests.tls import self_signed

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

YEALINK = SAMPLES[0]
CISCO = SAMPLES[4]
OTHER_MAC = "805ec0aa00ff"
YEALINK_KEY = re.compile(rb"^static\.auto_provision\.aes_key\.mac = (\w{16})$", re.MULTILINE)
CISCO_KEY = re.compile(rb"--key (\w{16})\]")


@dataclass
class Servers:
    """The same app over plain HTTP and over HTTPS."""

    plain: str  # base URL
    secure_port: int
    certificate: Path

    def https(
        self,
        path: str,
        user_agent: str,
        headers: dict[str, str] | None = None,
        method: str = "GET",
    ) -> tuple[int, bytes]:
        """``method`` (GET) ``path`` over HTTPS, trusting the server's self-signed certificate."""
        context = ssl.create_default_context(cafile=str(self.certificate))
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.secure_port, timeout=10, context=context
        )
        try:
            connection.request(method, path, headers={"User-Agent": user_agent, **(headers or {})})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


@pytest.fixture
def servers(phone_app: Flask, tmp_path: Path) -> Iterator[Servers]:
    certificate, key = self_signed(tmp_path)
    plain_url, plain_thread, plain = serve(phone_app)
    secure: Any = make_server(
        "127.0.0.1", 0, phone_app, threaded=True, ssl_context=(str(certificate), str(key))
    )
    secure_thread = threading.Thread(target=secure.serve_forever, args=(0.05,), daemon=True)
    secure_thread.start()
    yield Servers(plain_url, secure.server_port, certificate)
    for server, thread in ((plain, plain_thread), (secure, secure_thread)):
        server.shutdown()  # type: ignore[attr-defined]
        thread.join(timeout=10)


def openssl_decrypt(data: bytes, *arguments: str) -> subprocess.CompletedProcess[bytes]:
    """``openssl enc -d`` with ``arguments``: the vendor's documented scheme."""
    return subprocess.run(
        ["openssl", "enc", "-d", *arguments], input=data, capture_output=True, check=False
    )


def yealink_decrypt(data: bytes, key: str) -> subprocess.CompletedProcess[bytes]:
    return openssl_decrypt(data, "-aes-128-ecb", "-K", key.encode().hex())


def cisco_decrypt(data: bytes, key: str) -> subprocess.CompletedProcess[bytes]:
    return openssl_decrypt(data, "-aes-256-cbc", "-md", "md5", "-k", key)


def key_events(app: Flask) -> list[models.AuditEvent]:
    with get_store(app).reading() as session:
        return [e for e in audit.recent(session, "demo") if e.action == audit.RELEASE_FILE_KEY]


def stored_key(app: Flask, mac: str) -> str:
    with get_store(app).reading() as session:
        column = models.DeviceCredential.file_key_encrypted
        ciphertext = session.scalar(select(column).where(models.DeviceCredential.mac == mac))
    assert ciphertext is not None
    return get_secret_box(app).decrypt(ciphertext)


def test_yealink_gets_its_key_over_https_then_its_file_encrypted_everywhere(
    phone_app: Flask, servers: Servers, tmp_path: Path
) -> None:
    encrypt_files_of(phone_app, "yealink")
    pair(phone_app, YEALINK.mac, YEALINK.vendor, YEALINK.model)  # first-use window open
    secret = sip_password(phone_app).encode()
    path, agent = f"/p/{YEALINK.mac}.cfg", YEALINK.user_agent

    # Plain HTTP before the key was delivered: the full file (the window), no key in it.
    status, before, _ = fetch(servers.plain, path, agent)
    assert status == 200 and secret in before and b"aes_key" not in before
    assert key_events(phone_app) == []

    # HTTPS: the full file, plain, carrying the device's key; audited without the key.
    status, handed = servers.https(path, agent)
    found = YEALINK_KEY.search(handed)
    assert status == 200 and secret in handed and found is not None
    key = found[1].decode()
    assert key == stored_key(phone_app, YEALINK.mac)
    assert b"static.auto_provision.aes_key_16.mac = " + key.encode() in handed  # older name
    [event] = key_events(phone_app)
    assert event.object_key == YEALINK.mac
    assert event.changes["scheme"] == "aes-128-ecb" and event.changes["via"] == "https"
    assert key not in str(audit.as_json(event))

    # From now on the file is encrypted: over plain HTTP, over HTTPS and over TFTP alike
    # (each names its own provisioning URL in the file, so their bytes differ).
    from provisioner.tftp import TftpService  # type: ignore[import-not-found, unused-ignore]

    tftp: Any = TftpService(tftp_render_function(phone_app), host="127.0.0.1", port=0)
    host, port = tftp.start()
    try:
        by_tftp = curl_tftp(host, port, f"{YEALINK.mac}.cfg", tmp_path / "tftp.cfg")
    finally:
        tftp.stop()
    status, encrypted, _ = fetch(servers.plain, path, agent)
    assert status == 200
    for served in (encrypted, servers.https(path, agent)[1], by_tftp):
        assert served is not None and secret not in served and key.encode() not in served
        assert not served.startswith(b"#!version")
        opened = yealink_decrypt(served, key)
        assert opened.returncode == 0, opened.stderr
        assert opened.stdout.startswith(b"#!version:1.0.0.1\n") and secret in opened.stdout
        assert YEALINK_KEY.search(opened.stdout)[1] == key.encode()  # type: ignore[index]
    # The same file again gives the same bytes (its ETag holds); another key opens nothing.
    assert fetch(servers.plain, path, agent)[1] == encrypted
    wrong = yealink_decrypt(encrypted, new_file_key())
    assert wrong.returncode != 0 or secret not in wrong.stdout
    assert len(key_events(phone_app)) == 1  # the key was handed once


def test_another_macs_file_gets_no_key_and_nothing_to_decrypt(
    phone_app: Flask, servers: Servers
) -> None:
    encrypt_files_of(phone_app, "yealink")
    pair(phone_app, YEALINK.mac, YEALINK.vendor, YEALINK.model)
    deployed_phone(phone_app, OTHER_MAC)  # paired, window closed: it proves itself or nothing
    secret = sip_password(phone_app).encode()
    status, handed = servers.https(f"/p/{YEALINK.mac}.cfg", YEALINK.user_agent)
    key = YEALINK_KEY.search(handed)[1]  # type: ignore[index]

    other = YEALINK.for_mac(OTHER_MAC)
    for agent in (YEALINK.user_agent, other.user_agent):  # the first phone's, the MAC's own
        for answer in (
            servers.https(f"/p/{OTHER_MAC}.cfg", agent)[1],
            fetch(servers.plain, f"/p/{OTHER_MAC}.cfg", agent)[1],
            servers.https("/p/805ec0aa0abc.cfg", agent)[1],  # a MAC nobody has
        ):
            assert secret not in answer and key not in answer and b"aes_key" not in answer
            assert answer.startswith(b"#!version:1.0.0.1")  # the bootstrap, in clear
    # The other phone's own credentials over HTTPS give it its own key, not the first's.
    with get_store(phone_app).reading() as session:
        credential = session.scalar(
            select(models.DeviceCredential).where(models.DeviceCredential.mac == OTHER_MAC)
        )
        assert credential is not None
        password = get_secret_box(phone_app).decrypt(credential.password_encrypted)
    basic = base64.b64encode(f"{OTHER_MAC}:{password}".encode()).decode()
    _, own = servers.https(
        f"/p/a/{OTHER_MAC}.cfg", other.user_agent, {"Authorization": f"Basic {basic}"}
    )
    assert secret in own and YEALINK_KEY.search(own)[1] != key  # type: ignore[index]


def test_a_head_over_https_hands_no_key_its_answer_has_no_body(
    phone_app: Flask, servers: Servers
) -> None:
    encrypt_files_of(phone_app, "yealink")
    pair(phone_app, YEALINK.mac, YEALINK.vendor, YEALINK.model)
    secret = sip_password(phone_app).encode()
    path, agent = f"/p/{YEALINK.mac}.cfg", YEALINK.user_agent
    status, body = servers.https(path, agent, method="HEAD")
    assert status == 200 and body == b""
    assert key_events(phone_app) == []
    status, plain, _ = fetch(servers.plain, path, agent)  # still plain: the phone has no key
    assert status == 200 and secret in plain and b"aes_key" not in plain
    status, handed = servers.https(path, agent)  # a GET hands it
    assert status == 200 and YEALINK_KEY.search(handed) is not None
    assert len(key_events(phone_app)) == 1


def test_without_the_tenant_setting_https_hands_no_key(phone_app: Flask, servers: Servers) -> None:
    pair(phone_app, YEALINK.mac, YEALINK.vendor, YEALINK.model)
    secret = sip_password(phone_app).encode()
    path = f"/p/{YEALINK.mac}.cfg"
    for _ in range(2):
        status, body = servers.https(path, YEALINK.user_agent)
        assert status == 200 and secret in body and b"aes_key" not in body
    assert key_events(phone_app) == []


def test_a_re_pair_hands_the_same_key_again_before_encrypting(
    phone_app: Flask, servers: Servers
) -> None:
    """A re-paired phone may have been reset: until a file over HTTPS hands it the key again,
    it gets plain files (without the key over plain HTTP)."""
    encrypt_files_of(phone_app, "yealink")
    pair(phone_app, YEALINK.mac, YEALINK.vendor, YEALINK.model)
    path, agent = f"/p/{YEALINK.mac}.cfg", YEALINK.user_agent
    key = YEALINK_KEY.search(servers.https(path, agent)[1])[1]  # type: ignore[index]
    assert not fetch(servers.plain, path, agent)[1].startswith(b"#!version")  # encrypted

    pair(phone_app, YEALINK.mac, YEALINK.vendor, YEALINK.model)  # re-pair: a new window
    _, plain, _ = fetch(servers.plain, path, agent)
    assert plain.startswith(b"#!version") and b"aes_key" not in plain
    assert YEALINK_KEY.search(servers.https(path, agent)[1])[1] == key  # type: ignore[index]
    assert len(key_events(phone_app)) == 2


def digest_get(base_url: str, path: str, agent: str, username: str, password: str) -> bytes:
    """A Digest fetch over plain HTTP, as a phone makes it: challenge, then the answer."""
    status, _, headers = fetch(base_url, path, agent)
    assert status == 401
    answer = digest_authorization(digest_challenge(headers), "GET", path, username, password)
    status, body, _ = fetch(base_url, path, agent, headers={"Authorization": answer})
    assert status == 200, body
    return body


def test_cisco_key_rides_in_the_profile_rule_then_openssl_md5_decrypts(
    phone_app: Flask, servers: Servers
) -> None:
    encrypt_files_of(phone_app, "cisco_mpp")
    basic = deployed_phone(phone_app, CISCO.mac, CISCO.vendor, CISCO.model)
    username, password = base64.b64decode(basic.removeprefix("Basic ")).decode().split(":")
    secret = sip_password(phone_app).encode()
    path, agent = f"/p/a/{CISCO.mac}.xml", CISCO.user_agent

    # Digest over plain HTTP before the key was delivered: the full file, no key.
    before = digest_get(servers.plain, path, agent, username, password)
    assert secret in before and b"--key" not in before

    # HTTPS with Basic (taken over TLS): the key in the rule that fetches this file.
    status, handed = servers.https(path, agent, {"Authorization": basic})
    found = CISCO_KEY.search(handed)
    assert status == 200 and found is not None and secret in handed
    key = found[1].decode()
    assert f"[--uid {username} --pwd {password} --key {key}]".encode() in handed

    # Then encrypted as `openssl enc -aes-256-cbc` writes it, over HTTP and HTTPS alike.
    status, over_https = servers.https(path, agent, {"Authorization": basic})
    encrypted = digest_get(servers.plain, path, agent, username, password)
    for served in (encrypted, over_https):
        assert served.startswith(b"Salted__") and secret not in served
        opened = cisco_decrypt(served, key)
        assert opened.returncode == 0, opened.stderr
        assert b"<flat-profile" in opened.stdout and secret in opened.stdout
        assert CISCO_KEY.search(opened.stdout)[1] == key.encode()  # type: ignore[index]
    assert cisco_decrypt(encrypted, new_file_key()).returncode != 0
    [event] = key_events(phone_app)
    assert event.changes["scheme"] == "openssl-aes-256-cbc"
    assert event.changes["proof"] == "credentials"
