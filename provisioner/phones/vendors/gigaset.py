"""Gigaset Nx70 DECT multicell (N870/N670/N610): ``<provisioning><nvm><param/>`` XML.

The phone asks ``provisioning.xml`` (404 here) then ``<MAC>.xml``; both MAC cases are served
because Gigaset's documents and wazo disagree. Handsets have no programmable BLF keys, so the
models declare no keys and the tenant's default keys do not apply. The N510's binary
``.bin`` chain is not supported (answered 404). Language: no parameter in our sources (the
handset's language is chosen on the handset).

An account lives in a handset slot: ``<oper name="add_hs" value="00001">`` with
``hs.RegStatus`` ``ToReg`` creates slot 00001 waiting for a handset to register with the PIN
``hs.00001.DECT_AC``; without it a fresh base has an account bound to no handset (wazo-provd-plugins
wazo_gigaset Nx70 base.tpl, and a second generator, find_string id 34901722802, do the same).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from lxml import etree

from provisioner.phones.model import FileKind, PhoneConfig
from provisioner.phones.vendors.base import FileRule, PhoneModel, PhoneVendor, models_by_name
from provisioner.phones.xml import element, load_skeleton, serialize

MODELS = models_by_name(
    PhoneModel("N870", lines=250, keys=0),
    PhoneModel("N870E", lines=250, keys=0),
    PhoneModel("N670", lines=20, keys=0),
    PhoneModel("N610", lines=20, keys=0),
)
TRANSPORTS = {"udp": 1, "tcp": 2, "tls": 3}
# Telephony.0.ToneScheme names a country (wazo: Germany, France, Spain; "Netherlands" follows
# that form and is unverified against a Gigaset list).
TONE_SCHEMES = {"nl": "Netherlands", "de": "Germany", "fr": "France"}


def _param(nvm: etree._Element, name: str, value: str | int) -> None:
    element(nvm, "param", name=name, value=str(value))


# The base's DECT registration window, opened by the file (wazo-provd-plugins wazo_gigaset
# Nx70 base.tpl): from when the file was built, for 15 minutes, on the base's own DECT manager
# ("local", whose factory password DMPpasswd is "Gigaset").
REGISTRATION_SECONDS = 900
LOCAL_MANAGER_PASSWORD = "Gigaset"


def _registration_window(nvm: etree._Element, config: PhoneConfig) -> None:
    if not config.lines or config.issued_at is None:
        return
    window = element(nvm, "oper", name="update_dm", value="local")
    element(window, "param", name="RegStart", value=str(config.issued_at))
    element(window, "param", name="RegDuration", value=str(REGISTRATION_SECONDS))
    element(window, "param", name="DMPpasswd", value=LOCAL_MANAGER_PASSWORD)


def _accounts(nvm: etree._Element, config: PhoneConfig) -> None:
    if not config.lines:
        return
    # Handsets the file no longer lists leave the base; the slots below are kept.
    element(nvm, "oper", name="DeleteNotProvisionedHS")
    provider = "SipProvider.0"
    for name, value in (
        ("Domain", config.registrar or ""),
        ("ProxyServerAddress", config.registrar or ""),
        ("ProxyServerPort", config.registrar_port),
        ("RegServerAddress", config.registrar or ""),
        ("RegServerPort", config.registrar_port),
        ("TransportProtocol", TRANSPORTS[config.transport]),
    ):
        _param(nvm, f"{provider}.{name}", value)
    for line in config.lines:
        slot = f"{line.index:05d}"
        handset = element(nvm, "oper", name="add_hs", value=slot)
        element(handset, "param", name="hs.RegStatus", value="ToReg")
        _param(nvm, f"hs.{slot}.DECT_AC", line.number[-4:].zfill(4))
        prefix = f"SipAccount.{slot}"
        for name, value in (
            ("UserName", line.number),
            ("AuthName", line.auth_name),
            ("AuthPassword", line.password),
            ("DisplayName", line.display_name),
            ("ProviderId", 0),
        ):
            _param(nvm, f"{prefix}.{name}", value)


def _server_url(config: PhoneConfig) -> str:
    """The provisioning URL with the device's credentials as user info, the form Gigaset
    documents for the Nx70 from software 2.53 (``http(s)://<username>:<password>@URL``,
    teamwork.gigaset.com pageId 1391168731); the base then answers HTTP Digest with them."""
    if not (config.provisioning_username and config.provisioning_password):
        return config.provisioning_url
    scheme, _, rest = config.provisioning_url.partition("://")
    user = quote(config.provisioning_username, safe="")
    password = quote(config.provisioning_password, safe="")
    return f"{scheme}://{user}:{password}@{rest}"


def render_device(config: PhoneConfig, file: str) -> bytes:
    """``<MAC>.xml``: provider, accounts, time, admin password, firmware."""
    root = load_skeleton("gigaset", config.model)
    nvm = root.find("nvm")
    assert nvm is not None, "the gigaset skeleton lacks <nvm>"
    if config.firmware_url:
        firmware = etree.Element("firmware")
        version = config.firmware_version or ""
        element(firmware, "file", version=version, url=config.firmware_url)
        root.insert(0, firmware)
    _accounts(nvm, config)
    _param(nvm, "DmGlobal.0.NtpServer", config.ntp_server)
    _param(nvm, "DmGlobal.0.TimeZone", config.timezone.name)
    if config.language in TONE_SCHEMES:
        _param(nvm, "Telephony.0.ToneScheme", TONE_SCHEMES[config.language])
    _param(nvm, "Provisioning.global.ProvisioningServer", _server_url(config))
    if config.admin_password:
        _param(nvm, "WebUIAccounts.1.Password", config.admin_password)
    for name, value in config.overrides:
        _param(nvm, name, value)
    _registration_window(nvm, config)
    return serialize(root)


def device_file(mac: str, model: str) -> str:
    """``<MAC>.xml``, upper case."""
    return f"{mac.upper()}.xml"


def boot_files(mac: str, model: str) -> tuple[str, ...]:
    """What an Nx70 asks for, in order (the first is answered 404)."""
    return ("provisioning.xml", device_file(mac, model))


VENDOR = PhoneVendor(
    name="gigaset",
    label="Gigaset",
    ouis=("7c2f80", "14b370", "002104"),
    user_agents=(
        # "Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80E0D605", "N510 IP PRO/42.245...",
        # models with a letter (N870E), quoted forms and a ";Handset=<n>" tail (wazo-provd-plugins
        # wazo_gigaset Nx70 common.py accepts both).
        re.compile(
            r'^"?(?:Gigaset )?(?P<model>N\d{3}[A-Z]?)(?: [A-Z]+)* PRO/(?P<firmware>[^;"]+)'
            # Fields after the MAC (";Handset=2", or one we do not know) are left aside.
            r"(?:;(?P<mac>[0-9A-Fa-f]{12}))?(?:;[^;\"]*)*\"?$"
        ),
    ),
    files=(
        FileRule(re.compile(r"^provisioning\.xml$"), FileKind.ABSENT, unique=True),
        FileRule(re.compile(r"^42/\d+/[\w.-]+\.bin$"), FileKind.ABSENT, unique=True),
        FileRule(re.compile(r"^(?P<mac>[0-9A-F]{12})\.xml$"), FileKind.DEVICE, unique=True),
        FileRule(re.compile(r"^(?P<mac>[0-9a-f]{12})\.xml$"), FileKind.DEVICE),
    ),
    models=MODELS,
    content_type="application/xml",
    render_device=render_device,
    render_common=render_device,
    device_file=device_file,
    boot_files=boot_files,
)
