"""Building the vendor-neutral ``PhoneConfig``: the generic bootstrap, and a paired phone's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from provisioner.phones.keys import PhoneBook, effective_keys, find_model, phone_book
from provisioner.phones.model import Key, PhoneConfig, SipLine
from provisioner.phones.timezone import time_zone_rule
from provisioner.tenants.schema import TenantDocument
from provisioner.tenants.schema.devices import Phone


@dataclass(frozen=True, slots=True)
class Secrets:
    """What a paired phone is given that nobody else may see."""

    sip_passwords: Mapping[str, str]  # extension number -> SIP password
    provisioning_username: str
    provisioning_password: str
    admin_password: str


def bootstrap_config(
    vendor: str,
    model: str | None,
    base_url: str,
    timezone: str,
    language: str,
    ntp_server: str,
    resync_seconds: int = 300,
) -> PhoneConfig:
    """The answer for any phone not proven: time, language, where to provision; no secret."""
    return PhoneConfig(
        vendor=vendor,
        model=model,
        provisioning_url=base_url,
        timezone=time_zone_rule(timezone),
        language=language,
        ntp_server=ntp_server,
        resync_seconds=resync_seconds,
    )


def sip_lines(book: PhoneBook, phone: Phone, secrets: Secrets) -> tuple[SipLine, ...]:
    """The phone's accounts: number, the person's name, the SIP password, a label."""
    names = book.names
    return tuple(
        SipLine(
            index=index,
            number=number,
            display_name=names.get(number, number),
            auth_name=number,
            password=secrets.sip_passwords[number],
            label=f"{number} {names.get(number, '')}".strip(),
        )
        for index, number in enumerate(phone.lines, start=1)
    )


def phone_config(
    document: TenantDocument,
    phone: Phone,
    model: str | None,
    secrets: Secrets,
    base_url: str,
    firmware_url: str | None = None,
    firmware_version: str | None = None,
    book: PhoneBook | None = None,
    issued_at: int | None = None,
    file_key: str | None = None,
) -> PhoneConfig:
    """The full config of a paired phone: its lines, keys and the tenant's settings;
    ``firmware_url`` is the image it should fetch now (``firmware.directive`` decides);
    ``book`` is ``document``'s phone book when the caller keeps one; ``issued_at`` is now,
    in seconds since the epoch; ``file_key`` is the key handed to the phone in this file."""
    settings = document.provisioning
    book = book or phone_book(document)
    lines = sip_lines(book, phone, secrets)
    vendor = phone.vendor or ""
    chosen = effective_keys(book, phone, find_model(vendor, model))
    keys = tuple(
        Key(len(lines) + position, key.type, key.value, key.label or key.value, key.line)
        for position, key in enumerate(chosen, start=1)
    )
    return PhoneConfig(
        vendor=vendor,
        model=model,
        mac=phone.mac,
        provisioning_url=f"{base_url}a/",
        timezone=time_zone_rule(document.timezone),
        language=document.language,
        ntp_server=settings.ntp_server,
        resync_seconds=settings.resync_minutes * 60,
        registrar=settings.registrar or document.sip_domain,
        registrar_port=settings.registrar_port,
        transport=settings.transport,
        vlan=settings.vlan,
        lines=lines,
        keys=keys,
        pickup_prefix=settings.pickup_prefix,
        provisioning_username=secrets.provisioning_username,
        provisioning_password=secrets.provisioning_password,
        admin_password=secrets.admin_password,
        firmware_url=firmware_url,
        firmware_version=firmware_version if firmware_url else None,
        overrides=tuple(sorted(phone.overrides.items())),
        issued_at=issued_at,
        file_key=file_key,
    )
