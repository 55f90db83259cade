"""Verdicts in plain words, from offers and fetch results, without sockets."""

from __future__ import annotations

import pytest

from zerotouch.dhcp import ProvisioningOffer
from zerotouch.vendors import CISCO_MPP, POLY, SNOM, YEALINK
from zerotouch.verdict import FetchResult, choose, judge, summary

URL = "http://prov.example.net/p/"
YEALINK_FILE = b"#!version:1.0.0.1\n"


def ok(url: str, body: bytes = YEALINK_FILE) -> FetchResult:
    return FetchResult(url, 200, body)


def test_yealink_prefers_160_over_66() -> None:
    choice = choose(YEALINK, ProvisioningOffer(server_name="http://a/p/", option_160=URL))
    assert choice is not None
    assert (choice.option, choice.file_url) == (160, URL + "y000000000000.boot")


def test_snom_takes_its_file_name_from_option_67() -> None:
    choice = choose(SNOM, ProvisioningOffer(server_name=URL, boot_file="snom-setup.xml"))
    assert choice is not None and choice.file_url == URL + "snom-setup.xml"


def test_a_host_without_scheme_means_tftp() -> None:
    choice = choose(CISCO_MPP, ProvisioningOffer(tftp_addresses=("192.0.2.1",)))
    assert choice is not None and choice.file_url == "tftp://192.0.2.1/8841-3PCC.xml"
    verdict = judge(CISCO_MPP, ProvisioningOffer(tftp_addresses=("192.0.2.1",)), None)
    assert not verdict.finds and "this check fetches over HTTP only" in verdict.reason


@pytest.mark.parametrize(
    ("offer", "fetched", "expected"),
    [
        (None, None, "Yealink phones will not find you: no DHCP server answered as it asked"),
        (
            ProvisioningOffer(),
            None,
            "Yealink phones will not find you: none of options 160, 66 is offered",
        ),
        (
            ProvisioningOffer(server_name=URL),
            FetchResult(URL + "y000000000000.boot", None, error="connection refused"),
            f"Yealink phones will not find you: option 66 gives {URL}, but "
            f"{URL}y000000000000.boot did not answer (connection refused)",
        ),
        (
            ProvisioningOffer(server_name=URL),
            FetchResult(URL + "y000000000000.boot", 404),
            f"Yealink phones will not find you: option 66 gives {URL}, but "
            f"{URL}y000000000000.boot answered HTTP 404",
        ),
        (
            ProvisioningOffer(server_name=URL),
            ok(URL + "y000000000000.boot", b"<html>router login</html>"),
            f"Yealink phones will not find you: option 66 gives {URL}, but "
            f"{URL}y000000000000.boot is not a Yealink file",
        ),
        (
            ProvisioningOffer(server_name=URL),
            ok(URL + "y000000000000.boot"),
            f"Yealink phones will find you (option 66 gives {URL}; y000000000000.boot answered)",
        ),
    ],
    ids=["no offer", "no option", "no answer", "404", "not its format", "finds"],
)
def test_yealink_verdicts(offer, fetched, expected) -> None:
    assert judge(YEALINK, offer, fetched).sentence == expected


def test_poly_needs_160_and_an_xml_declaration_is_fine() -> None:
    assert judge(POLY, ProvisioningOffer(server_name=URL), None).reason == ("option 160 is missing")
    body = b'<?xml version="1.0"?>\n<PHONE_CONFIG/>'
    assert judge(POLY, ProvisioningOffer(option_160=URL), ok(URL, body)).finds


def test_another_server_than_expected_is_named() -> None:
    verdict = judge(
        YEALINK, ProvisioningOffer(server_name="http://old.example.net/"), None, server=URL
    )
    assert (
        verdict.reason == f"option 66 gives http://old.example.net/, which is not your server {URL}"
    )


def test_summary_reads_as_one_sentence() -> None:
    verdicts = [
        judge(YEALINK, ProvisioningOffer(server_name=URL), ok(URL)),
        judge(POLY, ProvisioningOffer(server_name=URL), None),
    ]
    assert summary(verdicts) == (
        "Yealink phones will find you; Poly phones will not: option 160 is missing"
    )
