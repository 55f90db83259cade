"""Every exception the server raises on purpose; the HTTP edge and the CLI map them to answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ProvisionerError(Exception):
    """Root of the exceptions this server raises on purpose."""


class ConfigError(ProvisionerError):
    """The configuration is missing a key or has a wrong value; the message names it."""


class HttpBindFailed(ProvisionerError):
    """The HTTP server could not bind its address (in use, not this machine's, privileged);
    the message says which and what to do."""


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One invalid field: its path in the document (``call_flows[0].steps[3].target``) and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


class ValidationFailed(ProvisionerError):
    """A document or request body is invalid; ``problems`` names every offending field."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


class DocumentTooLarge(ValidationFailed):
    """A document to import is larger than the configured limit (the HTTP edge answers 413)."""


class NotFound(ProvisionerError):
    """The named object does not exist (or the caller may not know that it does)."""


class UnknownTenant(NotFound):
    """No tenant has this name. The message says only that: each edge (the command line, the
    API) adds how its user lists the tenants."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no tenant {name!r}")


class Conflict(ProvisionerError):
    """The change clashes with what is stored (a duplicate key, an object still in use)."""


class RemovalsNotConfirmed(Conflict):
    """A change would remove items and the caller did not confirm it; nothing was changed."""


class Unauthorized(ProvisionerError):
    """No valid credentials were given."""


class Forbidden(ProvisionerError):
    """Valid credentials, but their role does not allow this action."""


class SharedLineRefused(Forbidden):
    """Pairing would put an extension on a second device while a paired phone carries it:
    the new device would get that extension's SIP password, which the caller may not read."""

    def __init__(self, message: str, shared: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.shared = shared  # extension -> the paired phones (MACs) that carry it


class UnknownPhone(NotFound):
    """No phone with this MAC is known."""


class UnsupportedVendor(ProvisionerError):
    """The request came from a phone we have no vendor module for."""


class TemplateRenderError(ProvisionerError):
    """A phone or router template could not be filled."""


class UnsafeConfigValue(TemplateRenderError):
    """A value would break out of its line in a router configuration (quote, newline, ...)."""


class PairingConflict(Conflict):
    """The MAC or the extension is already paired elsewhere."""


class DeviceUnreachable(ProvisionerError):
    """A network device did not answer."""


class SnmpTimeout(DeviceUnreachable):
    """An SNMP request timed out."""


# --- network (SNMP inventory, poller, traps, diagnostics) -----------------------------------


class SnmpFailure(DeviceUnreachable):
    """An SNMP request failed; ``kind`` is timeout, authentication, unreachable or error."""

    def __init__(self, kind: str, reason: str) -> None:
        self.kind = kind
        self.reason = reason
        super().__init__(reason)


# firmware


class FirmwareRefused(ProvisionerError):
    """A firmware file or request is refused: bad signature, changed hash, unknown model;
    the message names the reason."""


class FirmwareNotFound(NotFound):
    """No catalogue entry or rollout with that name or id."""


# TFTP


class MalformedPacket(ProvisionerError):
    """A datagram that is not a valid TFTP packet; the server answers or drops it and goes on."""


class TftpBindFailed(ProvisionerError):
    """The TFTP service could not bind its address; the message says what to change."""
