"""Phones over real TFTP on loopback (curl as the client), through the same render function."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from provisioner.cli import start_tftp
from provisioner.phones.render import tftp_render_function
from tests.phones.conftest import add_unpaired_phone, pair, sip_password
from tests.phones.readers import READERS, check_full
from tests.phones.samples import SAMPLE_IDS, SAMPLES, Sample


def curl_tftp(host: str, port: int, name: str, target: Path) -> bytes | None:
    """Download ``name`` with curl over TFTP; None when the server says not found."""
    assert shutil.which("curl"), "curl is needed (scripts/apt-packages)"
    done = subprocess.run(
        [
            "curl",
            "--silent",
            "--max-time",
            "20",
            "--tftp-blksize",
            "1024",
            "-o",
            str(target),
            f"tftp://{host}:{port}/{name}",
        ],
        capture_output=True,
        check=False,
    )
    return target.read_bytes() if done.returncode == 0 else None


@pytest.fixture
def tftp_address(phone_app: Flask) -> Iterator[tuple[str, int]]:
    from provisioner.tftp import TftpService  # type: ignore[import-not-found, unused-ignore]

    service: Any = TftpService(tftp_render_function(phone_app), host="127.0.0.1", port=0)
    address: tuple[str, int] = service.start()
    yield address
    service.stop()


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_paired_phone_boots_over_tftp(
    phone_app: Flask, tftp_address: tuple[str, int], sample: Sample, tmp_path: Path
) -> None:
    pair(phone_app, sample.mac, sample.vendor, sample.model)
    files: dict[str, bytes] = {}
    for name, expected, device in sample.boot:
        body = curl_tftp(*tftp_address, name, tmp_path / "download")
        assert (body is not None) == (expected == 200), name
        if device and body is not None:
            files["directory" if name.endswith("-directory.xml") else "device"] = body
    check_full(sample.vendor, READERS[sample.vendor](files), sip_password(phone_app))


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_unpaired_mac_over_tftp_is_the_unknown_answer(
    phone_app: Flask, tftp_address: tuple[str, int], sample: Sample, tmp_path: Path
) -> None:
    pair(phone_app, sample.mac[:6] + "bb0001", sample.vendor, sample.model)
    unpaired, never_seen = (
        sample.for_mac(sample.mac[:6] + "bb0002"),
        sample.for_mac(sample.mac[:6] + "cc0001"),
    )
    add_unpaired_phone(phone_app, unpaired)  # the tenant has it; nobody paired it
    for first, second in zip(unpaired.boot, never_seen.boot, strict=True):
        if first[2]:  # the per-device files; boot files name the MAC they were asked for
            answer = curl_tftp(*tftp_address, first[0], tmp_path / "a")
            assert answer is not None
            assert answer == curl_tftp(*tftp_address, second[0], tmp_path / "b")
            assert READERS[sample.vendor]({"device": answer}).password is None


def test_serve_option_starts_tftp_with_the_render_function(
    phone_app: Flask, tmp_path: Path
) -> None:
    phone_app.config.update(HTTP_HOST="127.0.0.1", HTTP_PORT=8470)
    service, (host, port) = start_tftp(phone_app, "127.0.0.1:0")
    try:
        body = curl_tftp(host, port, "y000000000000.cfg", tmp_path / "common")
        assert (
            body is not None
            and b"static.auto_provision.server.url = http://127.0.0.1:8470/p/" in body
        )
    finally:
        service.stop()


def test_provisioner_serve_with_tftp(tmp_path: Path) -> None:
    """The real command: `provisioner serve --tftp`, then a phone's common file over TFTP."""
    import os
    import sys

    environment = {
        **os.environ,
        "PROVISIONER_INSTANCE": str(tmp_path / "instance"),
        "PROVISIONER_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        str(Path(sys.executable).parent / "provisioner"),
        "serve",
        "--http",
        "127.0.0.1:0",
        "--tftp",
        "127.0.0.1:0",
    ]
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = ""
        for _ in range(20):
            line = process.stdout.readline()
            if "TFTP on" in line:
                break
        host, port = line.strip().rsplit(" ", 1)[1].rsplit(":", 1)
        body = curl_tftp(host, int(port), "y000000000000.cfg", tmp_path / "common")
        # The common file sends the phone on to the HTTP server (time and language are in
        # <mac>.cfg, read over it).
        assert body is not None and b"static.auto_provision.server.url = http://" in body
        # The request log has TFTP requests too, one line each like HTTP's.
        for _ in range(20):
            line = process.stdout.readline()
            if " TFTP " in line:
                break
        assert re.search(r" 127\.0\.0\.1 TFTP y000000000000\.cfg 200 mac=- \d+ ms$", line), line
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()


def test_a_throttled_address_gets_file_not_found_for_every_name_over_tftp(
    phone_app: Flask, tftp_address: tuple[str, int]
) -> None:
    """What docs/phones.md promises: TFTP has no "slow down", so a throttled address gets
    error 1 "File not found" for every name, common files included; others are served."""
    from tests.phones.conftest import serve
    from tests.phones.http_client import fetch
    from tests.tftp.client import RawClient, error_of, read_request

    sample = SAMPLES[0]
    pair(phone_app, sample.mac, sample.vendor, sample.model)
    url, thread, server = serve(phone_app)
    try:
        for index in range(phone_app.config["PHONE_MISS_LIMIT"]):
            fetch(url, f"/p/guess-{index}.cfg", source="127.0.0.1")
    finally:
        server.shutdown()  # type: ignore[attr-defined]
        thread.join(timeout=10)
    common, device = "y000000000000.cfg", f"{sample.mac}.cfg"
    for name in (common, device, "guess.cfg"):
        with RawClient(tftp_address) as client:
            client.send(read_request(name.encode()))
            assert error_of(client.receive()) == (1, "File not found"), name
    # Another address (its own count) gets the common file.
    with RawClient(tftp_address) as other:
        other.socket.close()
        other.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.socket.bind(("127.0.0.2", 0))
        other.socket.settimeout(5)
        assert other.download(common.encode()).startswith(b"#!version")
