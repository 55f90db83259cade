"""Verdicts in plain words, from offers, server answers and fetch results, without sockets."""

from __future__ import annotations

import pytest

from zerotouch.answers import DhcpServer, ProbeAnswers, ServerReply, Servers
from zerotouch.dhcp import ACK, NAK, OFFER, DhcpMessage, ProvisioningOffer
from zerotouch.report import plain
from zerotouch.vendors import CISCO_MPP, GRANDSTREAM, POLY, SNOM, YEALINK
from zerotouch.verdict import FetchResult, Outcome, choose, judge, judge_offer, overall, summary

URL = "http://prov.example.net/p/"
YEALINK_FILE = b"#!version:1.0.0.1\n"
SERVER = DhcpServer("10.0.0.1", "10.0.0.1", "020000000001")
ROGUE = DhcpServer("10.0.0.3", "10.0.0.3", "020000000003")


def ok(url: str, body: bytes = YEALINK_FILE) -> FetchResult:
    return FetchResult(url, 200, body)


def reply(kind: int, server: DhcpServer = SERVER, seconds: float = 0.1, **options: bytes):
    coded = {53: bytes([kind]), 54: bytes(int(part) for part in server.address.split("."))}
    coded.update({int(code.removeprefix("o")): value for code, value in options.items()})
    message = DhcpMessage(2, 7, "805ec0010203", "10.0.0.50", "0.0.0.0", coded)
    return ServerReply(message, server, seconds)


def answered(*offers: ServerReply, answer: int | None = ACK, said: bytes = b"") -> ProbeAnswers:
    reply_to = None
    if answer is not None:
        reply_to = reply(answer, offers[0].server, o56=said) if said else reply(answer)
    return ProbeAnswers(offers, reply_to, 5.0)


def test_yealink_prefers_160_over_66_then_43() -> None:
    choice = choose(YEALINK, ProvisioningOffer(server_name="http://a/p/", option_160=URL))
    assert choice is not None
    assert (choice.option, choice.file_url) == (160, URL + "y000000000000.boot")
    only_43 = ProvisioningOffer(vendor_specific_text=URL)
    choice = choose(YEALINK, only_43)
    assert choice is not None and (choice.option, choice.file_url) == (
        43,
        URL + "y000000000000.boot",
    )


def test_grandstream_takes_66_then_43_as_sub_option_1() -> None:
    offer = ProvisioningOffer(vendor_specific={1: URL, 2: "x"})
    choice = choose(GRANDSTREAM, offer)
    assert choice is not None and choice.file_url == URL + "cfg.xml"
    body = b'<?xml version="1.0"?>\n<gs_provision version="1">'
    assert judge_offer(GRANDSTREAM, offer, ok(URL + "cfg.xml", body))[0] is Outcome.FINDS


def test_snom_takes_its_file_name_from_option_67() -> None:
    choice = choose(SNOM, ProvisioningOffer(server_name=URL, boot_file="snom-setup.xml"))
    assert choice is not None and choice.file_url == URL + "snom-setup.xml"


def test_a_host_without_scheme_means_tftp_and_is_judged_by_the_tftp_fetch() -> None:
    offer = ProvisioningOffer(tftp_addresses=("192.0.2.1",))
    choice = choose(CISCO_MPP, offer)
    assert choice is not None and choice.file_url == "tftp://192.0.2.1/8841-3PCC.xml"
    fetched = FetchResult(choice.file_url, 200, b"<flat-profile>")
    outcome, reason, _ = judge_offer(CISCO_MPP, offer, fetched)
    assert outcome is Outcome.FINDS and reason.endswith("8841-3PCC.xml answered over TFTP")
    missing = FetchResult(choice.file_url, None, error="TFTP: file not found")
    assert judge_offer(CISCO_MPP, offer, missing)[0] is Outcome.WILL_NOT_FIND


FILE = URL + "y000000000000.boot"


@pytest.mark.parametrize(
    ("offer", "fetched", "expected"),
    [
        (
            ProvisioningOffer(),
            None,
            "Yealink phones will not find you, because none of options 160, 66, 43 is offered",
        ),
        (
            ProvisioningOffer(server_name=URL),
            FetchResult(FILE, None, error="connection refused"),
            f"Yealink phones will not find you, because option 66 gives {URL}, but "
            f"{FILE} was refused (connection refused)",
        ),
        (
            ProvisioningOffer(server_name=URL),
            FetchResult(FILE, None, error="no answer in time", certain=False),
            f"Could not confirm that Yealink phones will find you, because option 66 gives "
            f"{URL}, but {FILE} did not answer the laptop (no answer in time)",
        ),
        (
            ProvisioningOffer(server_name=URL),
            FetchResult(FILE, 404),
            f"Yealink phones will not find you, because option 66 gives {URL}, but "
            f"{FILE} answered HTTP 404",
        ),
        (
            ProvisioningOffer(server_name=URL),
            ok(FILE, b"<html>router login</html>"),
            f"Yealink phones will not find you, because option 66 gives {URL}, but "
            f"{FILE} is not a Yealink file",
        ),
        (
            ProvisioningOffer(server_name=URL),
            ok(FILE),
            f"Yealink phones will find you (option 66 gives {URL}; y000000000000.boot answered)",
        ),
    ],
    ids=["no option", "refused", "no answer", "404", "not its format", "finds"],
)
def test_yealink_verdicts(offer, fetched, expected) -> None:
    outcome, reason, choice = judge_offer(YEALINK, offer, fetched)
    options = {}
    if offer.server_name:
        options["o66"] = offer.server_name.encode()
    fetches = {fetched.url: fetched} if fetched else {}
    verdict = judge(YEALINK, answered(reply(OFFER, **options)), fetches)
    assert (verdict.outcome, verdict.reason) == (outcome, reason)
    assert verdict.sentence == expected


def test_no_offer_could_not_be_confirmed() -> None:
    verdict = judge(YEALINK, ProbeAnswers(seconds_waited=5.0), {})
    assert verdict.sentence == (
        "Could not confirm that Yealink phones will find you, because no DHCP server "
        "answered as they ask in 5 s"
    )


def test_a_nak_is_a_refusal_with_the_servers_words() -> None:
    answers = answered(reply(OFFER, o66=URL.encode()), answer=NAK, said=b"no leases left")
    verdict = judge(YEALINK, answers, {FILE: ok(FILE)})
    assert verdict.sentence == (
        "Yealink phones will not find you, because the DHCP server at 10.0.0.1 offered "
        "10.0.0.50 and then refused it (DHCPNAK: no leases left)"
    )


def test_with_two_servers_the_worst_offer_decides_and_names_its_server() -> None:
    good = reply(OFFER, o66=URL.encode())
    bad = reply(OFFER, ROGUE, 3.2, o66=b"http://10.0.0.3/x/")
    answers = answered(good, bad)
    fetches = {FILE: ok(FILE), "http://10.0.0.3/x/y000000000000.boot": FetchResult("", 404)}
    verdict = judge(YEALINK, answers, fetches)
    assert verdict.outcome is Outcome.WILL_NOT_FIND
    assert verdict.reason.startswith("of 2 DHCP servers, the one at 10.0.0.3 (not first this time)")
    assert Servers.of({"yealink": answers}).found == (SERVER, ROGUE)
    assert Servers.of({"yealink": answers}).rogue_suspected


def test_poly_needs_160_and_an_xml_declaration_is_fine() -> None:
    assert judge_offer(POLY, ProvisioningOffer(server_name=URL), None)[1] == "option 160 is missing"
    body = b'<?xml version="1.0"?>\n<PHONE_CONFIG/>'
    offer = ProvisioningOffer(option_160=URL)
    assert judge_offer(POLY, offer, ok(URL + "000000000000.cfg", body))[0] is Outcome.FINDS


def test_another_server_than_expected_is_named() -> None:
    offer = ProvisioningOffer(server_name="http://old.example.net/")
    _, reason, _ = judge_offer(YEALINK, offer, None, server=URL)
    assert reason == f"option 66 gives http://old.example.net/, which is not your server {URL}"


def test_summary_and_overall_outcome() -> None:
    verdicts = [
        judge(YEALINK, answered(reply(OFFER, o66=URL.encode())), {FILE: ok(FILE)}),
        judge(POLY, answered(reply(OFFER, o66=URL.encode())), {}),
        judge(SNOM, ProbeAnswers(), {}),
    ]
    assert summary(verdicts) == (
        "Yealink phones will find you; Poly phones will not find you; "
        "Snom phones: could not confirm"
    )
    assert overall(verdicts) is Outcome.WILL_NOT_FIND
    assert overall(verdicts[::2]) is Outcome.UNCONFIRMED
    assert overall(verdicts[:1]) is Outcome.FINDS


def test_values_are_written_out_plainly() -> None:
    assert plain(["10.0.0.1", "10.0.0.2"]) == "10.0.0.1, 10.0.0.2"
    assert plain({"1": URL, "2": "z"}) == f"sub-option 1: {URL}, sub-option 2: z"
