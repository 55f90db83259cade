"""YAML import and export of whole tenants.

Reading is bounded, so a careless or hostile file cannot take the server down: its size
(IMPORT_MAX_BYTES, checked before reading), its nesting (MAX_NESTING levels, checked while
composing, never a RecursionError), and what its aliases expand to (MAX_EXPANDED_NODES). A key
written twice in one mapping is an error naming both lines (YAML would keep the last silently).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioner.errors import FieldProblem, ValidationFailed
from provisioner.security.secrets import SecretBox
from provisioner.store import models
from provisioner.tenants import schema
from provisioner.tenants.limits import (
    DEFAULT_IMPORT_MAX_BYTES,
    MAX_NESTING,
    check_size,
    nesting_problem,
)
from provisioner.tenants.repository import find_tenant, load_document, save_document
from provisioner.tenants.validation import parse_document

MAX_SOUND_BYTES = 16 * 1024 * 1024
# Nodes a document may have with every alias expanded (a "billion laughs" has 10**9).
MAX_EXPANDED_NODES = 1_000_000
_MERGE_TAG = "tag:yaml.org,2002:merge"


class TenantLoader(yaml.SafeLoader):
    """Safe YAML whose integers are only decimal and hex and whose booleans are true and false.

    YAML 1.1 reads ``end: 17:30`` as 1050 (base 60), ``0202103356`` as an octal number and
    ``country: NO`` (Norway) as False; a customer means the text, so those stay text. Nesting,
    alias expansion and duplicate keys are refused as the module docstring says.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._expanded: dict[int, int] = {}  # id(node) -> nodes below it, aliases expanded

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Compose one node, refusing it past MAX_NESTING levels or MAX_EXPANDED_NODES."""
        self._depth += 1
        try:
            if self._depth > MAX_NESTING:
                raise yaml.composer.ComposerError(
                    problem=nesting_problem(),
                    problem_mark=self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            alias = self.check_event(yaml.AliasEvent)
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is None:
            return None
        if not alias:
            self._count_expanded(node)
        elif id(node) not in self._expanded:  # its anchor's node is still being composed
            raise yaml.composer.ComposerError(
                problem="an alias refers to itself (its anchor's node contains it)",
                problem_mark=node.start_mark,
            )
        return node

    def _count_expanded(self, node: yaml.Node) -> None:
        """Record how many values ``node`` stands for with its aliases expanded."""
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        size = 1 + sum(self._expanded[id(child)] for child in children)
        if size > MAX_EXPANDED_NODES:
            raise yaml.composer.ComposerError(
                problem=f"aliases expand to more than {MAX_EXPANDED_NODES:,} values",
                problem_mark=node.start_mark,
            )
        self._expanded[id(node)] = size

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """A mapping, refusing a key written twice (keys merged in with ``<<`` may be)."""
        if isinstance(node, yaml.MappingNode):
            self._refuse_duplicate_keys(node)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep)
        return mapping

    def _refuse_duplicate_keys(self, node: yaml.MappingNode) -> None:
        """Refuse two keys that are one once read, however they are written: ``1``, ``0x1``,
        ``+1`` and ``1_`` are all 1, ``true`` and ``True`` both True (and so is 1, for a
        Python dict), and the document takes the number 1 and the text "1" alike."""
        seen: dict[Any, yaml.Node] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
                continue
            first = seen.setdefault(_as_read(self.construct_object(key)), key)
            if first is not key:
                same = "" if first.value == key.value else f" ({first.value!r} is the same key)"
                raise yaml.constructor.ConstructorError(
                    problem=f"duplicate key {key.value!r} on lines {first.start_mark.line + 1} "
                    f"and {key.start_mark.line + 1}{same}; keep one",
                    problem_mark=key.start_mark,
                )


def _as_read(key: Any) -> Any:
    """A key as the document reads it: numbers as their text (``coerce_numbers_to_str``);
    True and False as 1 and 0, which a Python dict takes them for."""
    if isinstance(key, int | float):
        return str(int(key) if isinstance(key, bool) else key)
    return key


_REPLACED_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:bool")
TenantLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in _REPLACED_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
TenantLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
TenantLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^[-+]?(?:0|[1-9][0-9_]*|0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)


def parse_yaml(text: str, max_bytes: int = DEFAULT_IMPORT_MAX_BYTES) -> Any:
    """YAML text as data; ValidationFailed with the line and column on a syntax error, a
    duplicate key or nesting past the limit; DocumentTooLarge past ``max_bytes``."""
    check_size(len(text.encode("utf-8")), max_bytes)
    try:
        return yaml.load(text, Loader=TenantLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValidationFailed([FieldProblem("", f"not valid YAML: {where}{problem}")]) from exc


def read_tenant_file(
    path: Path, max_bytes: int = DEFAULT_IMPORT_MAX_BYTES
) -> tuple[schema.TenantDocument, dict[str, bytes]]:
    """The document in ``path`` and the audio of its sounds (files relative to ``path``)."""
    document = read_tenant_document(path, max_bytes)
    return document, read_sound_files(document, path.parent)


def read_tenant_document(
    path: Path, max_bytes: int = DEFAULT_IMPORT_MAX_BYTES
) -> schema.TenantDocument:
    """The validated document in ``path``, without its sounds' audio (its size checked
    before it is read)."""
    try:
        check_size(path.stat().st_size, max_bytes)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed([FieldProblem("", f"cannot read {path}: {exc}")]) from exc
    return parse_document(parse_yaml(text, max_bytes))


def read_sound_files(
    document: schema.TenantDocument, folder: Path, stored: Collection[str] = ()
) -> dict[str, bytes]:
    """The audio of every sound that names a file, read relative to ``folder``.

    A missing file is fine for a sound in ``stored`` (its audio is in the store already): an
    export to stdout names files it did not write, and re-importing it must still work.
    """
    contents: dict[str, bytes] = {}
    problems: list[FieldProblem] = []
    for index, sound in enumerate(document.sounds):
        if sound.file is None:
            continue
        file = (folder / sound.file).resolve()
        if not file.is_file():
            if sound.name in stored:
                continue
            problems.append(FieldProblem(f"sounds[{index}].file", f"no file {file}"))
        elif file.stat().st_size > MAX_SOUND_BYTES:
            problems.append(FieldProblem(f"sounds[{index}].file", "larger than 16 MiB"))
        else:
            contents[sound.name] = file.read_bytes()
    if problems:
        raise ValidationFailed(problems)
    return contents


def read_import(
    session: Session, path: Path, max_bytes: int = DEFAULT_IMPORT_MAX_BYTES
) -> tuple[schema.TenantDocument, dict[str, bytes]]:
    """A tenant file to import and its sounds' audio (stored sounds need no file)."""
    document = read_tenant_document(path, max_bytes)
    return document, import_sounds(session, document, path.parent)


def import_sounds(
    session: Session, document: schema.TenantDocument, folder: Path
) -> dict[str, bytes]:
    """The audio of the document's sounds from their files in ``folder``, but for those the
    store holds already."""
    stored = session.scalars(
        select(models.Sound.name)
        .join(models.Tenant, models.Sound.tenant_id == models.Tenant.id)
        .where(models.Tenant.name == document.name)
    ).all()
    return read_sound_files(document, folder, set(stored))


def import_tenant_file(
    session: Session,
    path: Path,
    actor: str,
    box: SecretBox,
    max_bytes: int = DEFAULT_IMPORT_MAX_BYTES,
) -> models.Tenant:
    """Load a tenant file into the store, all or nothing (the caller's transaction)."""
    document, sounds = read_import(session, path, max_bytes)
    return save_document(session, document, actor, box, sounds)


def document_to_data(document: schema.TenantDocument, include_secrets: bool) -> dict[str, Any]:
    """The document as plain data in field order; secrets only when asked."""
    data = document.model_dump(mode="json", exclude_none=True)
    if not include_secrets:
        for collection, secrets in schema.SECRET_FIELDS.items():
            for item in data[collection]:
                for secret in secrets:
                    item.pop(secret, None)
    return data


def dump_yaml(data: Any) -> str:
    """Readable YAML in the given key order, unicode kept."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def export_tenant(
    session: Session, name: str, box: SecretBox, include_secrets: bool = False
) -> tuple[str, dict[str, bytes]]:
    """A tenant as YAML text and its sounds' audio by name."""
    tenant = find_tenant(session, name)
    document = load_document(session, tenant, box if include_secrets else None)
    sounds = {
        row.name: row.content
        for row in session.scalars(select(models.Sound).where(models.Sound.tenant_id == tenant.id))
    }
    header = f"# Tenant {name}, exported by provisioner. Import with `provisioner import FILE`.\n"
    return header + dump_yaml(document_to_data(document, include_secrets)), sounds


def write_export(folder: Path, name: str, text: str, sounds: dict[str, bytes]) -> Path:
    """Write ``<folder>/<name>.yaml`` and ``<folder>/sounds/*``; return the YAML path."""
    (folder / "sounds").mkdir(parents=True, exist_ok=True)
    for sound_name, content in sounds.items():
        (folder / "sounds" / sound_name).write_bytes(content)
    target = folder / f"{name}.yaml"
    target.write_text(text, encoding="utf-8")
    return target
