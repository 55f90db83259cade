"""What saving a tenant document changes, read from the audit events the save recorded.

An import or a document PUT is first saved in a transaction that is then rolled back; the
events it recorded say, item by item, what the real save will do. Reading the summary from the
audit events keeps it from ever disagreeing with what the audit log will show.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from provisioner.security.audit import REDACTED
from provisioner.store.models import AuditEvent
from provisioner.tenants import schema

ACTIONS = {"create": "added", "update": "changed", "delete": "removed"}
SECRET_NAMES = {"sip_password": "SIP passwords", "pin": "voicemail PINs"}


@dataclass(frozen=True)
class ChangeSummary:
    """Added, changed and removed keys per collection, and what follows from them."""

    tenant: str
    created: bool = False
    settings: tuple[str, ...] = ()
    added: dict[str, list[str]] = field(default_factory=dict)
    changed: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
    phone_lines: list[str] = field(default_factory=list)  # "805ec0123456 (240 -> 241)"
    generated_secrets: list[str] = field(default_factory=list)  # "extensions 249: sip_password"

    @property
    def has_removals(self) -> bool:
        """True when the save deletes at least one item."""
        return any(self.removed.values())

    @property
    def is_empty(self) -> bool:
        """True when the save changes nothing at all."""
        return not (self.created or self.settings or self.added or self.changed or self.removed)

    def removals_text(self) -> str:
        """The removed items in one phrase: ``extensions 243; sounds Oud.mp3``."""
        return "; ".join(f"{name} {', '.join(keys)}" for name, keys in self.removed.items())

    def as_json(self) -> dict[str, Any]:
        """As the API shows it."""
        return {
            "tenant": self.tenant,
            "created": self.created,
            "settings": list(self.settings),
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "phone_lines": self.phone_lines,
            "generated_secrets": self.generated_secrets,
        }

    def as_text(self) -> list[str]:
        """Lines for the command line, one per collection that changes."""
        if self.is_empty:
            return [f"tenant {self.tenant}: no changes"]
        lines = [f"tenant {self.tenant}" + (" (new)" if self.created else "") + ":"]
        if self.settings and not self.created:
            lines.append(f"  settings changed: {', '.join(self.settings)}")
        for collection in schema.COLLECTION_KEYS:
            parts = [
                f"{word} {', '.join(keys)}"
                for word, keys in (
                    ("added", self.added.get(collection)),
                    ("changed", self.changed.get(collection)),
                    ("removed", self.removed.get(collection)),
                )
                if keys
            ]
            if parts:
                lines.append(f"  {collection}: {'; '.join(parts)}")
        if self.phone_lines:
            lines.append(f"  phones whose lines change: {', '.join(self.phone_lines)}")
        for secret, label in SECRET_NAMES.items():
            keys = [
                text.partition(" ")[2].rpartition(":")[0]
                for text in self.generated_secrets
                if text.endswith(f": {secret}")
            ]
            if keys:
                lines.append(f"  {label} to generate: {', '.join(keys)}")
        return lines


def summarize(events: Iterable[AuditEvent], document: schema.TenantDocument) -> ChangeSummary:
    """The summary of a save of ``document`` from the audit events it recorded."""
    created = False
    settings: tuple[str, ...] = ()
    buckets: dict[str, dict[str, list[str]]] = {word: {} for word in ACTIONS.values()}
    phone_lines: list[str] = []
    generated: list[str] = []
    for event in events:
        if event.object_type == "tenant":
            created = created or event.action == "create"
            settings = tuple(sorted(event.changes)) if event.action == "update" else settings
            continue
        if event.object_type not in schema.COLLECTION_KEYS or event.action not in ACTIONS:
            continue
        word = ACTIONS[event.action]
        buckets[word].setdefault(event.object_type, []).append(event.object_key)
        if event.object_type == "phones":
            phone_lines.extend(_lines_change(event))
        generated.extend(_generated(event, document))
    return ChangeSummary(
        document.name,
        created,
        settings,
        added=buckets["added"],
        changed=buckets["changed"],
        removed=buckets["removed"],
        phone_lines=phone_lines,
        generated_secrets=generated,
    )


def _lines_change(event: AuditEvent) -> list[str]:
    """``mac (old -> new)`` when the event changes a phone's lines."""
    changes = event.changes
    if event.action == "update" and "lines" in changes:
        old, new = changes["lines"]
    elif event.action == "create":
        old, new = [], changes.get("lines", [])
    elif event.action == "delete":
        old, new = changes.get("lines", []), []
    else:
        return []
    return [f"{event.object_key} ({_line_list(old)} -> {_line_list(new)})"]


def _line_list(lines: list[str]) -> str:
    return ", ".join(lines) if lines else "no lines"


def _generated(event: AuditEvent, document: schema.TenantDocument) -> list[str]:
    """The secrets the save generates for this item (set, and not given in the document)."""
    collection = event.object_type
    fields = schema.SECRET_FIELDS.get(collection, ())
    if event.action == "delete" or not fields:
        return []
    item = next(
        (
            candidate
            for candidate in getattr(document, collection)
            if schema.item_key(collection, candidate) == event.object_key
        ),
        None,
    )
    return [
        f"{collection} {event.object_key}: {secret}"
        for secret in fields
        if event.changes.get(secret) == REDACTED and getattr(item, secret, None) is None
    ]
