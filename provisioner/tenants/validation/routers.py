"""Routers in a tenant document: their site exists, their voice VLAN is known, serials differ."""

from __future__ import annotations

from collections.abc import Iterator

from provisioner.errors import FieldProblem
from provisioner.tenants.schema import TenantDocument


def check_routers(document: TenantDocument) -> Iterator[FieldProblem]:
    sites = {site.name for site in document.sites}
    serials: set[str] = set()
    for index, router in enumerate(document.routers):
        path = f"routers[{index}]"
        if router.site not in sites:
            known = ", ".join(sorted(sites)) or "none yet"
            yield FieldProblem(f"{path}.site", f"no site {router.site!r} (sites: {known})")
        if router.voice_vlan is None and document.provisioning.vlan is None:
            yield FieldProblem(
                f"{path}.voice_vlan", "required when the tenant has no provisioning.vlan"
            )
        if router.serial in serials:
            yield FieldProblem(f"{path}.serial", f"{router.serial} is listed twice in routers")
        serials.add(router.serial)
        yield from _check_ports(router.sip_ports, f"{path}.sip_ports")
        yield from _check_ports(router.rtp_ports, f"{path}.rtp_ports")


def _check_ports(text: str, path: str) -> Iterator[FieldProblem]:
    low, high = (int(part) for part in text.split("-"))
    if not 1 <= low <= high <= 65535:
        yield FieldProblem(path, f"{text} is not a port range low-high within 1-65535")
