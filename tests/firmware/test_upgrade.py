"""A phone's way through a rollout: pointed at the image, fetches it, boots on the target
(upgraded, on its timeline) or comes back on its old version (failed, shown in diagnose)."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from provisioner.network.diagnose import diagnose
from provisioner.network.report import as_text
from provisioner.pairing.timeline import timeline
from provisioner.store import get_store
from provisioner.tenants.repository import find_tenant
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
    user_agent,
)


def counts(client: FlaskClient, headers: dict[str, str], rollout_id: int) -> dict[str, int]:
    answer = client.get(f"/api/v1/firmware/rollouts/{rollout_id}", headers=headers)
    assert answer.status_code == 200, answer.json
    result: dict[str, int] = answer.json["counts"]
    return result


def state(targeted: int, upgraded: int, pending: int, failed: int) -> dict[str, int]:
    return {"targeted": targeted, "upgraded": upgraded, "pending": pending, "failed": failed}


def events_of(app: Flask, mac: str) -> list[dict[str, str]]:
    with get_store(app).reading() as session:
        return timeline(session, find_tenant(session, "demo").id, mac)


def test_a_canary_phone_upgrades_on_its_next_boot(
    firmware_app: Flask, admin: dict[str, str]
) -> None:
    client = firmware_app.test_client()
    open_window(firmware_app, DEMO_MAC)
    rollout_id = start_rollout(firmware_app, canary=(DEMO_MAC,))
    assert counts(client, admin, rollout_id) == state(1, 0, 1, 0)

    url = firmware_url(boot(client, DEMO_MAC, OLD_VERSION))
    assert url is not None
    assert url.startswith(f"http://localhost/p/firmware/{DEMO_MAC}/")
    assert url.endswith(f"/T46U-{NEW_VERSION}.rom")
    with client.get(url.removeprefix("http://localhost")) as image:
        assert image.status_code == 200
        assert image.data == stored_image(firmware_app).read_bytes()

    assert firmware_url(boot(client, DEMO_MAC, NEW_VERSION)) is None
    assert counts(client, admin, rollout_id) == state(1, 1, 0, 0)
    marks = [
        (event["answer"], event["file"], event["user_agent"])
        for event in events_of(firmware_app, DEMO_MAC)
        if event["answer"] == "upgraded"
    ]
    assert marks == [("upgraded", f"firmware {NEW_VERSION}", user_agent(DEMO_MAC, NEW_VERSION))]


def test_the_old_version_again_after_the_download_is_a_failure(
    firmware_app: Flask, admin: dict[str, str]
) -> None:
    firmware_app.config["FIRMWARE_FAILED_AFTER_SECONDS"] = 0
    client = firmware_app.test_client()
    open_window(firmware_app, DEMO_MAC)
    rollout_id = start_rollout(firmware_app, canary=(DEMO_MAC,))
    url = firmware_url(boot(client, DEMO_MAC, OLD_VERSION))
    assert url is not None
    with client.get(url.removeprefix("http://localhost")) as image:
        assert image.status_code == 200

    assert firmware_url(boot(client, DEMO_MAC, OLD_VERSION)) is None  # no boot loop
    assert counts(client, admin, rollout_id) == state(1, 0, 0, 1)
    answers = [event["answer"] for event in events_of(firmware_app, DEMO_MAC)]
    assert answers.count("upgrade failed") == 1
    with get_store(firmware_app).reading() as session:
        report = diagnose(session, DEMO_MAC)
    assert report["firmware"]["failed"] is True
    assert f"UPGRADE FAILED: {OLD_VERSION} -> {NEW_VERSION}" in as_text(report)


def test_a_phone_that_has_not_fetched_the_image_is_not_failed_yet(
    firmware_app: Flask, admin: dict[str, str]
) -> None:
    firmware_app.config["FIRMWARE_FAILED_AFTER_SECONDS"] = 0
    client = firmware_app.test_client()
    open_window(firmware_app, DEMO_MAC)
    rollout_id = start_rollout(firmware_app, canary=(DEMO_MAC,))
    assert firmware_url(boot(client, DEMO_MAC, OLD_VERSION)) is not None
    assert firmware_url(boot(client, DEMO_MAC, OLD_VERSION)) is not None  # still pointed
    assert counts(client, admin, rollout_id) == state(1, 0, 1, 0)


def test_no_directive_without_a_reported_version_or_outside_the_rollout(
    firmware_app: Flask,
) -> None:
    client = firmware_app.test_client()
    open_window(firmware_app, DEMO_MAC)
    start_rollout(firmware_app, percentage=0)  # nobody chosen
    assert firmware_url(boot(client, DEMO_MAC, OLD_VERSION)) is None
    start_rollout(firmware_app, canary=(DEMO_MAC,))
    answer = client.get(f"/p/{DEMO_MAC}.cfg")  # no User-Agent: version unknown
    assert "static.firmware.url" not in answer.get_data(as_text=True)
    assert firmware_url(boot(client, DEMO_MAC, OLD_VERSION)) is not None


def test_rolling_back_points_the_phones_at_the_rollback_version(
    firmware_app: Flask, admin: dict[str, str]
) -> None:
    client = firmware_app.test_client()
    open_window(firmware_app, DEMO_MAC)
    rollout_id = start_rollout(firmware_app, canary=(DEMO_MAC,), rollback_version=OLD_VERSION)
    assert firmware_url(boot(client, DEMO_MAC, NEW_VERSION)) is None
    answer = client.post(f"/api/v1/firmware/rollouts/{rollout_id}/rollback", headers=admin)
    assert answer.status_code == 200, answer.json
    assert answer.json["state"] == "rolled-back"
    url = firmware_url(boot(client, DEMO_MAC, NEW_VERSION))
    assert url is not None and url.endswith(f"/T46U-{OLD_VERSION}.rom")
    audit = client.get("/api/v1/audit", headers=admin).json["items"]
    actions = [(item["action"], item["object_type"]) for item in audit]
    assert ("roll-back", "firmware_rollout") in actions
    assert ("start", "firmware_rollout") in actions


def test_a_yealink_family_image_name_with_brackets_and_commas_works(
    firmware_app: Flask,
) -> None:
    name = "T46U(T43U,T46U,T41U,T48U,T42U,T44U,T44W)-108.86.0.100.rom"
    add_image(firmware_app, "108.86.0.100", b"family image", name)
    open_window(firmware_app, DEMO_MAC)
    start_rollout(firmware_app, "108.86.0.100", canary=(DEMO_MAC,))
    client = firmware_app.test_client()
    url = firmware_url(boot(client, DEMO_MAC, OLD_VERSION))
    assert url is not None and url.endswith("/" + name)
    with client.get(url.removeprefix("http://localhost")) as download:
        assert download.status_code == 200
        assert download.data == b"family image"


def test_a_broken_manifest_leaves_configs_without_a_directive(firmware_app: Flask) -> None:
    open_window(firmware_app, DEMO_MAC)
    start_rollout(firmware_app, canary=(DEMO_MAC,))
    (stored_image(firmware_app).parents[2] / "manifest.json").write_text("not json")
    config = boot(firmware_app.test_client(), DEMO_MAC, OLD_VERSION)
    assert "account.1.user_name = 240" in config
    assert firmware_url(config) is None


def test_an_image_a_rollout_still_wants_cannot_be_removed(firmware_app: Flask) -> None:
    rollout_id = start_rollout(firmware_app)
    runner = firmware_app.test_cli_runner()
    refused = runner.invoke(args=["firmware", "remove", f"T46U-{NEW_VERSION}.rom"])
    assert refused.exit_code == 1
    assert f"rollout(s) {rollout_id} still send phones to it" in refused.output
    assert stored_image(firmware_app).exists()
    assert runner.invoke(args=["firmware", "remove", f"T46U-{OLD_VERSION}.rom"]).exit_code == 0
