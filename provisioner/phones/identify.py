"""Identification of a request as a pipeline of small pure steps.

``identify(request)``: clean the path -> read the User-Agent -> match the file name against
every vendor's rules -> choose the vendor -> merge what the path and the User-Agent say.
Nothing here looks at the store, so the answer for a MAC never depends on whether it is known.

Choosing between vendors that claim the same name (``<mac>.cfg``): a vendor named by the
User-Agent wins (EXACT), then a name only one vendor uses, then the MAC's OUI (PROBABLE);
a tie stays unidentified and is answered 404.
"""

from __future__ import annotations

import functools
import posixpath
import re
from dataclasses import dataclass
from enum import IntEnum

from provisioner.phones.mac import normalize_mac
from provisioner.phones.model import DeviceInfo, FileKind, FileRequest, RequestInfo
from provisioner.phones.vendors import VENDORS, PhoneVendor

_SAFE_NAME = re.compile(r"^[A-Za-z0-9._\-/]{1,200}$")


class Support(IntEnum):
    """How sure we are that a vendor should answer."""

    UNKNOWN = 0
    PROBABLE = 100
    UNIQUE_NAME = 200
    EXACT = 400


@dataclass(frozen=True, slots=True)
class Candidate:
    """A vendor whose file rules match the name, with what the match said."""

    vendor: PhoneVendor
    kind: FileKind
    info: DeviceInfo
    support: Support


def clean_path(path: str) -> str | None:
    """The requested name without one leading slash; None for names no phone asks for."""
    name = path[1:] if path.startswith("/") else path
    if not _SAFE_NAME.fullmatch(name) or ".." in name.split("/"):
        return None
    normalized = posixpath.normpath(name)
    return None if normalized.startswith(("/", "..")) else normalized


def from_user_agent(user_agent: str) -> DeviceInfo:
    """Vendor, model, firmware and MAC from a User-Agent; empty when no vendor recognises it.

    A vendor's own forms are tried first; an OEM form (a phone sold under another name) counts
    only when the MAC it carries has one of the vendor's OUIs.
    """
    text = user_agent.strip()
    for vendor in VENDORS:
        for pattern in vendor.user_agents:
            match = pattern.search(text)
            if match:
                return _device_info(vendor.name, match.groupdict())
    for vendor in VENDORS:
        for pattern in vendor.oem_user_agents:
            match = pattern.search(text)
            if match:
                info = _device_info(vendor.name, match.groupdict())
                if info.mac and info.mac[:6] in vendor.ouis:
                    return info
    return DeviceInfo()


# "VVX_400" and "SPIP_335" are model names with a separator; "T19P_E2" is a name with a suffix.
_SEPARATOR_BEFORE_DIGIT = re.compile(r"_(?=\d)")
_NO_DEVICE = "0" * 12


def _device_info(vendor: str, groups: dict[str, str | None]) -> DeviceInfo:
    return DeviceInfo(
        vendor=vendor,
        model=_model_name(groups.get("model")),
        firmware=groups.get("firmware"),
        mac=_real_mac(groups.get("mac")),
    )


def _model_name(model: str | None) -> str | None:
    if not model:
        return None
    return _SEPARATOR_BEFORE_DIGIT.sub("", model.strip()).replace(" ", "-")


def _real_mac(text: str | None) -> str | None:
    """The MAC, normalised; None when absent, malformed, or all zeros (a placeholder that
    factory firmware and unconfigured User-Agent templates send, never a device)."""
    if not text:
        return None
    try:
        mac = normalize_mac(text)
    except ValueError:
        return None
    return None if mac == _NO_DEVICE else mac


def candidates(name: str, agent: DeviceInfo) -> list[Candidate]:
    """Every vendor rule that matches ``name``, graded."""
    found: list[Candidate] = []
    for vendor in VENDORS:
        for rule in vendor.files:
            match = rule.pattern.fullmatch(name)
            if match is None:
                continue
            info = _device_info(vendor.name, match.groupdict())
            found.append(
                Candidate(vendor, rule.kind, info, _grade(vendor, rule.unique, info, agent))
            )
            break
    return found


def _grade(vendor: PhoneVendor, unique: bool, info: DeviceInfo, agent: DeviceInfo) -> Support:
    if agent.vendor == vendor.name:
        return Support.EXACT
    if agent.vendor is not None:
        return Support.UNKNOWN  # another vendor's phone asked for this name
    if unique:
        return Support.UNIQUE_NAME
    if info.mac and info.mac[:6] in vendor.ouis:
        return Support.PROBABLE
    return Support.UNKNOWN


def choose(found: list[Candidate]) -> Candidate | None:
    """The best candidate, or None when none is supported or the best two tie."""
    ranked = sorted(found, key=lambda candidate: candidate.support, reverse=True)
    if not ranked or ranked[0].support == Support.UNKNOWN:
        return None
    if len(ranked) > 1 and ranked[1].support == ranked[0].support:
        return None
    return ranked[0]


def identify(request: RequestInfo) -> FileRequest | None:
    """Which vendor answers this request and how; None when no phone would ask for it."""
    if len(request.path) > KEPT_PATH_LENGTH or len(request.user_agent) > KEPT_AGENT_LENGTH:
        return _identified(request.path, request.user_agent)  # no phone's: not kept
    return _kept_identified(request.path, request.user_agent)


# A fleet asks the same (name, User-Agent) at every boot and resync: each is worked out once
# per process (the answer depends on nothing else), up to this many, of a phone's size (a
# name _SAFE_NAME takes, a User-Agent far longer than any phone's), so a flood of odd
# requests holds a few MB at most.
IDENTIFIED_KEPT = 65_536
KEPT_PATH_LENGTH = 202
KEPT_AGENT_LENGTH = 256


def _identified(path: str, user_agent: str) -> FileRequest | None:
    """``identify`` for the request's path and User-Agent."""
    name = clean_path(path)
    if name is None:
        return None
    agent = from_user_agent(user_agent)
    best = choose(candidates(name, agent))
    if best is None:
        return None
    return FileRequest(
        vendor=best.vendor.name,
        kind=best.kind,
        file=name,
        mac=best.info.mac,
        model=agent.model or best.info.model,
        firmware=agent.firmware,
        agent_mac=agent.mac,
    )


_kept_identified = functools.lru_cache(maxsize=IDENTIFIED_KEPT)(_identified)
