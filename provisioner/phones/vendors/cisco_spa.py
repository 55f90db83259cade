"""Cisco SPA5xx (Small Business, 7.x): flat profile; ``/spa$PSN.cfg`` over TFTP first.

The common ``spa<model>.cfg`` points ``Profile_Rule_B`` at ``spa$MA.xml`` (a name of our
choosing, so it never clashes with the MPP's ``$MA.xml``).
"""

from __future__ import annotations

import re

from provisioner.phones.encryption import Scheme
from provisioner.phones.model import FileKind, PhoneConfig
from provisioner.phones.vendors.base import MAC, FileRule, PhoneModel, PhoneVendor, models_by_name
from provisioner.phones.vendors.cisco_profile import render_profile

MODELS = models_by_name(
    PhoneModel("SPA501G", lines=8, keys=8),
    PhoneModel("SPA502G", lines=1, keys=1),
    PhoneModel("SPA504G", lines=4, keys=4),
    PhoneModel("SPA508G", lines=8, keys=8),
    PhoneModel("SPA509G", lines=12, keys=12),
    PhoneModel("SPA525G2", lines=5, keys=5),
)


def render_device(config: PhoneConfig, file: str) -> bytes:
    """``spa$MA.xml`` (and the common ``spa<model>.cfg``, which is the bootstrap)."""
    return render_profile(config, "cisco_spa", "Admin_Passwd", "spa$MA.xml")


def device_file(mac: str, model: str) -> str:
    """``spa<mac>.xml``."""
    return f"spa{mac}.xml"


def boot_files(mac: str, model: str) -> tuple[str, ...]:
    """What an SPA asks for at boot (the first over TFTP with a leading slash)."""
    return (f"/spa{model.removeprefix('SPA')}.cfg", device_file(mac, model))


VENDOR = PhoneVendor(
    name="cisco_spa",
    label="Cisco SPA",
    ouis=("0002fd", "8843e1", "000e08", "000625", "00045a", "001873"),
    user_agents=(
        re.compile(
            r"^Cisco/(?P<model>SPA\w+)-(?P<firmware>[^\s(]+)(?: \((?P<mac>[0-9A-Fa-f]{12})\))?"
        ),
        re.compile(r"^Linksys/(?P<model>SPA-?\w+)-(?P<firmware>\S+)"),
    ),
    files=(
        FileRule(re.compile(r"^spa(?P<model>\d{3}\w*)\.cfg$"), FileKind.COMMON, unique=True),
        FileRule(re.compile(rf"^spa{MAC}\.xml$"), FileKind.DEVICE, unique=True),
        FileRule(re.compile(r"^spa[\w.-]+\.bin$"), FileKind.ABSENT, unique=True),
    ),
    models=MODELS,
    model_aliases={
        "508G": "SPA508G",
        "504G": "SPA504G",
        "509G": "SPA509G",
        "525G2": "SPA525G2",
        "502G": "SPA502G",
        "501G": "SPA501G",
    },
    content_type="application/xml",
    render_device=render_device,
    render_common=render_device,
    device_file=device_file,
    boot_files=boot_files,
    file_encryption=Scheme.OPENSSL_AES_256_CBC,
    # The factory certificate's subject as on MPP phones, S=<mac> (unsure: the MPP guide says
    # it; SPA phones report $CCERT alike).
    certificate_mac_fields=("ST",),
)
