"""The v2c socket against a scripted agent on loopback: which datagrams count as the answer."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

from pyasn1.codec.ber import decoder
from pysnmp.proto.api import v2c

from provisioner.network import ber
from provisioner.network.udp import V2cChannel
from tests.network.test_ber import SYS_DESCR, reference_response

# What the scripted agent sends back for one request: (datagram, from which socket) pairs,
# "agent" being the socket asked and "other" another loopback port.
Script = Callable[[int, bytes], list[tuple[bytes, str]]]


def request_id_and_community(data: bytes) -> tuple[int, bytes]:
    message, _ = decoder.decode(data, asn1Spec=v2c.Message())
    pdu = v2c.apiMessage.get_pdu(message)
    return int(v2c.apiPDU.get_request_id(pdu)), bytes(v2c.apiMessage.get_community(message))


def answer(request_id: int, name: bytes = b"router", community: str = "public") -> bytes:
    """A Response to ``request_id``; ``community`` of six characters, like the reference's."""
    data = reference_response([(SYS_DESCR, v2c.OctetString(name))], request_id=request_id)
    return data.replace(b"s3cret", community.encode()) if community != "s3cret" else data


def ask(script: Script, timeout: float = 0.3, retries: int = 0) -> ber.Response | None:
    """One GET of sysDescr through a V2cChannel, answered as ``script`` says."""
    agent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    agent.bind(("127.0.0.1", 0))
    other.bind(("127.0.0.1", 0))
    agent.setblocking(False)
    senders = {"agent": agent, "other": other}

    async def main() -> ber.Response | None:
        loop = asyncio.get_running_loop()

        async def serve() -> None:
            for _ in range(retries + 1):
                data, client = await loop.sock_recvfrom(agent, 4096)
                request_id, _ = request_id_and_community(data)
                for datagram, sender in script(request_id, data):
                    senders[sender].sendto(datagram, client)

        serving = asyncio.create_task(serve())
        channel = await V2cChannel().open()
        try:
            address = agent.getsockname()
            return await channel.request(address, b"public", [SYS_DESCR], None, timeout, retries)
        finally:
            channel.close()
            serving.cancel()

    try:
        return asyncio.run(main())
    finally:
        agent.close()
        other.close()


def test_the_answer_to_our_request_is_taken() -> None:
    response = ask(lambda request_id, _: [(answer(request_id), "agent")])
    assert response is not None
    assert response.bindings == [(SYS_DESCR, b"router")]


def test_junk_and_other_requests_answers_are_dropped_before_ours() -> None:
    def script(request_id: int, _: bytes) -> list[tuple[bytes, str]]:
        return [
            (b"\x30\x03\x02\x01", "agent"),  # truncated
            (answer(request_id + 1, b"not ours"), "agent"),  # another request-id
            (answer(request_id, b"router"), "agent"),
        ]

    response = ask(script)
    assert response is not None and response.bindings == [(SYS_DESCR, b"router")]


def test_an_answer_from_another_port_or_with_another_community_is_not_taken() -> None:
    from_elsewhere = ask(lambda request_id, _: [(answer(request_id), "other")])
    other_community = ask(lambda request_id, _: [(answer(request_id, community="privat"), "agent")])
    assert from_elsewhere is None and other_community is None


def test_a_lost_request_is_sent_again_and_the_retry_answered() -> None:
    tries: list[int] = []

    def second_try_only(request_id: int, data: bytes) -> list[tuple[bytes, str]]:
        tries.append(request_id)
        return [(answer(request_id), "agent")] if len(tries) == 2 else []

    response = ask(second_try_only, timeout=0.3, retries=1)
    assert response is not None
    assert tries[0] == tries[1]  # the same message again: a late first answer still counts
