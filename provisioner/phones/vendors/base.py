"""The shape of a vendor module: mostly data (file names, User-Agents, models), two renderers."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from provisioner.phones.encryption import Scheme
from provisioner.phones.model import FileKind, PhoneConfig


@dataclass(frozen=True, slots=True)
class FileRule:
    """A file name a phone asks for: a regex with optional groups ``mac`` and ``model``.

    ``unique`` marks names no other vendor uses; generic names (``<mac>.cfg``) need the
    User-Agent or the MAC's OUI to pick the vendor.
    """

    pattern: re.Pattern[str]
    kind: FileKind
    unique: bool = False


@dataclass(frozen=True, slots=True)
class PhoneModel:
    """A model's capacity: SIP accounts, and programmable keys (the lines' keys included)."""

    name: str
    lines: int
    keys: int
    code: str = ""  # a vendor's number for the model (Yealink's hardware code in file names)


# (bootstrap-or-full config, requested file name) -> file bytes
Renderer = Callable[[PhoneConfig, str], bytes]


@dataclass(frozen=True, slots=True)
class PhoneVendor:
    """One vendor: how its phones ask, which models exist, and how to render its files."""

    name: str
    label: str
    ouis: tuple[str, ...]
    user_agents: tuple[re.Pattern[str], ...]
    files: tuple[FileRule, ...]
    models: Mapping[str, PhoneModel]
    content_type: str
    render_device: Renderer
    render_common: Renderer
    device_file: Callable[[str, str], str]  # (mac, model) -> the per-device file name
    boot_files: Callable[[str, str], tuple[str, ...]]  # (mac, model) -> names asked at boot
    model_aliases: Mapping[str, str] = field(default_factory=dict)
    uploads: re.Pattern[str] | None = None  # names the phone may PUT (group ``mac``)
    # The firmware directive names a folder; the phone adds its model's fixed file name.
    firmware_directory: bool = False
    # Phones the vendor builds and others sell under their own name: their User-Agent names
    # the vendor only when its MAC is one of the vendor's OUIs.
    oem_user_agents: tuple[re.Pattern[str], ...] = ()
    # The subject attributes (``CN``, ``ST``...) in which the vendor's factory device
    # certificate names the phone's MAC (``provisioner.phones.certificates``).
    certificate_mac_fields: tuple[str, ...] = ("CN",)
    # How the phone decrypts its per-device file with a key an earlier file gave it
    # (``provisioner.phones.encryption``); None: the vendor has no scheme we implement.
    file_encryption: Scheme | None = None

    def model(self, name: str | None) -> PhoneModel | None:
        """The model called ``name`` (aliases and case forgiven), or None."""
        if not name:
            return None
        wanted = self.model_aliases.get(name.upper(), name.upper())
        for model in self.models.values():
            if model.name.upper() == wanted or (model.code and model.code == wanted.lstrip("0")):
                return model
        return None


# A MAC in a requested file name, as most vendors write it (Snom writes it upper case).
MAC = r"(?P<mac>[0-9a-f]{12})"


def models_by_name(*models: PhoneModel) -> dict[str, PhoneModel]:
    """A vendor's model table, looked up by model name."""
    return {model.name: model for model in models}
