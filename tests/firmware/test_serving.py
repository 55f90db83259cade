"""Serving images: HTTP with Range and ETag to curl on a real server, TFTP to tftp-hpa and
curl (blksize 1468), and never a file that changed on disk after it was added."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from provisioner.pairing import service
from provisioner.phones.render import tftp_render_function
from provisioner.security.ratelimit import get_rate_limiter, source_key
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store
from provisioner.tftp import TftpService
from tests.firmware.conftest import (
    DEMO_MAC,
    NEW_VERSION,
    OLD_VERSION,
    add_image,
    boot,
    firmware_url,
    open_window,
    start_rollout,
    stored_image,
)
from tests.phones.conftest import serve

SIXTEEN_MIB = 16 * 1024 * 1024


def curl(*arguments: str) -> subprocess.CompletedProcess[bytes]:
    assert shutil.which("curl"), "curl is needed (scripts/apt-packages)"
    return subprocess.run(
        ["curl", "--silent", "--show-error", "--max-time", "60", *arguments],
        capture_output=True,
        timeout=90,
        check=False,
    )


@pytest.fixture
def live(firmware_app: Flask) -> Iterator[str]:
    url, thread, server = serve(firmware_app)
    yield url
    server.shutdown()  # type: ignore[attr-defined]
    thread.join(timeout=10)


def pointed_url(app: Flask, base: str = "") -> str:
    """The demo phone in a canary rollout, booted on the old version: its firmware URL."""
    open_window(app, DEMO_MAC)
    start_rollout(app, canary=(DEMO_MAC,))
    url = firmware_url(boot(app.test_client(), DEMO_MAC, OLD_VERSION))
    assert url is not None
    return base + url.removeprefix("http://localhost")


def test_curl_resumes_with_range_and_revalidates_with_the_etag(
    firmware_app: Flask, live: str, tmp_path: Path
) -> None:
    url = pointed_url(firmware_app, live)
    image = stored_image(firmware_app).read_bytes()
    part = curl("--range", "1000-4999", "--dump-header", str(tmp_path / "h"), url)
    headers = (tmp_path / "h").read_text().lower()
    assert headers.startswith("http/1.1 206"), headers
    assert f"content-range: bytes 1000-4999/{len(image)}" in headers
    assert part.stdout == image[1000:5000]

    partial = tmp_path / "image"
    partial.write_bytes(image[:20_000])  # an interrupted download, resumed
    resumed = curl("--continue-at", "-", "--output", str(partial), url)
    assert resumed.returncode == 0, resumed.stderr
    assert partial.read_bytes() == image

    sha256 = hashlib.sha256(image).hexdigest()
    assert f'etag: "{sha256}"' in headers
    again = curl("--header", f'If-None-Match: "{sha256}"', "--write-out", "%{http_code}", url)
    assert again.stdout == b"304"


def test_a_wrong_token_or_an_unpaired_phone_gets_404(firmware_app: Flask, live: str) -> None:
    url = pointed_url(firmware_app, live)
    mac, token, name = url.split("/firmware/")[1].split("/")
    forged = url.replace(token, ("0" if token[0] != "0" else "1") + token[1:])
    other = url.replace(mac, "805ec0999999")
    for wrong in (forged, other, f"{live}/p/firmware/yealink/T46U/{NEW_VERSION}"):
        assert curl("--write-out", "%{http_code}", "--output", "/dev/null", wrong).stdout == b"404"
    with get_store(firmware_app).transaction() as session:
        service.unpair(session, get_secret_box(firmware_app), "demo", DEMO_MAC, "test")
    assert curl("--write-out", "%{http_code}", "--output", "/dev/null", url).stdout == b"404"


@pytest.fixture
def tftp(firmware_app: Flask) -> Iterator[tuple[str, int]]:
    service: Any = TftpService(tftp_render_function(firmware_app), host="127.0.0.1", port=0)
    address: tuple[str, int] = service.start()
    yield address
    service.stop()


def test_sixteen_mib_over_tftp_to_tftp_hpa_and_to_curl_with_blksize_1468(
    firmware_app: Flask, tftp: tuple[str, int], tmp_path: Path
) -> None:
    big = os.urandom(SIXTEEN_MIB)
    add_image(firmware_app, "108.86.0.99", big)
    open_window(firmware_app, DEMO_MAC)
    start_rollout(firmware_app, "108.86.0.99", canary=(DEMO_MAC,))
    url = firmware_url(boot(firmware_app.test_client(), DEMO_MAC, OLD_VERSION))
    assert url is not None
    name = url.removeprefix("http://localhost/p/")
    host, port = tftp

    # tftp-hpa 5.2's client asks no options (its usage line has none): 512-byte blocks.
    hpa_copy = tmp_path / "hpa.rom"
    hpa = subprocess.run(
        ["tftp", "-m", "binary", host, str(port), "-c", "get", name, str(hpa_copy)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert hpa.returncode == 0 and hpa.stdout == "", hpa
    assert hpa_copy.read_bytes() == big

    curl_copy = tmp_path / "curl.rom"
    fetched = curl(
        "-v", "--tftp-blksize", "1468", "--output", str(curl_copy), f"tftp://{host}:{port}/{name}"
    )
    assert fetched.returncode == 0, fetched.stderr
    log = fetched.stderr.decode()
    assert "got option=(blksize) value=(1468)" in log
    assert f"got option=(tsize) value=({SIXTEEN_MIB})" in log
    assert curl_copy.read_bytes() == big


def test_tftp_refuses_a_made_up_firmware_name(
    firmware_app: Flask, tftp: tuple[str, int], tmp_path: Path
) -> None:
    host, port = tftp
    name = f"firmware/{DEMO_MAC}/{'a' * 32}/T46U-{NEW_VERSION}.rom"
    result = subprocess.run(
        ["tftp", "-m", "binary", host, str(port), "-c", "get", name, str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert "Error code 1: File not found" in result.stdout


def test_a_file_altered_after_it_was_added_is_refused_and_no_longer_named(
    firmware_app: Flask, live: str, admin: dict[str, str]
) -> None:
    url = pointed_url(firmware_app, live)
    assert curl("--write-out", "%{http_code}", "--output", "/dev/null", url).stdout == b"200"
    path = stored_image(firmware_app)
    altered = bytearray(path.read_bytes())
    altered[100] ^= 0xFF
    path.write_bytes(bytes(altered))  # same size, new content

    assert curl("--write-out", "%{http_code}", "--output", "/dev/null", url).stdout == b"404"
    config = boot(firmware_app.test_client(), DEMO_MAC, OLD_VERSION)
    assert firmware_url(config) is None
    audit = firmware_app.test_client().get("/api/v1/audit", headers=admin).json["items"]
    refused = [item for item in audit if item["action"] == "integrity-failed"]
    assert refused and "changed on disk" in refused[0]["changes"]["problem"]
    listing = firmware_app.test_client().get("/api/v1/firmware", headers=admin).json["items"]
    by_version = {item["version"]: item["servable"] for item in listing}
    assert by_version == {OLD_VERSION: True, NEW_VERSION: False}


@pytest.mark.parametrize(
    "path",
    [
        "/p/firmware/",
        "/p/firmware/..%2f..%2fmanifest.json",
        "/p/firmware/805ec0123456/zz/x.rom",
        "/p/firmware/yealink/108.86.0.95/T46U-108.86.0.95.rom",  # where it lies on disk
        "/p/firmware/" + "a" * 300,
    ],
)
def test_made_up_firmware_paths_are_misses(firmware_app: Flask, path: str) -> None:
    firmware_app.config["PHONE_MISS_LIMIT"] = 2
    client = firmware_app.test_client()
    assert [client.get(path).status_code for _ in range(3)] == [404, 404, 404]
    assert get_rate_limiter(firmware_app).count(source_key("127.0.0.1")) >= 2
