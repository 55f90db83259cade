"""Cisco MPP / 3PCC (68xx, 78xx, 88xx): flat profile; ``/$PSN.xml`` then ``$MA.xml``.

The common file ``<nnnn>-3PCC.xml`` (also ``CP-<nnnn>-3PCC.xml``: Cisco's own tables disagree
on ``$PSN``) points ``Profile_Rule_B`` at ``$MA.xml``, the per-device file.
"""

from __future__ import annotations

import re

from provisioner.phones.encryption import Scheme
from provisioner.phones.model import FileKind, PhoneConfig
from provisioner.phones.vendors.base import MAC, FileRule, PhoneModel, PhoneVendor, models_by_name
from provisioner.phones.vendors.cisco_profile import render_profile

MODELS = models_by_name(
    PhoneModel("6841", lines=4, keys=4),
    PhoneModel("6851", lines=4, keys=4),
    PhoneModel("7821", lines=2, keys=2),
    PhoneModel("7832", lines=1, keys=1),
    PhoneModel("7841", lines=4, keys=4),
    PhoneModel("7861", lines=16, keys=16),
    PhoneModel("8811", lines=10, keys=10),
    PhoneModel("8841", lines=10, keys=10),
    PhoneModel("8845", lines=10, keys=10),
    PhoneModel("8851", lines=10, keys=10),
    PhoneModel("8861", lines=10, keys=10),
)


def render_device(config: PhoneConfig, file: str) -> bytes:
    """``$MA.xml`` (and the common ``<nnnn>-3PCC.xml``, which is the bootstrap)."""
    return render_profile(config, "cisco_mpp", "Admin_Password", "$MA.xml")


def device_file(mac: str, model: str) -> str:
    """``<mac>.xml``, lower case (``$MA``)."""
    return f"{mac}.xml"


def boot_files(mac: str, model: str) -> tuple[str, ...]:
    """What an MPP phone asks for at boot, in order."""
    return (f"{model}-3PCC.xml", device_file(mac, model))


VENDOR = PhoneVendor(
    name="cisco_mpp",
    label="Cisco MPP",
    ouis=("00562b", "a44c11", "0021a0", "30e4db", "002155", "68efbd", "001873"),
    user_agents=(
        re.compile(
            # Text may follow the MAC (a serial number, as SPA phones send "(<MAC>)(<SN>)").
            r"^Cisco-CP-(?P<model>\d{4})-3PCC/(?P<firmware>\S+) \((?P<mac>[0-9A-Fa-f]{12})\)"
        ),
    ),
    files=(
        FileRule(re.compile(r"^(?:CP-)?(?P<model>\d{4})-3PCC\.xml$"), FileKind.COMMON, unique=True),
        FileRule(
            re.compile(rf"^Cisco/CP-(?P<model>\d{{4}})-3PCC/{MAC}\.cfg$"),
            FileKind.DEVICE,
            unique=True,
        ),
        FileRule(re.compile(rf"^{MAC}\.xml$"), FileKind.DEVICE),
        FileRule(re.compile(r"^sip\d{2}xx[\w.-]*\.loads$"), FileKind.ABSENT, unique=True),
        # Cisco's dictionary files, served by the operator's web server in front (docs/phones.md).
        FileRule(re.compile(r"^cisco/dictionaries/[\w-]+\.xml$"), FileKind.ABSENT, unique=True),
    ),
    models=MODELS,
    content_type="application/xml",
    render_device=render_device,
    render_common=render_device,
    device_file=device_file,
    boot_files=boot_files,
    file_encryption=Scheme.OPENSSL_AES_256_CBC,
    # The factory certificate's subject: OU=<model>, L=<serial>, S=<mac> (Cisco 8800 MPP
    # administration guide, "Multiplatform Phone CA Client Root Certificate").
    certificate_mac_fields=("ST",),
)
