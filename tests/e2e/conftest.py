"""The end-to-end lab: our server as the README runs it, a real FreeSWITCH, real SIP phones.

* The server is the ``provisioner`` command (``serve``) on PostgreSQL, in a schema of its own,
  with the demo tenant imported through ``provisioner import`` and phones paired through
  ``provisioner pair``, as a provider's operator and technician would.
* The switch is FreeSWITCH built by ``scripts/freeswitch-build`` and configured by
  ``tests/e2e/switch_config.py`` from docs/freeswitch.md.
* The phones are pjsua2 agents whose SIP accounts are read from the files our server handed
  them at boot (``tests/e2e/provisioned.py``); the carrier is a pjsua2 agent too.
* Mail (voicemail, fax) goes through the switch's mailer to an SMTP sink on loopback.

These tests carry the ``e2e`` mark; the everyday ``pytest`` run leaves them out
(``scripts/test-e2e`` runs them, CI runs both).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from provisioner.command_client import FOLDER
from tests.e2e.agents import Agent, SipLab
from tests.e2e.mail import MailSink
from tests.e2e.provisioned import LAB_PHONES, LabPhone, boot_phone
from tests.e2e.switch import FreeSwitch, routing_python_path, tail, wait_until
from tests.e2e.switch_config import (
    FREESWITCH_PREFIX,
    SwitchPorts,
    SwitchSettings,
    free_port,
    write_configuration,
)

PROJECT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get(
    "PROVISIONER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TOKEN = "lab-" + uuid.uuid4().hex
PROVISIONER = Path(sys.executable).parent / "provisioner"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/e2e is an ``e2e`` test."""
    for item in items:
        if "tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)


@dataclass
class Server:
    """Our server as a process, and how to reach it."""

    url: str
    environment: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path
    port: int

    def command(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``provisioner <arguments>`` against the same store and instance."""
        result = subprocess.run(
            [str(PROVISIONER), *arguments],
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"provisioner {' '.join(arguments)}: {result.stdout}{result.stderr}"
            )
        return result

    def stop(self) -> None:
        """Stop the server process (SIGTERM, then SIGKILL)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def start_again(self) -> None:
        """The same server on the same port, after ``stop``."""
        self.process = start_server(self.environment, self.log.parent, self.port).process


def server_is_up(url: str) -> bool:
    """True once ``/healthz`` answers."""
    import urllib.request

    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as answer:  # noqa: S310
            return bool(answer.status == 200)
    except OSError:
        return False


def start_server(environment: dict[str, str], folder: Path, port: int) -> Server:
    """``provisioner serve`` on ``port``, waiting until it answers."""
    log = folder / "server.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(PROVISIONER), "serve", "--http", f"127.0.0.1:{port}"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    server = Server(url, environment, process, log, port)

    def up() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"provisioner serve exited: {tail(log)}")
        return server_is_up(url)

    wait_until(up, 60, "provisioner serve to answer", lambda: tail(log))
    return server


@pytest.fixture(scope="session")
def lab_folder(request: pytest.FixtureRequest) -> Iterator[Path]:
    """One folder for the whole lab: kept when a test failed or PROVISIONER_E2E_KEEP is set
    (its path is printed), so the switch's log, the server's and pjsua's can be read."""
    folder = Path(tempfile.mkdtemp(prefix="provisioner-e2e-"))
    yield folder
    if request.session.testsfailed or os.environ.get("PROVISIONER_E2E_KEEP"):
        print(f"\nthe lab's files (switch, server and pjsua logs) are kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for the lab's store."""
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


# The step types the Hoofdroute does not take, each in a flow of its own on its own number.
LAB_NUMBERS = [
    {"number": "+31202106001", "destination": "call_flow:Voorwaarde"},
    {"number": "+31202106002", "destination": "call_flow:Omleiding"},
    {"number": "6004", "destination": "call_flow:Groep op"},
    {"number": "+31202106005", "destination": "call_flow:Korte wachtrij"},
    {"number": "+31202106003", "destination": "call_flow:Fax"},
    {"number": "6006", "destination": "call_flow:Belgroep"},
]
LAB_FLOWS = [
    {
        "name": "Voorwaarde",
        "steps": [
            {
                "id": "mobiel",
                "type": "VOORWAARDE",
                "caller_prefixes": ["+316"],
                "match": "sales",
                "no_match": "box",
            },
            {"id": "sales", "type": "PREFIX", "prefix": "Sales", "next": "sanne"},
            {"id": "sanne", "type": "DOORVERBINDEN", "target": "241", "ring_time": 20},
            {"id": "box", "type": "VOICEMAILBOX", "box": "8000"},
        ],
    },
    {
        "name": "Omleiding",
        "steps": [
            {
                "id": "mobiel",
                "type": "OMLEIDING",
                "destination": "+31687654321",
                "ring_time": 6,
                "next": "marc",
            },
            {"id": "marc", "type": "DOORVERBINDEN", "target": "240", "ring_time": 20},
        ],
    },
    {
        "name": "Korte wachtrij",  # Wachtrij 1 with a wait of its own: a second variant
        "steps": [
            {
                "id": "wachtrij",
                "type": "WACHTRIJ",
                "queue": "Wachtrij 1",
                "max_wait": 15,
                "next": "box",
            },
            {"id": "box", "type": "VOICEMAILBOX", "box": "8000"},
        ],
    },
    {
        "name": "Belgroep",
        "steps": [
            {"id": "allen", "type": "BELGROEP", "ring_group": "*8500", "next": "box"},
            {"id": "box", "type": "VOICEMAILBOX", "box": "8000"},
        ],
    },
    {
        "name": "Fax",
        "steps": [
            {"id": "adres", "type": "EMAILADRES", "email": "fax@demo.example.net", "next": "fax"},
            {"id": "fax", "type": "FAX"},
        ],
    },
    {
        "name": "Groep op",
        "steps": [{"id": "opnemen", "type": "GROEP OP", "ring_group": "*8500"}],
    },
]


def lab_tenant(folder: Path) -> Path:
    """The demo tenant as shipped, with its office network on loopback (where the lab's
    phones boot), without its phones (the technician pairs them), and a short queue wait."""
    document = yaml.safe_load((PROJECT / "examples" / "demo.yaml").read_text())
    document["sites"][0]["networks"] = ["127.0.0.0/8"]
    document["phones"] = []
    # Callers leave the queue for the menu after 10 s (the least allowed) instead of 2 minutes.
    document["queues"][0]["max_wait"] = 10
    # The lab's pjsua runs 4 calls at once: ALLEN rings three colleagues, not the caller too.
    document["ring_groups"][0]["members"] = ["240", "241", "242"]
    document["numbers"] += LAB_NUMBERS
    document["call_flows"] += LAB_FLOWS
    for sound in document["sounds"]:
        sound["file"] = str(PROJECT / "examples" / sound["file"])
    path = folder / "demo-lab.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def server(lab_folder: Path, postgres_schema_url: str) -> Iterator[Server]:
    """The README's server command on PostgreSQL, with the demo tenant."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("PROVISIONER_")
    }
    environment.update(
        {
            # The test process's own command servers (tests/conftest.py), stopped at the end.
            FOLDER: os.environ[FOLDER],
            "PROVISIONER_INSTANCE": str(lab_folder / "instance"),
            "PROVISIONER_DATABASE_URL": postgres_schema_url,
            "PROVISIONER_FREESWITCH_TOKEN": TOKEN,
            "PROVISIONER_FREESWITCH_GATEWAY": "provider",
            "PROVISIONER_LOAD_DEMO_ON_EMPTY": "false",
        }
    )
    server = start_server(environment, lab_folder, free_port())
    try:
        server.command("import", str(lab_tenant(lab_folder)), "--yes")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mail(lab_folder: Path) -> Iterator[MailSink]:
    """An SMTP sink on loopback: where the switch's mailer delivers."""
    sink = MailSink.start(lab_folder / "mailer")
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def sip_lab(lab_folder: Path) -> Iterator[SipLab]:
    """The process's pjsua2 endpoint."""
    lab = SipLab(str(lab_folder / "pjsua.log"))
    yield lab
    lab.close()


@pytest.fixture(scope="session")
def carrier(sip_lab: SipLab) -> Agent:
    """The provider's carrier, on the far side of the switch's gateway."""
    return sip_lab.carrier()


@pytest.fixture(scope="session")
def switch(
    lab_folder: Path, server: Server, sip_lab: SipLab, carrier: Agent, mail: MailSink
) -> Iterator[FreeSwitch]:
    """FreeSWITCH configured as docs/freeswitch.md says, pointed at our server."""
    binary = FREESWITCH_PREFIX / "bin" / "freeswitch"
    if not binary.exists():
        pytest.fail(
            f"{binary} is missing: build it with `bash scripts/freeswitch-build` "
            "(FREESWITCH_SOURCES names the source tarballs)"
        )
    folder = lab_folder / "switch"
    settings = SwitchSettings(
        folder=folder,
        ports=SwitchPorts.choose(carrier=sip_lab.carrier_port),
        server_url=server.url,
        token=TOKEN,
        mailer=str(mail.sendmail),
        mailer_arguments="-t",
    )
    write_configuration(settings)
    switch = FreeSwitch(settings, routing_python_path(PROJECT, lab_folder))
    switch.start()
    yield switch
    switch.stop()


@pytest.fixture(scope="session")
def phones(server: Server, switch: FreeSwitch, sip_lab: SipLab) -> dict[str, Agent]:
    """Every lab phone paired by the technician, booted, and registered with what it got."""
    registered: dict[str, Agent] = {}
    for phone in LAB_PHONES:
        registered[phone.extension] = register(server, switch, sip_lab, phone)
    return registered


def register(server: Server, switch: FreeSwitch, sip_lab: SipLab, phone: LabPhone) -> Agent:
    """Pair, boot (fetch the files over HTTP), register with the account read from them."""
    server.command("pair", phone.mac, phone.extension, "--tenant", "demo", "--model", phone.model)
    provisioned = boot_phone(server.url, phone)
    agent = sip_lab.phone(provisioned.account, switch.settings.ports.internal)
    agent.provisioned = provisioned
    sip_lab.wait_until(
        lambda: agent.registration_status != 0, 20, f"{phone.extension} to hear from the registrar"
    )
    assert agent.registered, f"{phone.extension} was refused: {agent.registration_status}"
    return agent


@pytest.fixture(autouse=True)
def idle_agents(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts and ends with no call up."""
    yield
    if "sip_lab" in request.fixturenames:
        lab: SipLab = request.getfixturevalue("sip_lab")
        lab.hang_up_everything()


@pytest.fixture
def marc_away(phones: dict[str, Agent], sip_lab: SipLab) -> Iterator[None]:
    """Marc's phone is unplugged (the lab's pjsua runs 4 calls at most; this frees one)."""
    marc = phones["240"]
    marc.setRegistration(False)
    sip_lab.wait_until(lambda: not marc.registered, 10, "Marc's phone to unregister")
    yield
    plug_in(marc, sip_lab)


def plug_in(phone: Agent, sip_lab: SipLab) -> None:
    """Register a phone again (unless it is, or is on its way) and wait until it is."""
    if not phone.registered and not phone.getInfo().regIsActive:
        phone.setRegistration(True)
    sip_lab.wait_until(lambda: phone.registered, 10, f"{phone.name} to register again")


@pytest.fixture
def clock(switch: FreeSwitch) -> Iterator[Callable[[str], None]]:
    """Set the operator's test clock (docs/freeswitch.md); back to the real clock after."""

    def set_clock(moment: str) -> None:
        switch.api(f"global_setvar provisioner_clock={moment}")

    yield set_clock
    switch.api("global_setvar provisioner_clock=")
