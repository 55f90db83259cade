"""What differs per router vendor: template, defaults, what a value may not contain. Data only."""

from __future__ import annotations

from dataclasses import dataclass

# Never allowed in any vendor's value: they end a line, a quoted string or a command.
ALWAYS_FORBIDDEN = frozenset("\"'`;\\\n\r\t\0")


@dataclass(frozen=True, slots=True)
class RouterVendor:
    """One router platform's configuration dialect."""

    name: str
    label: str
    extension: str
    content_type: str
    lan_interface: str
    wan_interface: str
    # Beyond ALWAYS_FORBIDDEN: characters the dialect evaluates inside values.
    forbidden: frozenset[str]
    # (model prefix, LAN, WAN) where a model family names its ports otherwise, first match wins;
    # compared case-insensitively, after a leading "CISCO" on IOS.
    model_interfaces: tuple[tuple[str, str, str], ...] = ()

    def interfaces(self, model: str) -> tuple[str, str]:
        """The default LAN and WAN interface names for ``model`` (the vendor's own otherwise)."""
        wanted = model.upper().removeprefix("CISCO")
        for prefix, lan, wan in self.model_interfaces:
            if wanted.startswith(prefix):
                return lan, wan
        return self.lan_interface, self.wan_interface

    def refuses(self, character: str) -> bool:
        """Whether ``character`` may not appear in a value of this dialect."""
        return (
            character in ALWAYS_FORBIDDEN
            or character in self.forbidden
            or not character.isprintable()
        )

    def refused_in(self, text: str) -> str | None:
        """The first character of ``text`` a value of this dialect may not hold, if any."""
        return next((character for character in text if self.refuses(character)), None)


MIKROTIK = RouterVendor(
    name="mikrotik",
    label="MikroTik RouterOS",
    extension="rsc",
    content_type="text/plain; charset=utf-8",
    lan_interface="bridge",
    wan_interface="ether1",
    # RouterOS substitutes $variables and [commands] inside double-quoted strings.
    forbidden=frozenset("$[]{}"),
)
OPENWRT = RouterVendor(
    name="openwrt",
    label="OpenWrt (uci)",
    extension="uci",
    content_type="text/plain; charset=utf-8",
    lan_interface="br-lan",
    wan_interface="wan",
    # dnsmasq splits DHCP option values on commas; the shell wrapper must see no expansions.
    forbidden=frozenset(",$"),
)
CISCO_IOS = RouterVendor(
    name="cisco_ios",
    label="Cisco IOS",
    extension="cfg",
    content_type="text/plain; charset=utf-8",
    lan_interface="GigabitEthernet0/1",
    wan_interface="GigabitEthernet0/0",
    # "?" asks the IOS parser for help instead of being taken as text.
    forbidden=frozenset("?"),
    # ISR G2 (1900, 2900, 3900) numbers slot/port: GigabitEthernet0/1. ISR 4000, ISR 1100 (C11xx)
    # and Catalyst 8200/8300 (C8xxx) number slot/subslot/port: GigabitEthernet0/0/1.
    model_interfaces=(
        ("ISR4", "GigabitEthernet0/0/1", "GigabitEthernet0/0/0"),
        ("C11", "GigabitEthernet0/0/1", "GigabitEthernet0/0/0"),
        ("C8", "GigabitEthernet0/0/1", "GigabitEthernet0/0/0"),
    ),
)

ROUTER_VENDORS: tuple[RouterVendor, ...] = (MIKROTIK, OPENWRT, CISCO_IOS)


def router_vendor(name: str) -> RouterVendor:
    """The vendor called ``name``; ValueError naming the known ones otherwise."""
    for vendor in ROUTER_VENDORS:
        if vendor.name == name:
            return vendor
    raise ValueError(
        f"no router vendor {name!r}; known: {', '.join(v.name for v in ROUTER_VENDORS)}"
    )
