"""The trap receiver with traps sent by net-snmp's snmptrap (v2c and v3 authPriv)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from provisioner.network import inventory, oids, start_beside_http, traps
from provisioner.store import get_store
from provisioner.store.models import NetworkDeviceState, NetworkTrap
from tests.conftest import import_demo, make_app, token_for
from tests.network.agents import free_udp_port
from tests.network.conftest import add_device, v2c_device, v3_device

SENDER_ENGINE_ID = "8000000001020304"
LINK_DOWN, LINK_UP = "1.3.6.1.6.3.1.1.5.3", "1.3.6.1.6.3.1.1.5.4"
COLD_START, WARM_START, AUTH_FAILURE = (
    "1.3.6.1.6.3.1.1.5.1",
    "1.3.6.1.6.3.1.1.5.2",
    "1.3.6.1.6.3.1.1.5.5",
)


@pytest.fixture
def receiving(tmp_path: Path) -> Iterator[tuple[Flask, int, dict[str, int]]]:
    """An app whose trap receiver runs (no poller) with a v2c switch and a v3 router."""
    port = free_udp_port()
    app = make_app(
        tmp_path, NETWORK_TRAPS_ENABLED=True, NETWORK_TRAP_PORT=port, NETWORK_POLLER_ENABLED=False
    )
    import_demo(app)
    devices = {
        "switch": add_device(app, **v2c_device("sw", 161, community="s3cret-community")),
        "router": add_device(app, **v3_device("rt", 161, engine_id=SENDER_ENGINE_ID)),
    }
    with get_store(app).transaction() as session:
        session.add(
            NetworkDeviceState(
                device_id=devices["switch"],
                status="up",
                data={"interfaces": [{"if_index": 3, "name": "Gi0/3", "oper_status": "up"}]},
            )
        )
    stop = start_beside_http(app)
    yield app, port, devices
    stop()


def send_v2c(port: int, community: str, trap_oid: str, *variables: str) -> None:
    subprocess.run(
        ["snmptrap", "-v2c", "-c", community, f"127.0.0.1:{port}", "", trap_oid, *variables],
        check=True,
        capture_output=True,
        timeout=10,
    )


def send_v3(port: int, trap_oid: str) -> None:
    subprocess.run(
        [
            "snmptrap",
            "-v3",
            "-e",
            f"0x{SENDER_ENGINE_ID}",
            "-u",
            "monsha",
            "-l",
            "authPriv",
            "-a",
            "SHA",
            "-A",
            "authpass-123",
            "-x",
            "AES",
            "-X",
            "privpass-123",
            f"127.0.0.1:{port}",
            "",
            trap_oid,
        ],
        check=True,
        capture_output=True,
        timeout=10,
    )


def wait_for_traps(app: Flask, count: int) -> list[NetworkTrap]:
    """The stored traps once there are ``count`` (bounded: 10 s)."""
    for _ in range(100):
        with get_store(app).reading() as session:
            rows = session.query(NetworkTrap).order_by(NetworkTrap.id).all()
        if len(rows) >= count:
            return rows
        time.sleep(0.1)
    raise AssertionError(f"expected {count} trap(s), got {len(rows)}")


def test_v2c_link_down_is_stored_and_marks_the_port_at_once(
    receiving: tuple[Flask, int, dict[str, int]],
) -> None:
    app, port, devices = receiving
    send_v2c(
        port,
        "s3cret-community",
        LINK_DOWN,
        "1.3.6.1.2.1.2.2.1.1.3",
        "i",
        "3",
        "1.3.6.1.2.1.2.2.1.8.3",
        "i",
        "2",
    )
    [trap] = wait_for_traps(app, 1)
    assert (trap.name, trap.device_id, trap.if_index) == ("linkDown", devices["switch"], 3)
    with get_store(app).reading() as session:
        interface = session.get(NetworkDeviceState, devices["switch"]).data["interfaces"][0]
    assert interface["oper_status"] == "down"
    assert interface["status_from_trap_at"]
    send_v2c(port, "s3cret-community", LINK_UP, "1.3.6.1.2.1.2.2.1.1.3", "i", "3")
    wait_for_traps(app, 2)
    with get_store(app).reading() as session:
        interface = session.get(NetworkDeviceState, devices["switch"]).data["interfaces"][0]
    assert interface["oper_status"] == "up"


def test_v2c_start_and_authentication_traps_are_named(
    receiving: tuple[Flask, int, dict[str, int]],
) -> None:
    app, port, _devices = receiving
    for trap_oid in (COLD_START, WARM_START, AUTH_FAILURE):
        send_v2c(port, "s3cret-community", trap_oid)
    names = [trap.name for trap in wait_for_traps(app, 3)]
    assert names == ["coldStart", "warmStart", "authenticationFailure"]


def test_v3_authpriv_trap_is_stored_for_the_router(
    receiving: tuple[Flask, int, dict[str, int]],
) -> None:
    app, port, devices = receiving
    send_v3(port, COLD_START)
    [trap] = wait_for_traps(app, 1)
    assert (trap.name, trap.device_id) == ("coldStart", devices["router"])
    assert trap.security_name == "monsha"
    support = {"Authorization": f"Bearer {token_for(app, 'support')}"}
    detail = app.test_client().get("/api/v1/tenants/demo/network-devices/rt", headers=support)
    assert [item["name"] for item in detail.json["traps"]] == ["coldStart"]


def test_trap_with_an_unknown_community_is_dropped(
    receiving: tuple[Flask, int, dict[str, int]],
) -> None:
    app, port, _devices = receiving
    send_v2c(port, "guessed", LINK_DOWN, "1.3.6.1.2.1.2.2.1.1.3", "i", "3")
    send_v2c(port, "s3cret-community", WARM_START)  # a marker: once it is in, the first is not
    [trap] = wait_for_traps(app, 1)
    assert trap.name == "warmStart"


def test_interpret_reads_the_interface_from_link_trap_variables() -> None:
    content = traps.interpret(
        [
            ((1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0), (1, 3, 6, 1, 6, 3, 1, 1, 5, 4)),
            ((1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 7), 1),
        ]
    )
    assert (content.name, content.if_index) == ("linkUp", 7)


@pytest.mark.parametrize(
    ("source", "security_name", "expected"),
    [
        ("127.0.0.1", "community-0", 1),  # credentials and address agree
        ("10.9.9.9", "community-0", 1),  # behind NAT: a credential of one device is enough
        ("127.0.0.1", "", None),  # two devices at the address and no credential to tell
    ],
    ids=["agree", "foreign-address", "ambiguous"],
)
def test_choose_device(source: str, security_name: str, expected: int | None) -> None:
    by_name = {"community-0": {1}}
    by_address = {"127.0.0.1": {1, 2}}
    assert traps.choose_device(source, security_name, by_name, by_address) == expected


def test_garbage_datagrams_do_not_stop_the_receiver(
    receiving: tuple[Flask, int, dict[str, int]],
) -> None:
    app, port, _devices = receiving
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for garbage in (b"\x00", b"\x30\x82\xff\xff" + b"A" * 40, b"not snmp at all"):
            sender.sendto(garbage, ("127.0.0.1", port))
    send_v2c(port, "s3cret-community", COLD_START)
    [trap] = wait_for_traps(app, 1)
    assert trap.name == "coldStart"


async def first_trap_stored(app: Flask) -> None:
    """Let the receiver run in this loop until it stored a trap (bounded: 5 s)."""
    for _ in range(50):
        await asyncio.sleep(0.1)
        with get_store(app).reading() as session:
            if session.query(NetworkTrap).count():
                return


def test_a_device_added_later_is_heard_after_a_refresh(tmp_path: Path) -> None:
    app = make_app(tmp_path, NETWORK_TRAP_PORT=0)  # the receiver binds an ephemeral port
    import_demo(app)

    async def scenario() -> None:
        receiver = traps.TrapReceiver(app)
        receiver.start()
        try:
            add_device(app, **v2c_device("late", 161, community="late-community"))
            receiver.refresh()
            await asyncio.sleep(0.2)
            sender = await asyncio.create_subprocess_exec(
                "snmptrap",
                "-v2c",
                "-c",
                "late-community",
                f"127.0.0.1:{receiver.port}",
                "",
                WARM_START,
            )
            await sender.wait()
            await first_trap_stored(app)
        finally:
            receiver.close()

    asyncio.run(scenario())
    [trap] = wait_for_traps(app, 1)
    assert trap.name == "warmStart"


def test_v2c_inform_is_acknowledged_and_stored(
    receiving: tuple[Flask, int, dict[str, int]],
) -> None:
    app, port, devices = receiving
    # snmpinform exits non-zero unless the receiver acknowledges the inform.
    subprocess.run(
        [
            "snmpinform",
            "-v2c",
            "-c",
            "s3cret-community",
            "-t",
            "2",
            "-r",
            "1",
            f"127.0.0.1:{port}",
            "",
            LINK_UP,
            "1.3.6.1.2.1.2.2.1.1.3",
            "i",
            "3",
        ],
        check=True,
        capture_output=True,
        timeout=10,
    )
    [trap] = wait_for_traps(app, 1)
    assert (trap.name, trap.device_id, trap.if_index) == ("linkUp", devices["switch"], 3)


def test_a_busy_trap_port_is_an_error_that_names_the_setting(tmp_path: Path) -> None:
    from provisioner.errors import ConfigError

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        app = make_app(
            tmp_path, NETWORK_TRAPS_ENABLED=True, NETWORK_TRAP_PORT=taken.getsockname()[1]
        )
        with pytest.raises(ConfigError, match="NETWORK_TRAP_PORT"):
            start_beside_http(app)


def test_receiver_on_ipv6_loopback(tmp_path: Path) -> None:
    app = make_app(tmp_path, NETWORK_TRAP_ADDRESS="::1", NETWORK_TRAP_PORT=0)
    import_demo(app)
    add_device(app, **v2c_device("sw6", 161, community="six", address="::1"))

    async def scenario() -> None:
        receiver = traps.TrapReceiver(app)
        receiver.start()
        try:
            sender = await asyncio.create_subprocess_exec(
                "snmptrap",
                "-v2c",
                "-c",
                "six",
                f"udp6:[::1]:{receiver.port}",
                "",
                LINK_DOWN,
                "1.3.6.1.2.1.2.2.1.1.2",
                "i",
                "2",
            )
            await sender.wait()
            await first_trap_stored(app)
        finally:
            receiver.close()

    asyncio.run(scenario())
    [trap] = wait_for_traps(app, 1)
    assert (trap.name, trap.if_index) == ("linkDown", 2)
    assert trap.device_id is not None


def test_a_removed_device_no_longer_claims_traps(tmp_path: Path) -> None:
    # A switch replaced by another at the same address, with the same community: its traps
    # belong to the new device (the old id would also break the foreign key on PostgreSQL).
    app = make_app(tmp_path, NETWORK_TRAP_PORT=0)
    import_demo(app)
    add_device(app, **v2c_device("sw-old", 161, community="shared-community"))
    add_device(app, **v2c_device("rt", 161, community="other", address="127.0.0.2"))

    async def scenario() -> int:
        receiver = traps.TrapReceiver(app)
        receiver.refresh()
        with get_store(app).transaction() as session:
            inventory.remove_device(session, "demo", "sw-old", "test")
        new_id = add_device(app, **v2c_device("sw-new", 161, community="shared-community"))
        receiver.refresh()
        [security_name] = [
            name for name, ids in receiver.senders.by_security_name.items() if new_id in ids
        ]
        content = traps.interpret([(oids.SNMP_TRAP_OID, tuple(oids.oid(COLD_START)))])
        receiver.store(content, {"address": ("127.0.0.1", 50000), "security_name": security_name})
        receiver.close()
        return new_id

    new_id = asyncio.run(scenario())
    [trap] = wait_for_traps(app, 1)
    assert trap.device_id == new_id


def test_a_v1_traps_community_is_not_stored() -> None:
    # pysnmp turns a v1 trap into v2 form with snmpTrapCommunity.0: the secret community.
    content = traps.interpret(
        [
            ((1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0), (1, 3, 6, 1, 6, 3, 1, 1, 5, 3)),
            ((1, 3, 6, 1, 6, 3, 18, 1, 4, 0), b"s3cret-community"),
        ]
    )
    assert "s3cret-community" not in str(content.variables)
    assert content.variables["1.3.6.1.6.3.18.1.4.0"] == "<secret>"


def test_a_vendors_trap_is_named_from_its_vendor_module() -> None:
    from provisioner.network.vendors import net_snmp

    [(trap_oid, name)] = net_snmp.VENDOR.trap_names.items()
    content = traps.interpret([(oids.SNMP_TRAP_OID, trap_oid)])
    assert (content.name, name) == ("nsNotifyShutdown", "nsNotifyShutdown")


def test_a_device_whose_secret_cannot_be_decrypted_leaves_the_others_heard(
    tmp_path: Path,
) -> None:
    from tests.network.test_poller import scramble_community

    app = make_app(tmp_path, NETWORK_TRAP_PORT=0)
    import_demo(app)
    scramble_community(app, add_device(app, **v2c_device("restored", 161, address="127.0.0.3")))
    heard = add_device(app, **v2c_device("sw", 161, community="s3cret-community"))

    async def scenario() -> dict[str, set[int]]:
        receiver = traps.TrapReceiver(app)
        try:
            receiver.refresh()
        finally:
            receiver.close()
        return receiver.senders.by_security_name

    assert heard in set().union(*asyncio.run(scenario()).values())


def test_refreshing_the_senders_does_not_block_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The poller shares the receiver's loop; a device known by a name whose DNS answers slowly
    # stopped every poll and every trap while the inventory was re-read.
    from provisioner.network import poller

    app = make_app(tmp_path, NETWORK_TRAP_PORT=0)
    import_demo(app)
    add_device(app, **v2c_device("sw", 161, address="switch.kantoor.example"))

    def slow_dns(address: str) -> set[str]:
        time.sleep(0.5)
        return {"192.0.2.10"}

    monkeypatch.setattr(traps, "resolve", slow_dns)
    monkeypatch.setattr(poller, "INVENTORY_REFRESH_SECONDS", 0.05)

    async def scenario() -> int:
        """How often a 50 ms ticker got to run in 1.5 s while the senders were refreshed."""
        receiver = traps.TrapReceiver(app)
        stop = asyncio.Event()
        refreshing = asyncio.create_task(poller.refresh_senders(receiver, stop))
        loop = asyncio.get_running_loop()
        started, ticks = loop.time(), 0
        while loop.time() - started < 1.5 and ticks < 30:
            await asyncio.sleep(0.05)
            ticks += 1
        stop.set()
        await refreshing
        receiver.close()
        return ticks

    assert asyncio.run(scenario()) >= 15
