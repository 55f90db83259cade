"""The firmware catalogue (signed files), per-model rollouts, and serving images to phones.

``catalogue`` keeps the manifest and the files; ``signing`` holds the Ed25519 parts;
``rollout`` decides which phone should run which version; ``directive`` turns that into the
URL a phone's config carries; ``serving`` answers the phone's download over HTTP or TFTP.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cryptography is loaded by the first key parsed, not by `provisioner --help`
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from provisioner.app_core import AppCore


logger = logging.getLogger(__name__)
# Where the catalogue was until FIRMWARE_DIR's default moved into the instance folder.
CHECKOUT_CATALOGUE = Path(__file__).resolve().parent.parent.parent / "firmware"


def catalogue_directory(app: AppCore) -> Path:
    """FIRMWARE_DIR: where the manifest and the files are."""
    return Path(app.config["FIRMWARE_DIR"])


@lru_cache(maxsize=8)
def _parsed_keys(setting: str | tuple[str, ...] | None) -> dict[str, Ed25519PublicKey]:
    from provisioner.firmware.signing import trusted_keys

    return trusted_keys(setting)


def app_trusted_keys(app: AppCore) -> dict[str, Ed25519PublicKey]:
    """FIRMWARE_TRUSTED_KEYS, parsed once per value."""
    setting = app.config.get("FIRMWARE_TRUSTED_KEYS")
    if isinstance(setting, list | tuple):
        return _parsed_keys(tuple(str(item) for item in setting))
    return _parsed_keys(setting)


def warn_about_checkout_catalogue(app: AppCore, old: Path = CHECKOUT_CATALOGUE) -> str | None:
    """Log (and return) a warning when the checkout's old firmware/ folder still lists images
    while FIRMWARE_DIR points elsewhere: they are not served until moved or pointed to."""
    try:
        files = json.loads((old / "manifest.json").read_text()).get("files")
    except (OSError, ValueError, AttributeError):
        return None
    if not files or catalogue_directory(app).resolve() == old.resolve():
        return None
    warning = (
        f"{old} lists {len(files)} firmware image(s), but the catalogue is FIRMWARE_DIR="
        f"{catalogue_directory(app)} (the default moved into the instance folder): move the "
        f"folder there, or set FIRMWARE_DIR={old}"
    )
    logger.warning(warning)
    return warning
