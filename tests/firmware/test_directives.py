"""Every vendor's config names its image with the vendor's own directive (the reference's
key names), for a paired phone in a rollout that reports another version; the URL works."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from provisioner.phones.identify import from_user_agent
from provisioner.store import get_store
from tests.conftest import import_demo, make_app
from tests.firmware.conftest import add_image, trust
from tests.phones.conftest import pair
from tests.phones.samples import SAMPLE_IDS, SAMPLES, Sample

TARGET = "9.9.9"
# The directive as shared/reference/phones.md names it per vendor, around the URL.
DIRECTIVES = {
    "yealink": r"static\.firmware\.url = {url}\n",
    "polycom": r'device\.prov\.upgradeServer="{url}"',
    "snom": r'<firmware perm="[^"]*">{url}</firmware>',
    "grandstream": r'<item name="provisioning\.firmware\.serverPath">{url}</item>',
    "cisco_mpp": r"<Upgrade_Rule[^>]*>{url}</Upgrade_Rule>",
    "cisco_spa": r"<Upgrade_Rule[^>]*>{url}</Upgrade_Rule>",
    "fanvil": r"<UpgradeServer1>{url}</UpgradeServer1>",
    "gigaset": r'<file version="9\.9\.9" url="{url}"/>',
    "panasonic": r'FIRM_FILE_PATH="{url}"\r\nFIRM_VERSION="9\.9\.9"',
}
URL = r"(http://localhost/p/firmware/{mac}/[0-9a-f]{{32}}/[^\s<\"]*)"


@pytest.fixture
def vendor_app(tmp_path: Path) -> Iterator[Flask]:
    app = make_app(tmp_path, PHONE_MISS_LIMIT=1000)
    import_demo(app)
    trust(app)
    yield app
    get_store(app).dispose()


def rollout_for(app: Flask, sample: Sample, version: str = TARGET) -> bytes:
    """An image for the sample's model, a rollout with the sample as canary; the image."""
    content = os.urandom(4096)
    name = "gxp2614fw.bin" if sample.vendor == "grandstream" else f"{sample.model}-{version}.bin"
    add_image(app, version, content, name, sample.vendor, (sample.model,))
    from provisioner.firmware import rollout

    wanted = rollout.RolloutRequest(
        "demo", sample.vendor, sample.model, version, canary=(sample.mac,)
    )
    from provisioner.firmware import catalogue_directory
    from provisioner.firmware.catalogue import read_manifest

    with get_store(app).transaction() as session:
        rollout.start(session, wanted, read_manifest(catalogue_directory(app)), "test")
    return content


def device_files(client: FlaskClient, sample: Sample) -> str:
    texts = []
    for name, status, device in sample.boot:
        answer = client.get(f"/p/{name}", headers={"User-Agent": sample.user_agent})
        assert answer.status_code == status, name
        if device:
            texts.append(answer.get_data(as_text=True))
    return "\n".join(texts)


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_the_config_carries_the_vendors_directive_and_its_url_serves_the_image(
    vendor_app: Flask, sample: Sample
) -> None:
    pair(vendor_app, sample.mac, sample.vendor, sample.model)
    image = rollout_for(vendor_app, sample)
    text = device_files(vendor_app.test_client(), sample)
    url = URL.format(mac=sample.mac)
    found = re.search(DIRECTIVES[sample.vendor].format(url=url), text)
    assert found is not None, text
    link = found.group(1)
    if sample.vendor == "grandstream":
        assert link.endswith("/")  # P192 is a folder; the phone adds gxp2614fw.bin
        link += "gxp2614fw.bin"
    client = vendor_app.test_client()
    with client.get(link.removeprefix("http://localhost")) as download:
        assert download.status_code == 200
        assert download.data == image


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_no_directive_on_the_target_version_or_for_an_unpaired_phone(
    vendor_app: Flask, sample: Sample
) -> None:
    running = from_user_agent(sample.user_agent).firmware
    assert running is not None
    rollout_for(vendor_app, sample, running)  # the target is what the phone runs
    unpaired = device_files(vendor_app.test_client(), sample)  # the bootstrap
    assert "/p/firmware/" not in unpaired
    pair(vendor_app, sample.mac, sample.vendor, sample.model)
    assert "/p/firmware/" not in device_files(vendor_app.test_client(), sample)


def test_a_rollout_started_or_rolled_back_after_a_boot_changes_the_next_file_at_once(
    vendor_app: Flask,
) -> None:
    sample = next(sample for sample in SAMPLES if sample.vendor == "yealink")
    pair(vendor_app, sample.mac, sample.vendor, sample.model)
    client = vendor_app.test_client()
    assert "/p/firmware/" not in device_files(client, sample)  # the tenant's view is now kept
    rollout_for(vendor_app, sample)
    assert "/p/firmware/" in device_files(client, sample)
    from provisioner.firmware import rollout

    with get_store(vendor_app).transaction() as session:
        (started,) = rollout.rollouts(session, "demo")
        rollout.roll_back(session, started.id, "test")  # no rollback version: no image
    assert "/p/firmware/" not in device_files(client, sample)
