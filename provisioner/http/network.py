"""Admin API for routers and switches, and the support diagnosis of a phone by MAC."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from provisioner.errors import Forbidden, NotFound
from provisioner.http.auth import current_caller, json_body, requires
from provisioner.network import diagnose as diagnosing
from provisioner.network import inventory
from provisioner.network import state as network_state
from provisioner.network.device_input import parse_device
from provisioner.phones.mac import is_mac, normalize_mac
from provisioner.security.secrets import get_secret_box
from provisioner.store import get_store
from provisioner.store.models import NetworkDeviceState

bp = Blueprint("network", __name__, url_prefix="/api/v1")

Json = dict[str, Any]


@bp.get("/tenants/<tenant>/network-devices")
@requires("read")
def list_network_devices(tenant: str) -> Json:
    """The tenant's routers and switches with their last poll status (no secrets)."""
    with get_store().reading() as session:
        rows = inventory.list_devices(session, tenant)
        return {"items": [with_status(session, row, tenant) for row in rows]}


@bp.post("/tenants/<tenant>/network-devices")
@requires("write")
def add_network_device(tenant: str) -> tuple[Json, int]:
    """Add a router or switch; its community and keys are stored encrypted and never shown."""
    device = parse_device(json_body())
    with get_store().transaction() as session:
        row = inventory.add_device(
            session, tenant, device, get_secret_box(), current_caller().actor
        )
        return inventory.device_json(row, tenant), 201


@bp.get("/tenants/<tenant>/network-devices/<name>")
@requires("read")
def get_network_device(tenant: str, name: str) -> Json:
    """One device with its latest state, recent poll history and recent traps."""
    with get_store().reading() as session:
        row = inventory.find_device(session, tenant, name)
        body = with_status(session, row, tenant)
        status = session.get(NetworkDeviceState, row.id)
        body["state"] = status.data if status is not None else {}
        body["history"] = [
            {
                "at": record.at.isoformat(),
                "status": record.status,
                "reason": record.reason,
                "summary": record.summary,
            }
            for record in network_state.history(session, row.id)
        ]
        body["traps"] = [
            diagnosing.trap_json(trap) for trap in network_state.recent_traps(session, [row.id], 20)
        ]
        return body


@bp.patch("/tenants/<tenant>/network-devices/<name>")
@requires("write")
def update_network_device(tenant: str, name: str) -> Json:
    """Change some fields of a device; secrets replaced only when given, never shown."""
    with get_store().transaction() as session:
        row = inventory.update_device(
            session, tenant, name, json_body(), get_secret_box(), current_caller().actor
        )
        return inventory.device_json(row, tenant)


@bp.delete("/tenants/<tenant>/network-devices/<name>")
@requires("write")
def remove_network_device(tenant: str, name: str) -> tuple[str, int]:
    """Remove a device with its state, poll history and traps."""
    with get_store().transaction() as session:
        inventory.remove_device(session, tenant, name, current_caller().actor)
    return "", 204


@bp.get("/diagnose/<mac>")
@requires("diagnose-phones", filters_tenants=True)
def diagnose_mac(mac: str) -> Json:
    """What support needs about one phone: pairing, boots, port, link, PoE, LLDP-MED, router.
    Read-only; a technician may diagnose the phones of a tenant, support any MAC; a token
    limited to tenants only their phones (another tenant's phone looks like an unknown MAC)."""
    if not is_mac(mac):
        raise NotFound(f"{mac!r} is not a MAC address; write e.g. 80:5e:c0:12:34:56")
    with get_store().reading() as session:
        report = diagnosing.diagnose_mac(session, normalize_mac(mac))
    caller = current_caller()
    if caller.tenants is not None and not (
        report["phone"]["known"] and caller.may_see(report["phone"]["tenant"])
    ):
        raise Forbidden(
            "A token limited to some tenants may diagnose only their phones, and none of them "
            "has this MAC."
        )
    if not report["phone"]["known"] and not caller.may("diagnose"):
        raise Forbidden(
            f"A {current_caller().role} may diagnose only the phones of a tenant, and no tenant "
            "has this MAC. Pair it first, or ask support."
        )
    return report


def with_status(session: Any, row: Any, tenant: str) -> Json:
    """A device's JSON plus its last poll status and reason."""
    status = session.get(NetworkDeviceState, row.id)
    return {
        **inventory.device_json(row, tenant),
        "status": status.status if status is not None else "unknown",
        "reason": status.reason if status is not None else "not polled yet",
        "checked_at": status.checked_at.isoformat() if status and status.checked_at else None,
    }
