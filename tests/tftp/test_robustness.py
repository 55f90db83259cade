"""Hostile and broken input, slow renders, slow and vanished clients: the service keeps serving.

The four inputs that kill tftpy 0.8.7 (reference zerotouch.md §1.4) each have a test here,
followed by a normal download on the same service.
"""

from __future__ import annotations

import io
import os
import socket
import struct
import subprocess
import threading

import pytest

from tests.tftp.client import RawClient, block_of, error_of, options_of, read_request
from tests.tftp.conftest import wait_until

HELLO = b"hello from provisioner\n"


def assert_still_serves(address) -> None:
    with RawClient(address) as client:
        assert client.download(b"hello.cfg") == HELLO


def curl(url: str, max_time: int = 20) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["curl", "-sS", "--max-time", str(max_time), "-o", "-", url],
        capture_output=True,
        timeout=max_time + 10,
        check=False,
    )


# Trigger 1: tftpy dies after serving a BytesIO from dyn_file_func.
def test_a_render_returning_bytesio_is_served(serve):
    _, address = serve(lambda name, host: io.BytesIO(HELLO) if name == "io.cfg" else HELLO)
    with RawClient(address) as client:
        assert client.download(b"io.cfg") == HELLO
    assert_still_serves(address)


@pytest.mark.parametrize(
    "render",
    [lambda name, host: 1 / 0, lambda name, host: "text, not bytes", lambda name, host: 42],
    ids=["raises", "returns str", "returns int"],
)
def test_a_broken_render_answers_an_error_and_the_service_goes_on(serve, render):
    _, address = serve(lambda name, host: HELLO if name == "hello.cfg" else render(name, host))
    with RawClient(address) as client:
        client.send(read_request(b"broken.cfg"))
        assert error_of(client.receive()) == (0, "Internal error")
    assert_still_serves(address)


# Trigger 2: tftpy dies on int("abc").
def test_non_numeric_blksize_is_ignored(running):
    with RawClient(running) as client:
        client.send(read_request(b"phone.cfg", blksize="abc"))
        block, data = block_of(client.receive())  # no OACK: the only option was refused
        assert (block, len(data)) == (1, 512)
    with RawClient(running) as client:
        client.send(read_request(b"phone.cfg", blksize="abc", tsize="0"))
        assert options_of(client.receive()) == {"tsize": "5120"}
    assert_still_serves(running)


# Trigger 3: tftpy dies on .decode("ascii").
@pytest.mark.parametrize(
    ("name", "rendered"),
    [(b"\xff\xfe", False), (b"caf\xe9.cfg", False), ("caf\u00e9.cfg".encode(), True)],
    ids=["not UTF-8", "Latin-1", "UTF-8"],
)
def test_non_ascii_and_non_utf8_names(running, files, name, rendered):
    with RawClient(running) as client:
        client.send(read_request(name))
        assert error_of(client.receive()) == (1, "File not found")
    # A name that is not UTF-8 is refused before any render; a UTF-8 one is looked up.
    assert files.calls == ([(name.decode(), "127.0.0.1")] if rendered else [])
    assert_still_serves(running)


# Trigger 4: tftpy dies when sendto() fails.
@pytest.mark.skipif(os.geteuid() != 0, reason="crafting a packet from port 0 needs root")
@pytest.mark.parametrize(
    "request_datagram",
    [read_request(b"hello.cfg"), b"\x00\x02up.cfg\x00octet\x00", b"\x00\x09junk"],
    ids=["read (transfer port)", "write (listening port)", "malformed (listening port)"],
)
def test_a_failing_send_is_survived(serve, files, request_datagram):
    from scapy.layers.inet import IP, UDP
    from scapy.sendrecv import send

    service, address = serve(files, timeout_seconds=0.1, retries=2)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe, pytest.raises(OSError):
        probe.sendto(b"x", ("127.0.0.1", 0))  # the premise: any answer to port 0 fails
    packet = IP(src="127.0.0.1", dst=address[0]) / UDP(sport=0, dport=address[1])
    send(packet / request_datagram, verbose=False)
    if request_datagram.startswith(b"\x00\x01"):
        assert wait_until(lambda: files.calls == [("hello.cfg", "127.0.0.1")])
    assert wait_until(lambda: service.active_transfers == 0)
    assert_still_serves(address)


MALFORMED = {
    "empty": (b"", 4),
    "one byte": (b"\x01", 4),
    "opcode 0": (b"\x00\x00abc", 4),
    "opcode 9": (b"\x00\x09abc\x00octet\x00", 4),
    "RRQ without NUL": (b"\x00\x01hello.cfg", 4),
    "RRQ without mode": (b"\x00\x01hello.cfg\x00", 4),
    "mail mode": (b"\x00\x01hello.cfg\x00mail\x00", 4),
    "binary mode word": (b"\x00\x01hello.cfg\x00\xff\x00", 4),
    "ACK to the listening port": (b"\x00\x04\x00\x01", None),
    "DATA to the listening port": (b"\x00\x03\x00\x01abc", None),
    "ERROR to the listening port": (b"\x00\x05\x00\x00oops\x00", None),
    "traversal": (read_request(b"../../etc/passwd"), 1),
    "absolute traversal": (read_request(b"/../etc/shadow"), 1),
    "control character": (read_request(b"hello\x01.cfg"), 1),
    "backslashes": (read_request(b"..\\..\\boot.ini"), 1),
    "long name": (read_request(b"a" * 2000), 1),
    "huge datagram": (b"\x00\x01" + b"a" * 60000 + b"\x00octet\x00", 1),
}


@pytest.mark.parametrize(("datagram", "error_code"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_datagrams(running, files, datagram, error_code):
    with RawClient(running) as client:
        client.send(datagram)
        answer = client.receive(timeout=0.3 if error_code is None else 5)
        if error_code is None:
            assert answer is None
        else:
            assert error_of(answer)[0] == error_code
    assert files.calls == []
    assert_still_serves(running)


@pytest.mark.parametrize(
    "options",
    [
        b"blksize\x004\x00",
        b"blksize\x00-1\x00",
        b"blksize\x00" + b"1" * 40 + b"\x00",
        b"blksize\x0065536\x00",
        b"tsize\x00many\x00",
        b"timeout\x000\x00",
        b"timeout\x00x\x00",
        b"bl\xffksize\x00512\x00",
        b"blksize\x00\xff\x00",
        b"blksize\x00",
    ],
)
def test_odd_option_values_never_break_a_transfer(running, options):
    with RawClient(running) as client:
        client.send(read_request(b"phone.cfg") + options)
        packet = client.receive()
        if options == b"blksize\x0065536\x00":  # acceptable, clamped to the RFC's limit
            assert options_of(packet) == {"blksize": "65464"}
        else:  # refused options: no OACK, DATA block 1 straight away
            assert block_of(packet) == (1, bytes(range(256)) * 2)
    assert_still_serves(running)


def test_a_slow_render_holds_up_no_other_transfer(serve, files):
    slow_started, release = threading.Event(), threading.Event()

    def render(name: str, host: str) -> bytes | None:
        if name == "slow.cfg":
            slow_started.set()
            release.wait(30)
            return b"slow but sure\n"
        return files(name, host)

    _, (host, port) = serve(render)
    slow = subprocess.Popen(
        ["curl", "-sS", "--max-time", "40", "-o", "-", f"tftp://{host}:{port}/slow.cfg"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert slow_started.wait(10)
        fast = curl(f"tftp://{host}:{port}/phone.cfg", max_time=10)
        assert fast.returncode == 0 and fast.stdout == files.files["phone.cfg"], fast.stderr
        assert slow.poll() is None  # the slow one is still waiting for its render
    finally:
        release.set()
    stdout, stderr = slow.communicate(timeout=30)
    assert slow.returncode == 0 and stdout == b"slow but sure\n", stderr


def test_a_slow_client_holds_up_no_other_transfer(serve, files):
    _, (host, port) = serve(files, timeout_seconds=30, retries=1)
    with RawClient((host, port)) as lazy:
        lazy.send(read_request(b"phone.cfg"))
        assert block_of(lazy.receive())[0] == 1  # and no ACK for the next 30 seconds
        fast = curl(f"tftp://{host}:{port}/hello.cfg", max_time=10)
        assert fast.returncode == 0 and fast.stdout == HELLO, fast.stderr


def test_a_client_that_never_acknowledges_is_given_up_after_bounded_retries(serve, files):
    service, address = serve(files, timeout_seconds=0.2, retries=3)
    with RawClient(address) as silent:
        silent.send(read_request(b"hello.cfg"))
        copies = 0
        while (packet := silent.receive(timeout=1.5)) is not None:
            assert block_of(packet) == (1, HELLO)
            copies += 1
            assert copies <= 10
        assert copies == 1 + 3  # the first send and three retransmissions, then silence
        assert wait_until(lambda: service.active_transfers == 0)
    assert_still_serves(address)


def test_a_client_that_vanishes_mid_transfer(serve, files):
    service, address = serve(files, timeout_seconds=0.2, retries=3)
    vanishing = RawClient(address)
    vanishing.send(read_request(b"phone.cfg"))
    assert block_of(vanishing.receive())[0] == 1
    vanishing.close()  # its port is gone: the next send draws an ICMP "port unreachable"
    assert wait_until(lambda: service.active_transfers == 0)
    assert_still_serves(address)


def test_duplicate_acks_do_not_double_the_data(serve, files):
    _, address = serve(files, timeout_seconds=3, retries=3)
    with RawClient(address) as client:
        client.send(read_request(b"phone.cfg"))
        _, _, server = packet = client.receive()
        assert block_of(packet)[0] == 1
        client.acknowledge(1, server)
        client.acknowledge(1, server)  # a duplicate (a delayed copy on a real network)
        assert block_of(client.receive())[0] == 2
        # Sorcerer's Apprentice: resending on the duplicate would send block 2 twice.
        assert client.receive(timeout=0.5) is None
        client.acknowledge(2, server)
        assert block_of(client.receive())[0] == 3


def test_a_repeated_request_during_a_slow_render_starts_one_transfer(serve):
    calls, release = [], threading.Event()

    def render(name: str, host: str) -> bytes:
        calls.append(name)
        release.wait(10)
        return HELLO

    _, address = serve(render)
    with RawClient(address) as client:
        client.send(read_request(b"hello.cfg"))
        assert wait_until(lambda: calls == ["hello.cfg"])
        client.send(read_request(b"hello.cfg"))  # the client's own retransmission
        with RawClient(address) as probe:  # answered only after the retransmission was handled
            probe.send(b"\x00\x09")
            assert error_of(probe.receive())[0] == 4
        release.set()
        assert block_of(client.receive()) == (1, HELLO)
        assert client.receive(timeout=0.3) is None  # from one transfer port only
    assert calls == ["hello.cfg"]


def test_transfers_beyond_the_limit_wait_for_a_free_slot(serve, files):
    release = threading.Event()

    def render(name: str, host: str) -> bytes | None:
        if name == "hold.cfg":
            release.wait(10)
        return files(name, host) if name != "hold.cfg" else HELLO

    service, address = serve(render, max_transfers=1)
    with RawClient(address) as holder, RawClient(address) as waiting:
        holder.send(read_request(b"hold.cfg"))
        assert wait_until(lambda: service.active_transfers == 1)
        waiting.send(read_request(b"hello.cfg"))
        assert waiting.receive(timeout=0.3) is None  # dropped: every slot is taken
        release.set()
        holder_packet = holder.receive()
        holder.acknowledge(1, holder_packet[2])
        assert wait_until(lambda: service.active_transfers == 0)
        waiting.send(read_request(b"hello.cfg"))  # the client's retransmission
        assert block_of(waiting.receive()) == (1, HELLO)


def test_stop_ends_transfers_and_frees_the_port(serve, files):
    service, address = serve(files, timeout_seconds=30, retries=3)
    with RawClient(address) as client:
        client.send(read_request(b"phone.cfg"))
        assert block_of(client.receive())[0] == 1
        service.stop()
        assert service.active_transfers == 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as again:
        again.bind(address)  # the port is free again


def test_ack_from_a_stranger_is_ignored(serve, files):
    _, address = serve(files, timeout_seconds=5, retries=1)
    with RawClient(address) as client, RawClient(address) as stranger:
        client.send(read_request(b"phone.cfg"))
        _, _, server = packet = client.receive()
        assert block_of(packet)[0] == 1
        stranger.send(struct.pack("!HH", 4, 1), server)
        assert client.receive(timeout=0.3) is None  # the stranger's ACK moved nothing
        client.acknowledge(1, server)
        assert block_of(client.receive())[0] == 2


def test_the_client_timeout_option_sets_the_retransmit_timer(serve, files):
    _, address = serve(files, timeout_seconds=60, retries=1)
    with RawClient(address) as client:
        client.send(read_request(b"hello.cfg", timeout="1"))
        _, _, server = packet = client.receive()
        assert options_of(packet) == {"timeout": "1"}
        client.acknowledge(0, server)
        assert block_of(client.receive()) == (1, HELLO)
        # No ACK: the resend comes after the client's 1 s, not the service's 60 s.
        assert block_of(client.receive(timeout=10)) == (1, HELLO)


def test_a_long_timeout_option_cannot_hold_a_transfer_slot_for_minutes(serve, files):
    """RFC 2349 allows ``timeout 255``: honoured, one datagram would keep a slot for 25 min."""
    service, address = serve(files, timeout_seconds=0.2, retries=2)
    with RawClient(address) as silent:
        silent.send(read_request(b"hello.cfg", timeout="255"))
        assert silent.receive() is not None  # then it never acknowledges anything
        assert wait_until(lambda: service.active_transfers == 0, seconds=5)
    assert_still_serves(address)
