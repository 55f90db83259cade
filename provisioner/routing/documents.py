"""What every mod_xml_curl answer shares: the ``document`` root, sections, the not-found answer,
and a check against the RelaxNG schemas shipped in ``schemas/`` (written from the documented
format, see docs/freeswitch.md)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

SCHEMA_DIRECTORY = Path(__file__).resolve().parent / "schemas"
SCHEMAS = ("not-found", "directory", "dialplan", "callcenter")


def new_document(section: str) -> tuple[etree._Element, etree._Element]:
    """A ``document[type=freeswitch/xml]`` with one ``section``; returns (root, section)."""
    root = etree.Element("document", type="freeswitch/xml")
    return root, etree.SubElement(root, "section", name=section)


def add(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    """Append a child element; attribute names use ``_`` for ``-`` (``number_alias``)."""
    return etree.SubElement(
        parent, tag, {name.replace("_", "-"): value for name, value in attributes.items()}
    )


def add_parameters(parent: etree._Element, tag: str, values: dict[str, str]) -> None:
    """``<params><param name= value=/>...`` (or ``variables``/``variable``) in order."""
    container = etree.SubElement(parent, tag + "s")
    for name, value in values.items():
        etree.SubElement(container, tag, name=name, value=value)


def serialize(root: etree._Element) -> bytes:
    """The document as UTF-8 bytes with an XML declaration."""
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def not_found() -> bytes:
    """The answer FreeSWITCH takes as "nothing here" (``switch_xml_locate``)."""
    root, section = new_document("result")
    add(section, "result", status="not found")
    return serialize(root)


@cache
def schema(name: str) -> etree.RelaxNG:
    """The RelaxNG schema ``schemas/<name>.rng``."""
    return etree.RelaxNG(etree.parse(str(SCHEMA_DIRECTORY / f"{name}.rng")))


def check(content: bytes, name: str) -> list[str]:
    """The schema errors of ``content`` against ``schemas/<name>.rng`` (empty when valid)."""
    validator = schema(name)
    if validator.validate(etree.fromstring(content)):
        return []
    return [f"line {error.line}: {error.message}" for error in validator.error_log]
