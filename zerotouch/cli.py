"""The ``zerotouch`` command: ``check`` and ``discover``.

Exit status: 0 pass, 1 some vendor's phones will not find the server (or a report failed),
2 the check could not run (no raw-socket rights, no such interface, a wrong option), 3 nothing
failed but something could not be confirmed (no DHCP answer, a server the laptop cannot reach).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from zerotouch import __version__
from zerotouch.answers import ProbeAnswers
from zerotouch.dhcp import DhcpMessage, read_offer
from zerotouch.discover import SeenPhone, phone_from_dhcp, phone_from_lldp
from zerotouch.lldp import LldpInfo
from zerotouch.network import (
    AgentError,
    ask_as_phones,
    choose_interface,
    interface_mac,
    listen,
    raw_socket_problem,
)
from zerotouch.report import CheckResult, render_json, render_text
from zerotouch.server import fetch_file, report_discovered
from zerotouch.vendors import PROBES, PhoneVendorProbe, by_name
from zerotouch.verdict import FetchResult, Outcome, choose, judge

PASS, FAIL, CANNOT_RUN, UNCONFIRMED = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zerotouch",
        description="On a customer LAN: will phones find the provisioning server (check), "
        "and which phones are booting (discover).",
    )
    parser.add_argument("--version", action="version", version=f"zerotouch {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="will this LAN's phones find the server?")
    check.add_argument("--iface", help="interface on the customer LAN (default: default route)")
    check.add_argument("--server", help="the provisioning URL phones should reach")
    check.add_argument("--json", action="store_true", help="one JSON object for scripts")
    check.add_argument("--vendor", action="append", choices=[p.name for p in PROBES])
    check.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        help="seconds to wait for a first offer, and after each offer for more (a server that "
        "pings before it offers answers one DISCOVER about every 3 s)",
    )
    check.add_argument(
        "--ca", help="CA bundle (PEM) the phones trust, to check HTTPS servers as they would"
    )
    check.add_argument(
        "--lldp-wait",
        type=float,
        default=31.0,
        help="seconds to listen for LLDP (switches send it every 30 s)",
    )
    discover = commands.add_parser("discover", help="report booting phones to the server")
    discover.add_argument(
        "--server", required=True, help="the server, e.g. https://prov.example.net"
    )
    discover.add_argument("--token", help="a technician token (default: $ZEROTOUCH_TOKEN)")
    discover.add_argument("--iface", help="interface on the customer LAN (default: default route)")
    discover.add_argument("--seconds", type=float, default=600.0, help="how long to listen")
    return parser


def _fetches(
    probe: PhoneVendorProbe, answers: ProbeAnswers, arguments: argparse.Namespace
) -> dict[str, FetchResult]:
    """Fetch, as the vendor's phone would, the first file of every server's offer."""
    fetched: dict[str, FetchResult] = {}
    for reply in answers.offers:
        choice = choose(probe, read_offer(reply.message))
        if choice is None or choice.file_url in fetched:
            continue
        if choice.protocol in ("http", "https", "tftp"):
            fetched[choice.file_url] = fetch_file(
                choice.file_url, probe.user_agent, arguments.timeout, arguments.ca
            )
    return fetched


def run_check(arguments: argparse.Namespace) -> int:
    """Ask as every phone, fetch what each would fetch, print the verdicts."""
    interface = choose_interface(arguments.iface)
    if arguments.ca and not os.path.isfile(arguments.ca):
        raise AgentError(f"no CA bundle at {arguments.ca}; give a PEM file with --ca")
    probes = tuple(by_name(name) for name in arguments.vendor) if arguments.vendor else PROBES
    answers, lldp = ask_as_phones(interface, probes, arguments.timeout, arguments.lldp_wait)
    verdicts = [
        judge(
            probe,
            answers[probe.name],
            _fetches(probe, answers[probe.name], arguments),
            arguments.server,
        )
        for probe in probes
    ]
    laptop = interface_mac(interface).hex(":")
    result = CheckResult(
        interface, arguments.server, answers, lldp, verdicts, arguments.lldp_wait, laptop
    )
    if arguments.json:
        print(json.dumps(render_json(result), indent=2))
    else:
        print(render_text(result, probes), end="")
    return {Outcome.FINDS: PASS, Outcome.WILL_NOT_FIND: FAIL}.get(result.outcome, UNCONFIRMED)


def run_discover(arguments: argparse.Namespace) -> int:
    """Listen, print each phone once, report it to the server."""
    token = arguments.token or os.environ.get("ZEROTOUCH_TOKEN")
    if not token:
        raise AgentError(
            "give a technician token with --token or $ZEROTOUCH_TOKEN "
            "(an admin creates one: provisioner token create --role technician)"
        )
    interface = choose_interface(arguments.iface)
    seen: dict[str, SeenPhone] = {}
    failures: list[str] = []

    def found(phone: SeenPhone | None) -> None:
        if phone is None or phone.mac in seen:
            return
        seen[phone.mac] = phone
        status = report_discovered(arguments.server, token, phone.as_report(), 5.0)
        outcome = "reported" if status == 202 else f"NOT reported (HTTP {status or 'no answer'})"
        print(f"{phone.line}: {outcome}", flush=True)
        if status != 202:
            failures.append(phone.mac)

    def on_dhcp(message: DhcpMessage, _source: str) -> None:
        found(phone_from_dhcp(message))

    def on_lldp(info: LldpInfo, source: str) -> None:
        found(phone_from_lldp(info, source))

    print(f"listening on {interface} for {arguments.seconds:g} s ...", flush=True)
    listen(interface, arguments.seconds, on_dhcp, on_lldp)
    print(f"{len(seen)} phone(s) seen, {len(seen) - len(failures)} reported")
    return FAIL if failures else PASS


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; the exit status says pass, fail or could not run."""
    arguments = _parser().parse_args(argv)
    problem = raw_socket_problem()
    if problem:
        print(problem, file=sys.stderr)
        return CANNOT_RUN
    try:
        if arguments.command == "check":
            return run_check(arguments)
        return run_discover(arguments)
    except AgentError as exc:
        print(f"zerotouch: {exc}", file=sys.stderr)
        return CANNOT_RUN
