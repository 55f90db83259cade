"""Mutual TLS through a real nginx in front of the production command (granian, which hands
WSGI no client certificate): nginx asks for the phone's certificate (``ssl_verify_client
optional``, the vendor CAs), verifies it and passes it in X-Client-Certificate, which the app
believes from PROXY_HOPS=1 proxies only. As docs/phones.md configures it."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from cryptography.fernet import Fernet

from provisioner import create_app
from provisioner.store import get_store
from tests.conftest import import_demo
from tests.http.test_metrics import free_port
from tests.http.test_production import start_production, stop
from tests.http.test_reverse_proxy import wait_for_nginx
from tests.phones.conftest import deployed_phone, encrypt_files_of, sip_password
from tests.phones.device_certificates import (
    Issued,
    device_certificate,
    server_certificate,
    vendor_authority,
)
from tests.phones.samples import SAMPLES

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="needs nginx (nginx-light)")

YEALINK = SAMPLES[0]
OTHER_MAC = "805ec0aa00ff"


@dataclass
class Proxied:
    port: int
    folder: Path
    yealink_ca: Issued
    server_ca: Issued
    secret: bytes  # extension 240's SIP password: only full files carry it


def settings(tmp_path: Path, authorities: dict[str, str]) -> dict[str, str]:
    return {
        "PROVISIONER_INSTANCE": str(tmp_path / "instance"),
        "PROVISIONER_DATABASE_URL": f"sqlite:///{tmp_path / 'provisioner.sqlite3'}",
        "PROVISIONER_SECRETS_KEY": Fernet.generate_key().decode(),
        "PROVISIONER_PROXY_HOPS": "1",
        "PROVISIONER_LOAD_DEMO_ON_EMPTY": "false",
        "PROVISIONER_PHONE_CERTIFICATE_AUTHORITIES": json.dumps(authorities),
    }


def prepare_store(environment: dict[str, str]) -> bytes:
    """The demo tenant with two deployed Yealinks (windows closed); the SIP password of 240."""
    config = {key.removeprefix("PROVISIONER_"): value for key, value in environment.items()}
    config["PROXY_HOPS"] = 1
    config["PHONE_CERTIFICATE_AUTHORITIES"] = json.loads(config["PHONE_CERTIFICATE_AUTHORITIES"])
    app = create_app(config, instance_path=environment["PROVISIONER_INSTANCE"])
    import_demo(app)
    encrypt_files_of(app, "yealink")
    for mac in (YEALINK.mac, OTHER_MAC):
        deployed_phone(app, mac, YEALINK.vendor, YEALINK.model)
    secret = sip_password(app).encode()
    get_store(app).dispose()
    return secret


def nginx_configuration(folder: Path, port: int, upstream: int, authorities: Path) -> str:
    """nginx terminating TLS, asking phones for their certificate, passing it on."""
    return (
        f"daemon off; worker_processes 1; pid {folder}/nginx.pid;"
        f" error_log {folder}/error.log error;\n"
        "events { worker_connections 64; }\n"
        f"http {{ access_log off; client_body_temp_path {folder}/body;"
        f" proxy_temp_path {folder}/proxy;\n"
        f"  server {{ listen 127.0.0.1:{port} ssl;\n"
        f"    ssl_certificate {folder}/server.pem; ssl_certificate_key {folder}/server.key;\n"
        f"    ssl_client_certificate {authorities}; ssl_verify_client optional;"
        " ssl_verify_depth 2;\n"
        f"    location / {{ proxy_pass http://127.0.0.1:{upstream};\n"
        "      proxy_set_header Host $host;\n"
        "      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
        "      proxy_set_header X-Forwarded-Proto $scheme;\n"
        "      proxy_set_header X-Client-Certificate $ssl_client_escaped_cert; } } }\n"
    )


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[Proxied]:
    yealink_ca, server_ca = vendor_authority("yealink"), vendor_authority("server")
    cisco_ca = vendor_authority("cisco_mpp")
    folder = tmp_path / "nginx"
    folder.mkdir()
    folder.chmod(0o755)
    paths = {
        "yealink": str(yealink_ca.write(folder, "yealink-ca")[0]),
        "cisco_mpp": str(cisco_ca.write(folder, "cisco-ca")[0]),
    }
    bundle = folder / "vendor-cas.pem"  # nginx trusts every vendor's CA at once
    bundle.write_bytes(yealink_ca.pem() + cisco_ca.pem())
    server_certificate(server_ca).write(folder, "server")
    environment = settings(tmp_path, paths)
    secret = prepare_store(environment)
    upstream, production = start_production(app="provisioner:create_app", environment=environment)
    port = free_port()
    (folder / "nginx.conf").write_text(nginx_configuration(folder, port, upstream, bundle))
    nginx = subprocess.Popen(["nginx", "-c", str(folder / "nginx.conf"), "-p", str(folder)])
    try:
        wait_for_nginx(port, nginx)
        yield Proxied(port, folder, yealink_ca, server_ca, secret)
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        stop(production)


def get(
    proxied: Proxied,
    mac: str,
    certificate: Issued | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """GET the Yealink file of ``mac`` over HTTPS, presenting ``certificate`` if given."""
    context = ssl.create_default_context(cadata=proxied.server_ca.pem().decode())
    if certificate is not None:
        files = certificate.write(proxied.folder, f"client-{mac}")
        context.load_cert_chain(*files)
    connection = http.client.HTTPSConnection("localhost", proxied.port, timeout=20, context=context)
    try:
        agent = YEALINK.for_mac(mac).user_agent
        connection.request("GET", f"/p/{mac}.cfg", headers={"User-Agent": agent, **(headers or {})})
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200, (response.status, body[:200])
        return body
    finally:
        connection.close()


def test_a_device_certificate_naming_the_mac_gets_the_full_file_with_no_window(
    proxied: Proxied,
) -> None:
    assert proxied.secret not in get(proxied, YEALINK.mac)  # no certificate: the window rules
    certificate = device_certificate(proxied.yealink_ca, "yealink", YEALINK.mac)
    assert proxied.secret in get(proxied, YEALINK.mac, certificate)


def test_the_same_certificate_on_another_macs_file_is_refused(proxied: Proxied) -> None:
    certificate = device_certificate(proxied.yealink_ca, "yealink", YEALINK.mac)
    assert proxied.secret not in get(proxied, OTHER_MAC, certificate)


def test_a_clients_own_certificate_header_does_not_pass_the_proxy(proxied: Proxied) -> None:
    certificate = device_certificate(proxied.yealink_ca, "yealink", YEALINK.mac)
    forged = {"X-Client-Certificate": quote(certificate.pem().decode(), safe="")}
    assert proxied.secret not in get(proxied, YEALINK.mac, headers=forged)


def test_a_proven_phone_gets_its_file_key_then_its_file_encrypted(proxied: Proxied) -> None:
    """The tenant encrypts Yealink files: the certificate-proven fetch hands the key (the
    production command behind nginx), the next one is AES-128-ECB as Yealink reads it."""
    certificate = device_certificate(proxied.yealink_ca, "yealink", YEALINK.mac)
    handed = get(proxied, YEALINK.mac, certificate)
    found = re.search(rb"^static\.auto_provision\.aes_key\.mac = (\w{16})$", handed, re.M)
    assert found is not None and proxied.secret in handed
    encrypted = get(proxied, YEALINK.mac, certificate)
    assert proxied.secret not in encrypted and found[1] not in encrypted
    opened = subprocess.run(
        ["openssl", "enc", "-d", "-aes-128-ecb", "-K", found[1].hex()],
        input=encrypted,
        capture_output=True,
        check=True,
    )
    assert opened.stdout.startswith(b"#!version:1.0.0.1") and proxied.secret in opened.stdout
    # The certificate on another MAC's file: no key, nothing encrypted, nothing secret.
    refused = get(proxied, OTHER_MAC, certificate)
    assert b"aes_key" not in refused and proxied.secret not in refused
