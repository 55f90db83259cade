"""Phones proven by their factory certificate (mutual TLS at the proxy): a certificate a
configured vendor CA issued, naming the requested MAC, earns the full file with no window
open; naming another MAC, it is refused and audited; without one (or with one no configured
CA issued) today's rules apply. The proxy's header counts only behind PROXY_HOPS proxies."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask
from sqlalchemy import select

from provisioner.errors import ConfigError
from provisioner.network.diagnose import diagnose
from provisioner.network.report import as_text
from provisioner.pairing import flush_timeline
from provisioner.phones.certificates import (
    issuing_vendor,
    load_authorities,
    named_mac,
    parse_certificate,
)
from provisioner.phones.vendors import by_name
from provisioner.store import get_store, models
from tests.conftest import import_demo, make_app
from tests.phones.conftest import deployed_phone, serve, sip_password
from tests.phones.device_certificates import (
    SUBJECTS,
    Issued,
    device_certificate,
    vendor_authority,
)
from tests.phones.http_client import fetch
from tests.phones.samples import SAMPLES

YEALINK, CISCO = SAMPLES[0], SAMPLES[4]
OTHER_MAC = "805ec0aa00ff"  # a second Yealink of the tenant
HEADER = "X-Client-Certificate"


@dataclass
class Served:
    app: Flask
    url: str
    authorities: dict[str, Issued]


def configured(tmp_path: Path, authorities: dict[str, Issued]) -> dict[str, str]:
    """PHONE_CERTIFICATE_AUTHORITIES for ``authorities``, written as PEM files."""
    paths = {}
    for vendor, authority in authorities.items():
        paths[vendor] = str(authority.write(tmp_path, f"{vendor}-ca")[0])
    return paths


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Served]:
    """Two deployed Yealinks and a deployed Cisco MPP (windows closed), behind one trusted
    proxy (``PROXY_HOPS``: 1 unless the test's parameter says otherwise)."""
    authorities = {vendor: vendor_authority(vendor) for vendor in ("yealink", "cisco_mpp")}
    app = make_app(
        tmp_path,
        PROXY_HOPS=getattr(request, "param", 1),
        PHONE_CERTIFICATE_AUTHORITIES=configured(tmp_path, authorities),
    )
    import_demo(app)
    for mac, sample in ((YEALINK.mac, YEALINK), (OTHER_MAC, YEALINK), (CISCO.mac, CISCO)):
        deployed_phone(app, mac, sample.vendor, sample.model)
    url, thread, server = serve(app)
    yield Served(app, url, authorities)
    server.shutdown()  # type: ignore[attr-defined]
    thread.join(timeout=10)
    get_store(app).dispose()


def get_file(served: Served, mac: str, certificate: Issued | None, agent: str = "") -> bytes:
    headers = {HEADER: certificate.header()} if certificate else {}
    status, body, _ = fetch(
        served.url, f"/p/{mac}.cfg", agent or YEALINK.user_agent, headers=headers
    )
    assert status == 200
    return body


def kinds(app: Flask, mac: str) -> list[str]:
    flush_timeline(app)
    with get_store(app).reading() as session:
        rows = session.scalars(select(models.DeviceEvent.kind).where(models.DeviceEvent.mac == mac))
        return list(rows)


def test_a_certificate_naming_the_mac_earns_the_full_file_without_a_window(
    served: Served,
) -> None:
    secret = sip_password(served.app).encode()
    assert secret not in get_file(served, YEALINK.mac, None)  # window closed: bootstrap
    certificate = device_certificate(served.authorities["yealink"], "yealink", YEALINK.mac)
    assert secret in get_file(served, YEALINK.mac, certificate)
    assert kinds(served.app, YEALINK.mac) == ["bootstrap", "full-certificate"]


def test_ciscos_certificate_names_the_mac_in_its_s_field(served: Served) -> None:
    certificate = device_certificate(served.authorities["cisco_mpp"], "cisco_mpp", CISCO.mac)
    status, body, _ = fetch(
        served.url, f"/p/{CISCO.mac}.xml", CISCO.user_agent, headers={HEADER: certificate.header()}
    )
    assert status == 200 and sip_password(served.app).encode() in body


def test_the_same_certificate_on_another_macs_file_is_refused_and_audited(
    served: Served,
) -> None:
    certificate = device_certificate(served.authorities["yealink"], "yealink", YEALINK.mac)
    agent = YEALINK.for_mac(OTHER_MAC).user_agent
    body = get_file(served, OTHER_MAC, certificate, agent)
    assert sip_password(served.app).encode() not in body
    assert kinds(served.app, OTHER_MAC) == ["certificate-mismatch"]
    with get_store(served.app).reading() as session:
        audit = session.scalars(
            select(models.AuditEvent).where(models.AuditEvent.action == "certificate-mismatch")
        ).one()
    assert audit.object_key == OTHER_MAC and audit.tenant == "demo"
    assert audit.changes["certificate_mac"] == YEALINK.mac
    assert audit.changes["certificate_vendor"] == "yealink"


def test_diagnose_shows_how_the_phone_proved_itself(served: Served) -> None:
    certificate = device_certificate(served.authorities["yealink"], "yealink", YEALINK.mac)
    get_file(served, YEALINK.mac, certificate)
    flush_timeline(served.app)
    with get_store(served.app).reading() as session:
        report = diagnose(session, YEALINK.mac)
    assert "full file (proved by its factory certificate)" in as_text(report)


def test_a_certificate_from_an_unconfigured_ca_counts_as_none(served: Served) -> None:
    stranger = device_certificate(vendor_authority("yealink"), "yealink", YEALINK.mac)
    assert sip_password(served.app).encode() not in get_file(served, YEALINK.mac, stranger)
    assert kinds(served.app, YEALINK.mac) == ["bootstrap"]


def test_another_vendors_ca_does_not_vouch_for_a_yealink_subject(served: Served) -> None:
    # Issued by the Cisco CA with the MAC in CN: Cisco's certificates name it in S, so none.
    certificate = device_certificate(served.authorities["cisco_mpp"], "yealink", YEALINK.mac)
    assert sip_password(served.app).encode() not in get_file(served, YEALINK.mac, certificate)
    assert kinds(served.app, YEALINK.mac) == ["certificate-mismatch"]


@pytest.mark.parametrize("served", [0], indirect=True, ids=["no trusted proxy"])
def test_without_a_trusted_proxy_the_header_is_ignored(served: Served) -> None:
    certificate = device_certificate(served.authorities["yealink"], "yealink", YEALINK.mac)
    assert sip_password(served.app).encode() not in get_file(served, YEALINK.mac, certificate)
    assert kinds(served.app, YEALINK.mac) == ["bootstrap"]


# --- The pieces, without HTTP -------------------------------------------------------------


@pytest.mark.parametrize("vendor", sorted(SUBJECTS))
def test_each_vendors_subject_names_its_mac(vendor: str) -> None:
    certificate = device_certificate(vendor_authority(vendor), vendor, "0004f2aabbcc")
    fields = by_name(vendor).certificate_mac_fields
    assert named_mac(certificate.certificate, fields) == "0004f2aabbcc"


def test_an_expired_or_foreign_certificate_has_no_vendor() -> None:
    authority = vendor_authority("snom")
    authorities = {"snom": (authority.certificate,)}
    now = datetime.now(UTC)
    good = device_certificate(authority, "snom", "000413aa0003").certificate
    expired = device_certificate(authority, "snom", "000413aa0003", days=(-30, -1)).certificate
    foreign = device_certificate(vendor_authority("snom"), "snom", "000413aa0003").certificate
    assert issuing_vendor(good, authorities, now) == "snom"
    assert issuing_vendor(expired, authorities, now) is None
    assert issuing_vendor(foreign, authorities, now) is None


def test_the_header_is_read_in_each_form_proxies_send() -> None:
    issued = device_certificate(vendor_authority("yealink"), "yealink", YEALINK.mac)
    pem = issued.pem().decode()
    der = issued.certificate.public_bytes(serialization.Encoding.DER)
    import base64

    for form in (issued.header(), pem, pem.replace("\n", " "), base64.b64encode(der).decode()):
        assert parse_certificate(form) == issued.certificate
    assert parse_certificate("not a certificate") is None


def test_a_wrong_authority_setting_names_itself(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'acme' is no vendor"):
        load_authorities({"acme": str(tmp_path / "x.pem")})
    with pytest.raises(ConfigError, match=r"PHONE_CERTIFICATE_AUTHORITIES\['snom'\]"):
        load_authorities({"snom": str(tmp_path / "missing.pem")})
