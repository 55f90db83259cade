"""Routers in a tenant document: their site exists, their voice VLAN is known, serials differ,
and every value their configuration carries is one their platform's configuration can hold."""

from __future__ import annotations

from collections.abc import Iterator

from provisioner.errors import FieldProblem
from provisioner.network.routers.vendors import router_vendor
from provisioner.tenants.schema import TenantDocument
from provisioner.tenants.schema.devices import Router


def check_routers(document: TenantDocument) -> Iterator[FieldProblem]:
    sites = {site.name for site in document.sites}
    serials: set[str] = set()
    named: set[str] = set()
    for index, router in enumerate(document.routers):
        path = f"routers[{index}]"
        if router.site not in sites:
            known = ", ".join(sorted(sites)) or "none yet"
            yield FieldProblem(f"{path}.site", f"no site {router.site!r} (sites: {known})")
        if router.voice_vlan is None and document.provisioning.vlan is None:
            yield FieldProblem(
                f"{path}.voice_vlan", "required when the tenant has no provisioning.vlan"
            )
        if router.snmp_allowed_from is None:
            yield FieldProblem(
                f"{path}.snmp_allowed_from",
                "required: the network our poller asks from (the router answers SNMP from "
                "there only), e.g. 198.51.100.0/28",
            )
        if router.serial in serials:
            yield FieldProblem(f"{path}.serial", f"{router.serial} is listed twice in routers")
        serials.add(router.serial)
        yield from _check_ports(router.sip_ports, f"{path}.sip_ports")
        yield from _check_ports(router.rtp_ports, f"{path}.rtp_ports")
        for problem in _check_config_values(document, router, path):
            if problem.path not in named:  # a tenant setting is named once, not per router
                named.add(problem.path)
                yield problem


def _config_values(
    document: TenantDocument, router: Router, path: str
) -> Iterator[tuple[str, str]]:
    """The document's values a router's configuration carries, each with its field path (its
    secrets are left out: their form is safe for every platform, and a message must not show
    them)."""
    yield f"{path}.name", router.name
    yield f"{path}.serial", router.serial
    yield f"{path}.site", router.site
    yield f"{path}.model", router.model or ""
    yield f"{path}.lan_interface", router.lan_interface or ""
    yield f"{path}.wan_interface", router.wan_interface or ""
    yield f"{path}.snmp_user", router.snmp_user
    yield "timezone", document.timezone
    yield "provisioning.ntp_server", document.provisioning.ntp_server


def _check_config_values(
    document: TenantDocument, router: Router, path: str
) -> Iterator[FieldProblem]:
    """Refused here, at import, what the router's configuration could not hold (a quote or a
    newline ends its line, RouterOS evaluates ``$`` and ``[``, IOS reads ``?`` as a question,
    OpenWrt's dnsmasq splits on ``,``), instead of when the router fetches it."""
    vendor = router_vendor(router.vendor)
    for field_path, value in _config_values(document, router, path):
        character = vendor.refused_in(value)
        if character is not None:
            yield FieldProblem(
                field_path,
                f"{value!r} contains {character!r}, which would break out of its line in "
                f"router {router.name}'s {vendor.label} configuration; remove it",
            )


def _check_ports(text: str, path: str) -> Iterator[FieldProblem]:
    low, high = (int(part) for part in text.split("-"))
    if not 1 <= low <= high <= 65535:
        yield FieldProblem(path, f"{text} is not a port range low-high within 1-65535")
