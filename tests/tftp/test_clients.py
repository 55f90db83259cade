"""Real clients (curl, tftp-hpa) against the service on loopback."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess

import pytest

from provisioner.errors import TftpBindFailed
from provisioner.tftp import TftpService
from tests.tftp.client import RawClient, block_of, options_of, read_request
from tests.tftp.conftest import Files

BIG = os.urandom(5 * 1024 * 1024 + 123)  # several MB, not a multiple of any block size


def curl(url: str, *arguments: str, output: str = "-") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["curl", "-sS", "--max-time", "60", *arguments, "-o", output, url],
        capture_output=True,
        timeout=90,
        check=False,
    )


def tftp_hpa(address, *command: str, mode: str = "binary") -> subprocess.CompletedProcess[str]:
    host, port = address
    return subprocess.run(
        ["tftp", "-m", mode, host, str(port), "-c", *command],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_curl_downloads_with_blksize_and_tsize(serve, files):
    _, (host, port) = serve(files)
    result = curl(f"tftp://{host}:{port}/phone.cfg", "-v", "--tftp-blksize", "1468")
    assert result.returncode == 0, result.stderr
    assert result.stdout == files.files["phone.cfg"]
    log = result.stderr.decode()
    assert "got option=(blksize) value=(1468)" in log
    assert f"got option=(tsize) value=({len(files.files['phone.cfg'])})" in log
    assert files.calls == [("phone.cfg", "127.0.0.1")]


def test_oack_carries_exactly_what_was_asked(running):
    with RawClient(running) as client:
        client.send(read_request(b"hello.cfg", blksize="1024", tsize="0", timeout="2"))
        assert options_of(client.receive()) == {"blksize": "1024", "tsize": "23", "timeout": "2"}
    with RawClient(running) as client:
        client.send(read_request(b"hello.cfg", windowsize="4"))
        # Only unknown options asked: no OACK (RFC 2347), straight to DATA block 1.
        assert block_of(client.receive()) == (1, b"hello from provisioner\n")


def test_curl_big_file_arrives_intact(serve, tmp_path):
    _, (host, port) = serve(Files({"firmware/t46u.rom": BIG}))
    output = tmp_path / "t46u.rom"
    result = curl(f"tftp://{host}:{port}/firmware/t46u.rom", output=str(output))
    assert result.returncode == 0, result.stderr
    assert hashlib.sha256(output.read_bytes()).digest() == hashlib.sha256(BIG).digest()


def test_block_numbers_wrap_past_65535(serve, tmp_path):
    content = os.urandom(8 * 70_000)  # 70,000 blocks of 8 bytes, then an empty last block
    _, (host, port) = serve(Files({"wrap.bin": content}))
    output = tmp_path / "wrap.bin"
    result = curl(f"tftp://{host}:{port}/wrap.bin", "--tftp-blksize", "8", output=str(output))
    assert result.returncode == 0, result.stderr
    assert output.read_bytes() == content


def test_tftp_hpa_binary_and_big(serve, tmp_path):
    _, address = serve(Files({"firmware.bin": BIG}))
    output = tmp_path / "firmware.bin"
    result = tftp_hpa(address, "get", "firmware.bin", str(output))
    assert result.returncode == 0 and result.stdout == "", result
    assert output.read_bytes() == BIG


def test_tftp_hpa_netascii_round_trip(serve, tmp_path):
    text = b"# Snom\nline one\nline two\r\nlast"
    _, address = serve(Files({"snom.htm": text}))
    with RawClient(address) as client:
        client.send(read_request(b"snom.htm", b"netascii"))
        assert block_of(client.receive()) == (1, b"# Snom\r\nline one\r\nline two\r\0\r\nlast")
    output = tmp_path / "snom.htm"
    result = tftp_hpa(address, "get", "snom.htm", str(output), mode="netascii")
    assert result.returncode == 0 and result.stdout == "", result
    assert output.read_bytes() == text


def test_missing_file_is_error_1(running, tmp_path):
    result = tftp_hpa(running, "get", "001565aabbcc.cfg", str(tmp_path / "x"))
    assert "Error code 1: File not found" in result.stdout


def test_uploads_are_refused(running, tmp_path, files):
    upload = tmp_path / "upload.cfg"
    upload.write_bytes(b"evil = 1\n")
    result = tftp_hpa(running, "put", str(upload), "hello.cfg")
    assert "Error code 2: Access violation" in result.stdout
    host, port = running
    result = subprocess.run(
        ["curl", "-sS", "--max-time", "20", "-T", str(upload), f"tftp://{host}:{port}/x.cfg"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 69  # CURLE_TFTP_PERM: the server said "access violation"
    assert files.calls == []


def test_serves_on_every_loopback_address_when_bound_to_the_wildcard(serve, files):
    _, (_, port) = serve(files, host="0.0.0.0")
    with RawClient(("127.0.0.2", port)) as client:
        client.send(read_request(b"hello.cfg"))
        packet = client.receive()
        # The reply comes from the address the request went to, so the client accepts it.
        assert packet is not None and packet[2][0] == "127.0.0.2"
        assert block_of(packet) == (1, b"hello from provisioner\n")
    assert files.calls == [("hello.cfg", "127.0.0.2")]


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_ipv6_loopback(serve, files):
    _, (host, port) = serve(files, host="::1")
    result = curl(f"tftp://[{host}]:{port}/hello.cfg")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"hello from provisioner\n"
    assert files.calls == [("hello.cfg", "::1")]


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_dual_stack_wildcard_names_ipv4_clients_plainly(serve, files):
    _, (_, port) = serve(files, host="::")
    result = curl(f"tftp://127.0.0.1:{port}/hello.cfg")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"hello from provisioner\n"
    assert files.calls == [("hello.cfg", "127.0.0.1")]


def test_a_port_in_use_is_a_clear_error(files):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        with pytest.raises(TftpBindFailed, match=f"127.0.0.1:{port}.*another TFTP server"):
            TftpService(files, "127.0.0.1", port).start()
