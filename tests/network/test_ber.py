"""Our SNMPv2c codec against pysnmp's (pyasn1) as the reference, both ways, and bad input."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import rfc1905
from pysnmp.proto.api import v2c

from provisioner.network import ber
from provisioner.network.snmp import bulk_value

SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 1, 0)
# Arcs that need one, two and five octets, and a first arc of 2 (joint-iso-itu-t).
ODD_OIDS = [(1, 3, 6, 1, 4, 1, 9, 9, 46, 1, 3, 1, 1, 2, 1), (1, 0, 8802, 1, 1, 2), (2, 999, 3)]
ODD_OIDS.append((1, 3, 6, 1, 4, 1, 2**32 - 1, 0))


def reference_response(bindings: list[tuple[tuple[int, ...], Any]], **pdu: int) -> bytes:
    """A v2c Response message as pysnmp encodes it."""
    response = v2c.ResponsePDU()
    v2c.apiPDU.set_defaults(response)
    v2c.apiPDU.set_request_id(response, pdu.get("request_id", 4242))
    v2c.apiPDU.set_error_status(response, pdu.get("error_status", 0))
    v2c.apiPDU.set_error_index(response, pdu.get("error_index", 0))
    v2c.apiPDU.set_varbinds(response, bindings)
    message = v2c.Message()
    v2c.apiMessage.set_defaults(message)
    v2c.apiMessage.set_community(message, "s3cret")
    v2c.apiMessage.set_pdu(message, response)
    return bytes(encoder.encode(message))


VALUES = [
    pytest.param(v2c.Integer(-5), -5, id="negative integer"),
    pytest.param(v2c.Integer(2**31 - 1), 2**31 - 1, id="largest integer"),
    pytest.param(v2c.OctetString(b"Gi0/1\x00\xff"), b"Gi0/1\x00\xff", id="octets"),
    pytest.param(v2c.OctetString(b"x" * 300), b"x" * 300, id="long octets (long length)"),
    pytest.param(v2c.IpAddress("10.42.20.11"), bytes([10, 42, 20, 11]), id="ip address"),
    pytest.param(v2c.Counter32(2**32 - 1), 2**32 - 1, id="counter32 top"),
    pytest.param(v2c.Gauge32(1000), 1000, id="gauge32"),
    pytest.param(v2c.TimeTicks(123456789), 123456789, id="timeticks"),
    pytest.param(v2c.Counter64(2**64 - 1), 2**64 - 1, id="counter64 top"),
    pytest.param(v2c.ObjectIdentifier(ODD_OIDS[0]), ODD_OIDS[0], id="oid value"),
    pytest.param(rfc1905.NoSuchObject(""), None, id="noSuchObject"),
    pytest.param(rfc1905.NoSuchInstance(""), None, id="noSuchInstance"),
    pytest.param(rfc1905.EndOfMibView(""), ber.END_OF_MIB_VIEW, id="endOfMibView"),
]


@pytest.mark.parametrize(("value", "expected"), VALUES)
def test_each_value_type_decodes_as_the_pysnmp_path_gives_it(value: Any, expected: Any) -> None:
    response = ber.decode_response(reference_response([(SYS_DESCR, value)]))
    assert response.bindings == [(SYS_DESCR, expected)]
    assert response.bindings[0][1] == bulk_value(value)  # the same as the v3 path gives


def test_the_pdu_fields_and_odd_oids_decode() -> None:
    bindings = [(name, v2c.Integer(n)) for n, name in enumerate(ODD_OIDS)]
    data = reference_response(bindings, request_id=2**31 - 1, error_status=5, error_index=2)
    response = ber.decode_response(data)
    assert (response.community, response.request_id) == (b"s3cret", 2**31 - 1)
    assert (response.error_status, ber.error_status_name(response.error_status)) == (5, "genErr")
    assert response.error_index == 2
    assert response.bindings == [(name, n) for n, name in enumerate(ODD_OIDS)]


@pytest.mark.parametrize("repetitions", [None, 25], ids=["get", "getbulk"])
def test_requests_decode_with_pysnmp_to_what_was_asked(repetitions: int | None) -> None:
    names = [SYS_DESCR, *ODD_OIDS]
    data = ber.encode_request(2**31 - 1, b"public@20", names, repetitions)
    message, rest = decoder.decode(data, asn1Spec=v2c.Message())
    assert rest == b""
    assert bytes(v2c.apiMessage.get_community(message)) == b"public@20"
    pdu = v2c.apiMessage.get_pdu(message)
    assert isinstance(pdu, v2c.GetBulkRequestPDU if repetitions else v2c.GetRequestPDU)
    assert int(v2c.apiPDU.get_request_id(pdu)) == 2**31 - 1
    if repetitions:
        assert int(v2c.apiBulkPDU.get_max_repetitions(pdu)) == 25
        assert int(v2c.apiBulkPDU.get_non_repeaters(pdu)) == 0
    asked = [tuple(name) for name, _ in v2c.apiPDU.get_varbinds(pdu)]
    assert asked == names


def test_a_counter_without_its_leading_zero_octet_reads_as_unsigned() -> None:
    # Some agents send Counter32 4294967295 as ff ff ff ff (BER wants 00 ff ff ff ff).
    binding = ber.tlv(ber.SEQUENCE, ber.encode_oid(SYS_DESCR) + b"\x41\x04\xff\xff\xff\xff")
    fields = ber.encode_integer(7) + ber.encode_integer(0) + ber.encode_integer(0)
    pdu = ber.tlv(ber.RESPONSE, fields + ber.tlv(ber.SEQUENCE, binding))
    version = ber.encode_integer(ber.VERSION_2C) + ber.tlv(ber.OCTET_STRING, b"public")
    data = ber.tlv(ber.SEQUENCE, version + pdu)
    assert ber.decode_response(data).bindings == [(SYS_DESCR, 2**32 - 1)]


def test_every_truncation_is_a_ber_error() -> None:
    data = reference_response([(SYS_DESCR, v2c.OctetString(b"router"))])
    for end in range(len(data)):
        with pytest.raises(ber.BerError):
            ber.decode_response(data[:end])


def test_damaged_datagrams_raise_ber_error_or_decode_never_anything_else() -> None:
    data = reference_response([(name, v2c.Counter64(7)) for name in ODD_OIDS])
    shuffle = random.Random(21)
    for _ in range(3000):
        damaged = bytearray(data)
        for _ in range(shuffle.randint(1, 3)):
            damaged[shuffle.randrange(len(damaged))] = shuffle.randrange(256)
        try:
            ber.decode_response(bytes(damaged))
        except ber.BerError:
            pass


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x30\x03\x02\x01\x00",  # version 0 (SNMPv1)
        ber.encode_request(1, b"public", [SYS_DESCR]),  # a request, not a response
        b"\x30\x85\xff\xff\xff\xff\xff",  # a length of five octets
    ],
    ids=["empty", "v1", "request", "huge length"],
)
def test_what_is_not_a_v2c_response_is_refused(data: bytes) -> None:
    with pytest.raises(ber.BerError):
        ber.decode_response(data)


def test_an_oid_that_cannot_be_encoded_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not an OID"):
        ber.encode_request(1, b"public", [(1, 40)])
