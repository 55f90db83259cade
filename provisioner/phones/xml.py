"""XML phone files built with lxml from skeletons in ``templates/phones/<vendor>/``.

The skeleton for a model is ``<model>.xml`` when it exists, else ``base.xml``. Values go in as
text or attributes through lxml, so escaping and well-formedness hold by construction.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from lxml import etree

from provisioner.errors import TemplateRenderError

TEMPLATES = Path(
    os.environ.get(
        "PROVISIONER_PHONE_TEMPLATES",
        str(Path(__file__).resolve().parent.parent.parent / "templates" / "phones"),
    )
)
_SAFE_MODEL = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def skeleton_path(vendor: str, model: str | None) -> Path:
    """The most specific skeleton for ``vendor`` and ``model``: model first, then base (found
    once per process, like the skeletons' bytes: they ship with the code)."""
    return _find_skeleton(TEMPLATES, vendor, model)


@lru_cache(maxsize=256)
def _find_skeleton(templates: Path, vendor: str, model: str | None) -> Path:
    if model and _SAFE_MODEL.fullmatch(model):
        specific = templates / vendor / f"{model}.xml"
        if specific.is_file():
            return specific
    base = templates / vendor / "base.xml"
    if not base.is_file():
        raise TemplateRenderError(f"no skeleton for {vendor}; add {base}")
    return base


@lru_cache(maxsize=128)
def _skeleton_bytes(path: Path) -> bytes:
    return path.read_bytes()


def load_skeleton(vendor: str, model: str | None) -> etree._Element:
    """A fresh copy of the skeleton's root element."""
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    return etree.fromstring(_skeleton_bytes(skeleton_path(vendor, model)), parser)


def clean(text: str | int) -> str:
    """``text`` as XML text; control characters (not representable in XML 1.0) are refused."""
    value = str(text)
    if _CONTROL.search(value):
        raise TemplateRenderError(f"{value!r} contains control characters; change it")
    return value


def element(
    parent: etree._Element, tag: str, text: str | int | None = None, **attributes: str
) -> etree._Element:
    """Append ``<tag attributes>text</tag>`` to ``parent`` and return it."""
    node = etree.SubElement(parent, tag, {name: clean(value) for name, value in attributes.items()})
    if text is not None:
        node.text = clean(text)
    return node


def find_or_add(parent: etree._Element, tag: str) -> etree._Element:
    """The first child ``tag`` of ``parent``, created when missing."""
    found = parent.find(tag)
    return found if found is not None else etree.SubElement(parent, tag)


def set_text(parent: etree._Element, tag: str, text: str | int) -> etree._Element:
    """Set the text of child ``tag`` (creating it), replacing what the skeleton had."""
    node = find_or_add(parent, tag)
    node.text = clean(text)
    return node


def serialize(root: etree._Element) -> bytes:
    """The document as UTF-8 with an XML declaration, indented for people reading it."""
    etree.indent(root, space="  ")
    document: bytes = etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
    return document
