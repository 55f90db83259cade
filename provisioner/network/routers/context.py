"""A router's configuration as plain values, computed from the tenant document (pure)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from provisioner.network.routers.vendors import RouterVendor, router_vendor
from provisioner.tenants.schema import TenantDocument
from provisioner.tenants.schema.devices import Router

DHCP_FIRST_HOST = 10  # .1 is the router; .2-.9 stay free for fixed addresses


@dataclass(frozen=True, slots=True)
class RouterUrls:
    """Where a router's configuration sends others and itself: the phones' provisioning URL
    (DHCP options 66/160), and the base of the router's own zero-touch URLs (its done URL)."""

    provisioning: str
    zerotouch: str


@dataclass(frozen=True, slots=True)
class RouterContext:
    """Everything a router template may use; nothing else reaches it."""

    vendor: RouterVendor
    name: str
    serial: str
    site: str
    model: str
    lan_interface: str
    wan_interface: str
    vlan: int
    network: str
    network_address: str
    prefix: int
    netmask: str
    wildcard: str
    gateway: str
    dhcp_excluded_end: str
    dhcp_start: str
    dhcp_end: str
    dhcp_offset: int
    dhcp_count: int
    provisioning_url: str
    # Where the router reports how applying this went (its fetch secret in it).
    done_url: str
    ntp_server: str
    timezone: str
    tftp_server: str | None
    sip_low: int
    sip_high: int
    rtp_low: int
    rtp_high: int
    snmp_user: str
    snmp_allowed_from: str
    snmp_allowed_address: str
    snmp_allowed_wildcard: str
    snmp_auth_key: str
    snmp_priv_key: str


def _ports(text: str) -> tuple[int, int]:
    low, high = text.split("-")
    return int(low), int(high)


UNRESTRICTED = "0.0.0.0/0"


def done_url(zerotouch_base: str, serial: str, fetch_secret: str) -> str:
    """Where the router reports how applying its configuration went (reports.py)."""
    return f"{zerotouch_base.rstrip('/')}/z/{serial}/{fetch_secret}/done"


def router_context(document: TenantDocument, router: Router, urls: RouterUrls) -> RouterContext:
    """The values for ``router``; its secrets must be loaded (load_document with the box)."""
    if not (router.snmp_auth_key and router.snmp_priv_key and router.fetch_secret):
        raise ValueError("load the document with its secrets to render a router")
    vendor = router_vendor(router.vendor)
    network = ipaddress.IPv4Network(router.voice_network)
    vlan = router.voice_vlan or document.provisioning.vlan
    if vlan is None:
        raise ValueError("a router needs a voice VLAN (validation refuses documents without)")
    # A router stored before snmp_allowed_from existed keeps answering SNMP from anywhere, as
    # it did, rather than failing its next fetch; import and the API require the field since.
    poller = ipaddress.IPv4Network(router.snmp_allowed_from or UNRESTRICTED)
    lan_interface, wan_interface = vendor.interfaces(router.model or "")
    sip_low, sip_high = _ports(router.sip_ports)
    rtp_low, rtp_high = _ports(router.rtp_ports)
    return RouterContext(
        vendor=vendor,
        name=router.name,
        serial=router.serial,
        site=router.site,
        model=router.model or "",
        lan_interface=router.lan_interface or lan_interface,
        wan_interface=router.wan_interface or wan_interface,
        vlan=vlan,
        network=str(network),
        network_address=str(network.network_address),
        prefix=network.prefixlen,
        netmask=str(network.netmask),
        wildcard=str(network.hostmask),
        gateway=str(network[1]),
        dhcp_excluded_end=str(network[DHCP_FIRST_HOST - 1]),
        dhcp_start=str(network[DHCP_FIRST_HOST]),
        dhcp_end=str(network[-2]),
        dhcp_offset=DHCP_FIRST_HOST,
        dhcp_count=network.num_addresses - DHCP_FIRST_HOST - 1,
        provisioning_url=urls.provisioning,
        done_url=done_url(urls.zerotouch, router.serial, router.fetch_secret),
        ntp_server=document.provisioning.ntp_server,
        timezone=document.timezone,
        tftp_server=router.tftp_server,
        sip_low=sip_low,
        sip_high=sip_high,
        rtp_low=rtp_low,
        rtp_high=rtp_high,
        snmp_user=router.snmp_user,
        snmp_allowed_from=str(poller),
        snmp_allowed_address=str(poller.network_address),
        snmp_allowed_wildcard=str(poller.hostmask),
        snmp_auth_key=router.snmp_auth_key,
        snmp_priv_key=router.snmp_priv_key,
    )
