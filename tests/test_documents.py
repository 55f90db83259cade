"""README.md and docs/ stand on their own: every link they make points into the repository at a
file that is there, and none sends the reader to notes outside it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import PROJECT

DOCUMENTS = (PROJECT / "README.md", *sorted((PROJECT / "docs").glob("*.md")))
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_links_stay_in_the_repository_and_lead_somewhere(document: Path) -> None:
    text = document.read_text()
    assert "shared/reference" not in text, "copy the facts a reader needs into docs/"
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # an address on the web
        path = (document.parent / target).resolve()
        assert path.is_relative_to(PROJECT), f"{document.name}: {target} is outside the repository"
        assert path.exists(), f"{document.name}: {target} does not exist"
