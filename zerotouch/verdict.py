"""Verdicts without I/O: which server a vendor's phones take from an offer, and in plain words
whether they will find the provisioning server."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from zerotouch.dhcp import ProvisioningOffer
from zerotouch.vendors import PhoneVendorProbe


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What a GET of the vendor's first file answered (status None: no HTTP answer)."""

    url: str
    status: int | None
    body_start: bytes = b""
    error: str = ""


@dataclass(frozen=True, slots=True)
class Choice:
    """The option a phone takes its server from, and the first file it then asks for."""

    option: int
    value: str
    file_url: str

    @property
    def over_http(self) -> bool:
        """Whether the phone would fetch over HTTP(S) (the check only fetches those)."""
        return urlsplit(self.file_url).scheme in ("http", "https")


@dataclass(frozen=True, slots=True)
class PhoneVerdict:
    """Whether one vendor's phones will find the server, and why, in one sentence."""

    vendor: str
    label: str
    finds: bool
    reason: str
    choice: Choice | None = None

    @property
    def sentence(self) -> str:
        """``Yealink phones will find you (option 160: ...)`` or ``... will not: why``."""
        if self.finds:
            return f"{self.label} phones will find you ({self.reason})"
        return f"{self.label} phones will not find you: {self.reason}"


def _base_url(option: int, value: str) -> str:
    """A server option's value as a URL: with no scheme phones assume TFTP (zerotouch.md §2.1)."""
    if "://" in value:
        return value if value.endswith("/") else value + "/"
    return f"tftp://{value.strip('/')}/"


def choose(probe: PhoneVendorProbe, offer: ProvisioningOffer) -> Choice | None:
    """The first of the vendor's options the offer carries, and the file URL it leads to."""
    for option in probe.url_options:
        value = offer.value_of(option)
        if value:
            base = _base_url(option, value)
            file = probe.common_file
            if probe.file_option == 67 and offer.boot_file:
                file = offer.boot_file
            return Choice(option, value, file if "://" in file else base + file.lstrip("/"))
    return None


def _missing(probe: PhoneVendorProbe) -> str:
    if len(probe.url_options) == 1:
        return f"option {probe.url_options[0]} is missing"
    listed = ", ".join(str(option) for option in probe.url_options)
    return f"none of options {listed} is offered"


def _same_server(file_url: str, server: str) -> bool:
    expected, offered = urlsplit(server), urlsplit(file_url)
    return (expected.scheme, expected.netloc) == (offered.scheme, offered.netloc) and (
        offered.path.startswith(expected.path.rstrip("/") + "/") or expected.path in ("", "/")
    )


def _looks_like(probe: PhoneVendorProbe, body: bytes) -> bool:
    """Whether a body starts as the vendor's format does (after an XML declaration)."""
    text = body.lstrip()
    if text.startswith(b"<?xml"):
        text = text[text.find(b"?>") + 2 :].lstrip()
    return text.startswith(probe.expect)


def judge(
    probe: PhoneVendorProbe,
    offer: ProvisioningOffer | None,
    fetched: FetchResult | None,
    server: str | None = None,
) -> PhoneVerdict:
    """The verdict for one vendor from its offer, the fetch of its file and the expected server."""

    def verdict(finds: bool, reason: str, choice: Choice | None = None) -> PhoneVerdict:
        return PhoneVerdict(probe.name, probe.label, finds, reason, choice)

    if offer is None:
        return verdict(False, "no DHCP server answered as it asked")
    choice = choose(probe, offer)
    if choice is None:
        return verdict(False, _missing(probe))
    where = f"option {choice.option} gives {choice.value}"
    if server and not _same_server(choice.file_url, server):
        return verdict(False, f"{where}, which is not your server {server}", choice)
    if not choice.over_http:
        return verdict(False, f"{where} (TFTP); this check fetches over HTTP only", choice)
    if fetched is None or fetched.status is None:
        error = fetched.error if fetched else "not fetched"
        return verdict(False, f"{where}, but {choice.file_url} did not answer ({error})", choice)
    if fetched.status != 200:
        return verdict(
            False, f"{where}, but {choice.file_url} answered HTTP {fetched.status}", choice
        )
    if not _looks_like(probe, fetched.body_start):
        return verdict(False, f"{where}, but {choice.file_url} is not a {probe.label} file", choice)
    return verdict(True, f"{where}; {probe.common_file} answered", choice)


def summary(verdicts: list[PhoneVerdict]) -> str:
    """All verdicts in one line: ``Yealink phones will find you; Poly phones will not: ...``."""
    parts = []
    for item in verdicts:
        if item.finds:
            parts.append(f"{item.label} phones will find you")
        else:
            parts.append(f"{item.label} phones will not: {item.reason}")
    return "; ".join(parts)
