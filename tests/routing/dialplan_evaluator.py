"""A small evaluator of the dialplan subset we generate: which extension takes a number.

It mirrors mod_dialplan_xml for single ``destination_number`` conditions: extensions are tried
in document order, the first whose expression matches wins, and its actions run with ``$1``
replaced by the first capture.
"""

from __future__ import annotations

import re

from lxml import etree


def route_number(document: bytes, context: str, number: str) -> tuple[str, list[tuple[str, str]]]:
    """The name of the extension that takes ``number`` in ``context``, and its actions."""
    root = etree.fromstring(document)
    for extension in root.iterfind(f"section/context[@name='{context}']/extension"):
        condition = extension.find("condition")
        assert condition.get("field") == "destination_number"
        match = re.search(condition.get("expression"), number)
        if match:
            actions = [
                (
                    action.get("application"),
                    (action.get("data") or "").replace(
                        "$1", match.group(1) if match.groups() else ""
                    ),
                )
                for action in condition.iterfind("action")
            ]
            return extension.get("name"), actions
    return "", []
