"""Test vendor CAs and factory device certificates, each vendor's subject as its phones carry
it (Cisco: the MAC in S, i.e. stateOrProvinceName; the others: the MAC as common name)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(*attributes: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])


# The subject of each vendor's device certificate for a MAC (lower-case, 12 digits).
SUBJECTS: dict[str, Callable[[str], x509.Name]] = {
    "yealink": lambda mac: _name(
        (NameOID.ORGANIZATION_NAME, "Yealink"), (NameOID.COMMON_NAME, mac)
    ),
    "polycom": lambda mac: _name(
        (NameOID.ORGANIZATION_NAME, "Polycom Inc."), (NameOID.COMMON_NAME, mac)
    ),
    "snom": lambda mac: _name(
        (NameOID.ORGANIZATION_NAME, "snom"), (NameOID.COMMON_NAME, mac.upper())
    ),
    "grandstream": lambda mac: _name(
        (NameOID.ORGANIZATION_NAME, "Grandstream"), (NameOID.COMMON_NAME, mac)
    ),
    "cisco_mpp": lambda mac: _name(
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "CP-8841-3PCC"),
        (NameOID.LOCALITY_NAME, "88012BA01234"),
        (NameOID.STATE_OR_PROVINCE_NAME, mac),
    ),
    "cisco_spa": lambda mac: _name(
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "SPA508G"),
        (NameOID.LOCALITY_NAME, "CBT141400UK"),
        (NameOID.STATE_OR_PROVINCE_NAME, mac),
    ),
}


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def header(self) -> str:
        """As nginx's ``$ssl_client_escaped_cert`` passes it: URL-encoded PEM."""
        return quote(self.pem().decode(), safe="")

    def write(self, folder: Path, name: str) -> tuple[Path, Path]:
        """The certificate and its key as PEM files in ``folder``."""
        certificate, key = folder / f"{name}.pem", folder / f"{name}.key"
        certificate.write_bytes(self.pem())
        key.write_bytes(self.key_pem())
        return certificate, key


def _build(
    subject: x509.Name,
    issuer: Issued | None,
    authority: bool,
    days: tuple[int, int] = (-1, 3650),
    alternative_name: str | None = None,
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + timedelta(days=days[0]))
        .not_valid_after(now + timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=authority, path_length=None), critical=True)
    )
    if alternative_name:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(alternative_name)]), critical=False
        )
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def vendor_authority(vendor: str) -> Issued:
    """A self-signed test CA standing in for ``vendor``'s."""
    return _build(_name((NameOID.COMMON_NAME, f"Test {vendor} Device CA")), None, authority=True)


def device_certificate(
    authority: Issued, vendor: str, mac: str, days: tuple[int, int] = (-1, 3650)
) -> Issued:
    """A factory certificate for ``mac`` as ``vendor`` writes it, issued by ``authority``."""
    return _build(SUBJECTS[vendor](mac), authority, authority=False, days=days)


def server_certificate(authority: Issued, host: str = "localhost") -> Issued:
    """A TLS server certificate for ``host`` (for the proxy)."""
    return _build(_name((NameOID.COMMON_NAME, host)), authority, False, alternative_name=host)
