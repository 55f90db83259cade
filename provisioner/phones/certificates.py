"""Phones proven by their factory certificate: the client certificate a TLS front end verified.

Yealink, Poly, Cisco, Snom and Grandstream phones carry a device certificate signed by their
vendor's CA with the phone's MAC in its subject, and present it when the HTTPS server asks for
one. granian (the production server) hands the WSGI app no client certificate, so the TLS
front end is a reverse proxy: nginx asks for the certificate (``ssl_verify_client optional``)
and passes it, URL-encoded PEM, in the header PHONE_CERTIFICATE_HEADER; the header is read only
behind PROXY_HOPS trusted proxies (the proxy sets it on every request, so a client cannot).

The app checks the certificate again itself (nginx trusts every vendor's CA at once; we want to
know which vendor signed it): it must be issued by a certificate of one vendor's bundle in
PHONE_CERTIFICATE_AUTHORITIES (``{"yealink": "/etc/provisioner/ca/yealink.pem", ...}``, the
vendor's root and intermediates), both valid now. The MAC is read from the subject attributes
the vendor writes it in (``PhoneVendor.certificate_mac_fields``). Results are kept per
certificate, so a phone's next request costs a dictionary lookup, and no database round trip.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID
from flask import Flask

from provisioner.errors import ConfigError
from provisioner.phones.mac import normalize_mac
from provisioner.phones.vendors import VENDORS, by_name

log = logging.getLogger(__name__)

# Subject attributes by the short name vendor modules use.
SUBJECT_FIELDS = {
    "CN": NameOID.COMMON_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "L": NameOID.LOCALITY_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "serialNumber": NameOID.SERIAL_NUMBER,
}
# A MAC inside a subject value: 12 hex digits, with or without separators, maybe a prefix
# (``SEP001565aabbcc``); the value must hold exactly one.
MAC_IN_VALUE = re.compile(
    r"(?<![0-9A-Fa-f])((?:[0-9A-Fa-f]{2}[:.-]?){5}[0-9A-Fa-f]{2})(?![0-9A-Fa-f])"
)
AUTHORITIES_KEY = "provisioner.phone_certificate_authorities"
PROOFS_KEY = "provisioner.phone_certificate_proofs"
PROOFS_KEPT = 4096
_PROOFS_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class CertificateProof:
    """What a verified factory certificate says: its vendor and the MAC it names (None when
    its subject names none, or several)."""

    vendor: str
    mac: str | None
    subject: str
    not_after: datetime


Authorities = Mapping[str, tuple[x509.Certificate, ...]]


def load_authorities(paths: Mapping[str, Any]) -> dict[str, tuple[x509.Certificate, ...]]:
    """Each vendor's CA certificates from its PEM file; a ConfigError names the wrong entry."""
    known = {vendor.name for vendor in VENDORS}
    authorities: dict[str, tuple[x509.Certificate, ...]] = {}
    for vendor, path in paths.items():
        if vendor not in known:
            raise ConfigError(
                f"PHONE_CERTIFICATE_AUTHORITIES: {vendor!r} is no vendor; "
                f"use one of {', '.join(sorted(known))}"
            )
        try:
            certificates = x509.load_pem_x509_certificates(Path(str(path)).read_bytes())
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"PHONE_CERTIFICATE_AUTHORITIES[{vendor!r}]: cannot read CA certificates "
                f"from {path}: {exc}"
            ) from exc
        authorities[vendor] = tuple(certificates)
    return authorities


def authorities_of(app: Flask) -> Authorities:
    """The configured vendor CAs, read once per app."""
    authorities: Authorities | None = app.extensions.get(AUTHORITIES_KEY)
    if authorities is None:
        configured = app.config.get("PHONE_CERTIFICATE_AUTHORITIES") or {}
        authorities = app.extensions[AUTHORITIES_KEY] = load_authorities(configured)
    return authorities


def parse_certificate(value: str) -> x509.Certificate | None:
    """The certificate in a proxy's header: URL-encoded PEM (nginx's
    ``$ssl_client_escaped_cert``), PEM, or base64 DER; None when it is none of them."""
    text = unquote(value.strip()) if "%" in value else value.strip()
    try:
        if text.startswith("-----BEGIN"):
            # Some proxies fold the PEM onto one line: put the base64 back on lines of its own.
            body = re.sub(r"-----[A-Z ]+-----", "", text).split()
            lines = ["-----BEGIN CERTIFICATE-----", *body, "-----END CERTIFICATE-----", ""]
            text = "\n".join(lines)
            return x509.load_pem_x509_certificate(text.encode())
        return x509.load_der_x509_certificate(base64.b64decode(text, validate=True))
    except ValueError:  # binascii.Error is one
        return None


def _valid_at(certificate: x509.Certificate, now: datetime) -> bool:
    return certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc


def _is_authority(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return constraints.value.ca


def issuing_vendor(
    certificate: x509.Certificate, authorities: Authorities, now: datetime
) -> str | None:
    """The vendor one of whose CA certificates issued ``certificate`` (both valid at
    ``now``), or None."""
    if not _valid_at(certificate, now):
        return None
    for vendor, bundle in authorities.items():
        for authority in bundle:
            if authority.subject != certificate.issuer or not _valid_at(authority, now):
                continue
            if not _is_authority(authority):
                continue
            try:
                certificate.verify_directly_issued_by(authority)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return vendor
    return None


def named_mac(certificate: x509.Certificate, fields: tuple[str, ...]) -> str | None:
    """The one MAC the subject's ``fields`` name, normalised; None for none or several."""
    macs: set[str] = set()
    for field in fields:
        for attribute in certificate.subject.get_attributes_for_oid(SUBJECT_FIELDS[field]):
            value = attribute.value if isinstance(attribute.value, str) else ""
            macs.update(normalize_mac(found) for found in MAC_IN_VALUE.findall(value))
    return macs.pop() if len(macs) == 1 else None


def prove(
    certificate: x509.Certificate, authorities: Authorities, now: datetime
) -> CertificateProof | None:
    """What ``certificate`` proves: None unless a configured vendor CA issued it."""
    vendor = issuing_vendor(certificate, authorities, now)
    if vendor is None:
        return None
    mac = named_mac(certificate, by_name(vendor).certificate_mac_fields)
    return CertificateProof(
        vendor, mac, certificate.subject.rfc4514_string(), certificate.not_valid_after_utc
    )


def certificate_proof(app: Flask, header: str | None) -> CertificateProof | None:
    """The proof in a proxy's certificate header (kept per header value until it expires);
    None without a header, or for a certificate no configured vendor CA issued (logged: the
    phone is then treated as one without a certificate)."""
    if not header:
        return None
    authorities = authorities_of(app)
    if not authorities:
        return None
    proofs: dict[str, CertificateProof | None] = app.extensions.setdefault(PROOFS_KEY, {})
    now = datetime.now(UTC)
    if header in proofs:
        kept = proofs[header]
        if kept is None or kept.not_after >= now:
            return kept
    certificate = parse_certificate(header)
    proof = prove(certificate, authorities, now) if certificate is not None else None
    if proof is None:
        log.warning(
            "client certificate not issued by a configured vendor CA (%s): treated as none",
            certificate.subject.rfc4514_string() if certificate is not None else "unreadable",
        )
    with _PROOFS_LOCK:
        while len(proofs) >= PROOFS_KEPT:
            proofs.pop(next(iter(proofs)))
        proofs[header] = proof
    return proof
