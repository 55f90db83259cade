"""Verdicts without I/O: which server a vendor's phones take from an offer, and in plain words
whether they will find the provisioning server, will not (and why), or whether the check could
not confirm it (and why)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

from zerotouch.answers import ProbeAnswers
from zerotouch.dhcp import ProvisioningOffer, read_offer
from zerotouch.vendors import PhoneVendorProbe


class Outcome(Enum):
    """The three answers a technician can act on, worst last."""

    FINDS = "will find you"
    UNCONFIRMED = "could not confirm"
    WILL_NOT_FIND = "will not find you"


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What fetching the vendor's first file gave.

    ``status`` is the HTTP status (200 also for a file received over TFTP), None when no file
    came; then ``error`` says why, and ``certain`` whether a phone would meet the same refusal
    (a 404, a TFTP error, a refused connection) or only the laptop could not tell (no answer in
    time, a name the laptop's DNS does not know, a certificate the laptop does not trust)."""

    url: str
    status: int | None
    body_start: bytes = b""
    error: str = ""
    certain: bool = True


@dataclass(frozen=True, slots=True)
class Choice:
    """The option a phone takes its server from, and the first file it then asks for."""

    option: int
    value: str
    file_url: str

    @property
    def protocol(self) -> str:
        """``http``, ``https``, ``tftp``, ... as the phone would fetch."""
        return urlsplit(self.file_url).scheme


@dataclass(frozen=True, slots=True)
class PhoneVerdict:
    """Whether one vendor's phones will find the server, and why, in one sentence."""

    vendor: str
    label: str
    outcome: Outcome
    reason: str
    choice: Choice | None = None

    @property
    def finds(self) -> bool:
        """True when the check saw the phone's first file come back in its format."""
        return self.outcome is Outcome.FINDS

    @property
    def sentence(self) -> str:
        """``Yealink phones will find you (...)``, ``... will not find you, because ...`` or
        ``Could not confirm that ... will find you, because ...``."""
        if self.outcome is Outcome.FINDS:
            return f"{self.label} phones will find you ({self.reason})"
        if self.outcome is Outcome.WILL_NOT_FIND:
            return f"{self.label} phones will not find you, because {self.reason}"
        return f"Could not confirm that {self.label} phones will find you, because {self.reason}"


def _base_url(value: str) -> str:
    """A server option's value as a URL: with no scheme phones assume TFTP (zerotouch.md §2.1)."""
    if "://" in value:
        return value if value.endswith("/") else value + "/"
    return f"tftp://{value.strip('/')}/"


def choose(probe: PhoneVendorProbe, offer: ProvisioningOffer) -> Choice | None:
    """The first of the vendor's options the offer carries, and the file URL it leads to."""
    for option in probe.url_options:
        value = offer.value_of(option)
        if value:
            base = _base_url(value)
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


def judge_offer(
    probe: PhoneVendorProbe,
    offer: ProvisioningOffer,
    fetched: FetchResult | None,
    server: str | None = None,
) -> tuple[Outcome, str, Choice | None]:
    """What one offer means for the vendor's phones, given the fetch of the file it leads to."""
    choice = choose(probe, offer)
    if choice is None:
        return Outcome.WILL_NOT_FIND, _missing(probe), None
    where = f"option {choice.option} gives {choice.value}"
    if server and not _same_server(choice.file_url, server):
        return Outcome.WILL_NOT_FIND, f"{where}, which is not your server {server}", choice
    url = choice.file_url
    if fetched is None:
        reason = f"{where}, and this check cannot fetch over {choice.protocol}"
        return Outcome.UNCONFIRMED, reason, choice
    if fetched.status is None:
        outcome = Outcome.WILL_NOT_FIND if fetched.certain else Outcome.UNCONFIRMED
        said = "was refused" if fetched.certain else "did not answer the laptop"
        return outcome, f"{where}, but {url} {said} ({fetched.error})", choice
    if fetched.status != 200:
        return Outcome.WILL_NOT_FIND, f"{where}, but {url} answered HTTP {fetched.status}", choice
    if not _looks_like(probe, fetched.body_start):
        return Outcome.WILL_NOT_FIND, f"{where}, but {url} is not a {probe.label} file", choice
    over = " over TFTP" if choice.protocol == "tftp" else ""
    return Outcome.FINDS, f"{where}; {url.rsplit('/', 1)[-1]} answered{over}", choice


def judge(
    probe: PhoneVendorProbe,
    answers: ProbeAnswers | None,
    fetches: dict[str, FetchResult],
    server: str | None = None,
) -> PhoneVerdict:
    """The verdict for one vendor: every server's offer judged, the worst one stands (phones
    take whichever offer comes first, which can change from boot to boot)."""

    def verdict(outcome: Outcome, reason: str, choice: Choice | None = None) -> PhoneVerdict:
        return PhoneVerdict(probe.name, probe.label, outcome, reason, choice)

    first = answers.first_offer if answers else None
    if answers is None or first is None:
        waited = f" in {answers.seconds_waited:.0f} s" if answers else ""
        return verdict(Outcome.UNCONFIRMED, f"no DHCP server answered as they ask{waited}")
    if answers.refused and answers.answer is not None:
        said = answers.answer.message.server_message
        return verdict(
            Outcome.WILL_NOT_FIND,
            f"the DHCP server at {first.server.address} offered {first.message.your_address} "
            f"and then refused it (DHCPNAK{': ' + said if said else ''})",
        )
    judged = []
    for reply in answers.offers:
        offer = read_offer(reply.message)
        choice = choose(probe, offer)
        fetched = fetches.get(choice.file_url) if choice else None
        judged.append((reply, *judge_offer(probe, offer, fetched, server)))
    worst = max(judged, key=lambda item: list(Outcome).index(item[1]))
    reply, outcome, reason, choice = worst
    if len(judged) > 1:
        which = "first" if reply is first else "not first"
        reason = (
            f"of {len(judged)} DHCP servers, the one at {reply.server.address} "
            f"({which} this time): {reason}"
        )
    if not answers.acknowledged and outcome is Outcome.FINDS:
        return verdict(
            Outcome.UNCONFIRMED,
            f"{reason}; but the server at {first.server.address} did not answer the REQUEST "
            "for its offer",
            choice,
        )
    return verdict(outcome, reason, choice)


def summary(verdicts: list[PhoneVerdict]) -> str:
    """All verdicts in one line: ``Yealink phones will find you; Poly phones will not ...``."""
    parts = []
    for item in verdicts:
        if item.outcome is Outcome.UNCONFIRMED:
            parts.append(f"{item.label} phones: could not confirm")
        else:
            parts.append(f"{item.label} phones {item.outcome.value}")
    return "; ".join(parts)


def overall(verdicts: list[PhoneVerdict]) -> Outcome:
    """The check's outcome: the worst vendor's (no vendor at all: could not confirm)."""
    if not verdicts:
        return Outcome.UNCONFIRMED
    return max((item.outcome for item in verdicts), key=list(Outcome).index)
