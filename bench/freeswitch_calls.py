"""Benchmark: call set-up through our mod_python3 engine against a static XML extension doing
the same bridge in the same FreeSWITCH, side by side in one run.

    .venv/bin/python bench/freeswitch_calls.py [--calls 40] [--registrations 200]
                                               [--concurrency 1 20]

The lab is the end-to-end tests' (tests/e2e): ``provisioner serve`` on a PostgreSQL schema
made for the run, with the demo tenant and one more number, and FreeSWITCH (built by
``scripts/freeswitch-build``) configured as docs/freeswitch.md says. SIPp plays both ends: a
caller sending calls into the switch's ``external`` profile, and the carrier answering what
the switch sends out through its gateway.

* **ours**: ``+31202107001``, whose call flow is one DOORVERBINDEN step to ``+31611111111``:
  the public dialplan and the tenant's context from our server (xml_curl), the route JSON
  fetched by the handler, the engine's walk, and the bridge out through the gateway.
* **static**: ``static-bridge``, answered by a static ``public`` extension in freeswitch.xml
  that bridges to the same number through the same gateway (its lookup still asks our server
  first, which says "not found", as in production).

Each runs ``--calls`` calls at each ``--concurrency`` (SIPp ``-l``); a call rings, is answered,
lasts 200 ms and is hung up by the caller. Reported: calls per second (calls / wall time) and
the post-dial delay (the caller's INVITE to its 180, per call, median and 90th percentile),
and ours as a ratio to static. Targets (issue 25): >= 0.5 of the static call rate, post-dial
delay <= 2x the static one.

Then registrations per second: a phone's REGISTER, the 401 challenge and the digest answer,
``--registrations`` times at each concurrency, for extension 243 (looked up through xml_curl
in our server, ``action=sip_auth``) and for a user of a static directory domain in
freeswitch.xml (after our server's "not found" for it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from sqlalchemy import create_engine, text  # noqa: E402

from tests.e2e.conftest import (  # noqa: E402
    POSTGRES_URL,
    lab_tenant,
    start_server,
)
from tests.e2e.switch import FreeSwitch, routing_python_path  # noqa: E402
from tests.e2e.switch_config import (  # noqa: E402
    GATEWAY,
    SwitchPorts,
    SwitchSettings,
    free_port,
    free_sip_port,
    write_configuration,
)

OURS = "+31202107001"
STATIC = "static-bridge"
CALLEE = "+31611111111"
TOKEN = "bench-" + uuid.uuid4().hex

# The caller: INVITE, (100), 180, 200, ACK, 200 ms, BYE. Two <log> lines per call give the
# post-dial delay (clock_tick: milliseconds since SIPp started).
CALLER_SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller">
  <nop><action><log message="[call_number] invite [clock_tick]"/></action></nop>
  <send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:0612345678@carrier.bench.invalid>;tag=[pid]SIPpTag[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:0612345678@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=bench 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
  <recv response="100" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="180"><action><log message="[call_number] ringing [clock_tick]"/></action></recv>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:0612345678@carrier.bench.invalid>;tag=[pid]SIPpTag[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
[routes]
Contact: <sip:0612345678@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
  <pause milliseconds="200"/>
  <send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:0612345678@carrier.bench.invalid>;tag=[pid]SIPpTag[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
[routes]
Contact: <sip:0612345678@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200"/>
</scenario>
"""

# The registering phone: REGISTER, 401, REGISTER with the digest answer, 200.
REGISTER_SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="register">
  <send retrans="500"><![CDATA[
REGISTER sip:[field1] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@[field1]>;tag=[pid]SIPpTag[call_number]
To: <sip:[field0]@[field1]>
Call-ID: [call_id]
CSeq: 1 REGISTER
Contact: <sip:[field0]@[local_ip]:[local_port]>
Expires: 300
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="401" auth="true"/>
  <send retrans="500"><![CDATA[
REGISTER sip:[field1] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@[field1]>;tag=[pid]SIPpTag[call_number]
To: <sip:[field0]@[field1]>
Call-ID: [call_id]
CSeq: 2 REGISTER
Contact: <sip:[field0]@[local_ip]:[local_port]>
[field2]
Expires: 300
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200"/>
</scenario>
"""
STATIC_DOMAIN = "static.bench.invalid"
STATIC_USER, STATIC_PASSWORD = "9000", "bench-static-password"
STATIC_DIRECTORY = (
    f'<domain name="{STATIC_DOMAIN}"><params><param name="dial-string" '
    'value="${sofia_contact(*/${dialed_user}@${dialed_domain})}"/></params><users>'
    f'<user id="{STATIC_USER}"><params><param name="password" value="{STATIC_PASSWORD}"/>'
    "</params></user></users></domain>"
)

STATIC_EXTENSION = (
    '<extension name="static-bridge"><condition field="destination_number" '
    'expression="^static-bridge$">'
    '<action application="set" data="hangup_after_bridge=true"/>'
    f'<action application="bridge" data="sofia/gateway/{GATEWAY}/{CALLEE}"/>'
    "</condition></extension>"
)


def bench_tenant(folder: Path) -> Path:
    """The lab tenant plus the bench's number: one DOORVERBINDEN step to the callee."""
    import yaml

    path = lab_tenant(folder)
    document = yaml.safe_load(path.read_text())
    document["numbers"].append({"number": OURS, "destination": "call_flow:Bench"})
    document["call_flows"].append(
        {
            "name": "Bench",
            "steps": [{"id": "uit", "type": "DOORVERBINDEN", "target": CALLEE, "ring_time": 20}],
        }
    )
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    return path


def sipp(
    folder: Path, port: int, scenario: Path, count: int, concurrency: int, extra: list[str]
) -> float:
    """Run ``count`` SIPp scenarios against the switch's ``port``, ``concurrency`` at a time;
    return the wall time. SIPp fails (and so does this) on any unexpected message."""
    started = time.monotonic()
    result = subprocess.run(
        ["sipp", f"127.0.0.1:{port}", "-sf", str(scenario), "-i", "127.0.0.1"]
        + ["-p", str(free_sip_port()), "-m", str(count), "-l", str(concurrency), "-r", "1000"]
        + ["-nostdin", "-timeout", "300", "-timeout_error", *extra],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"sipp {scenario.name} {extra} failed: {result.stderr[-500:]}")
    return time.monotonic() - started


def run_calls(
    folder: Path, port: int, number: str, calls: int, concurrency: int
) -> dict[str, float]:
    """``calls`` calls to ``number`` through the switch, ``concurrency`` at a time."""
    scenario = folder / "caller.xml"
    scenario.write_text(CALLER_SCENARIO)
    for old in folder.glob("caller_*_logs.log"):
        old.unlink()
    elapsed = sipp(
        folder,
        port,
        scenario,
        calls,
        concurrency,
        ["-s", number, "-mp", str(free_port()), "-trace_logs"],
    )
    delays = post_dial_delays(next(folder.glob("caller_*_logs.log")))
    if len(delays) != calls:
        raise RuntimeError(f"{len(delays)} of {calls} calls to {number} rang")
    ordered = sorted(delays)
    return {
        "calls_per_second": calls / elapsed,
        "pdd_median_ms": statistics.median(ordered),
        "pdd_p90_ms": ordered[int(0.9 * (len(ordered) - 1))],
    }


def run_registrations(
    folder: Path, port: int, user: str, domain: str, password: str, count: int, concurrency: int
) -> float:
    """Registrations per second of one user (each a challenge and a digest answer)."""
    scenario = folder / "register.xml"
    scenario.write_text(REGISTER_SCENARIO)
    injection = folder / "register.csv"
    injection.write_text(
        f"SEQUENTIAL\n{user};{domain};[authentication username={user} password={password}]\n"
    )
    elapsed = sipp(folder, port, scenario, count, concurrency, ["-inf", str(injection)])
    return count / elapsed


def sip_password(server_url: str, token: str, extension: str) -> str:
    """An extension's SIP password, read through the admin API (as support would)."""
    import json
    import urllib.request

    request = urllib.request.Request(
        f"{server_url}/api/v1/tenants/demo/extensions/{extension}/secrets",
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
        return str(json.load(answer)["sip_password"])


def post_dial_delays(log: Path) -> list[float]:
    """Per call: its 180's clock tick minus its INVITE's."""
    invites: dict[str, float] = {}
    delays = []
    for line in log.read_text().splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        call, event, tick = parts
        if event == "invite":
            invites[call] = float(tick)
        elif event == "ringing" and call in invites:
            delays.append(float(tick) - invites[call])
    return delays


def start_carrier(folder: Path, port: int) -> subprocess.Popen[bytes]:
    """SIPp as the carrier: answers every call the gateway sends (180, then 200)."""
    return subprocess.Popen(
        [
            "sipp",
            "-sn",
            "uas",
            "-i",
            "127.0.0.1",
            "-p",
            str(port),
            "-nostdin",
            "-mp",
            str(free_port()),
        ],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> None:
    """Start the lab, measure both dialplans at each concurrency, print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=40, help="calls per measurement")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--registrations", type=int, default=200, help="per measurement")
    arguments = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-calls-"))
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("PROVISIONER_")
    }
    environment.update(
        {
            "PROVISIONER_INSTANCE": str(folder / "instance"),
            "PROVISIONER_DATABASE_URL": f"{POSTGRES_URL}?options=-csearch_path%3D{schema}",
            "PROVISIONER_FREESWITCH_TOKEN": TOKEN,
            "PROVISIONER_LOAD_DEMO_ON_EMPTY": "false",
        }
    )
    server = start_server(environment, folder, free_port())
    carrier_port = free_sip_port()
    carrier = start_carrier(folder, carrier_port)
    switch = None
    try:
        server.command("import", str(bench_tenant(folder)), "--yes")
        settings = SwitchSettings(
            folder=folder / "switch",
            ports=SwitchPorts.choose(carrier=carrier_port),
            server_url=server.url,
            token=TOKEN,
            static_public=STATIC_EXTENSION,
            static_directory=STATIC_DIRECTORY,
        )
        write_configuration(settings)
        switch = FreeSwitch(settings, routing_python_path(PROJECT, folder))
        switch.start()
        switch.api("fsctl loglevel err")  # the lab logs at debug; a bench should not
        external = settings.ports.external
        run_calls(folder, external, OURS, 3, 1)  # warm: sounds, routes, connections
        run_calls(folder, external, STATIC, 3, 1)
        print(f"{arguments.calls} calls per measurement; ours = mod_python3 flow, static = XML")
        for concurrency in arguments.concurrency:
            static = run_calls(folder, external, STATIC, arguments.calls, concurrency)
            ours = run_calls(folder, external, OURS, arguments.calls, concurrency)
            print(
                f"C={concurrency:>3}  calls/s static {static['calls_per_second']:7.1f}"
                f"  ours {ours['calls_per_second']:7.1f}"
                f"  ratio {ours['calls_per_second'] / static['calls_per_second']:.2f}"
                f" | post-dial delay median static {static['pdd_median_ms']:6.1f} ms"
                f"  ours {ours['pdd_median_ms']:6.1f} ms"
                f"  ratio {ours['pdd_median_ms'] / max(static['pdd_median_ms'], 0.1):.2f}"
                f"  (p90 {static['pdd_p90_ms']:.0f} / {ours['pdd_p90_ms']:.0f} ms)"
            )
        token = server.command(
            "token", "create", "--role", "admin", "--name", "bench"
        ).stdout.strip()
        password = sip_password(server.url, token, "243")
        internal = settings.ports.internal
        for concurrency in arguments.concurrency:
            static_rate = run_registrations(
                folder,
                internal,
                STATIC_USER,
                STATIC_DOMAIN,
                STATIC_PASSWORD,
                arguments.registrations,
                concurrency,
            )
            ours_rate = run_registrations(
                folder,
                internal,
                "243",
                "demo.sip.example.net",
                password,
                arguments.registrations,
                concurrency,
            )
            print(
                f"C={concurrency:>3}  registrations/s static directory {static_rate:7.1f}"
                f"  ours (xml_curl) {ours_rate:7.1f}  ratio {ours_rate / static_rate:.2f}"
            )
    finally:
        if switch is not None:
            switch.stop()
        carrier.terminate()
        carrier.wait(timeout=10)
        server.stop()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
