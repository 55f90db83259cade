"""Kept answers are keyed by the file name's shape: the MAC blanked out, in any case."""

from __future__ import annotations

import pytest

from provisioner.phones.answers import file_shape


@pytest.mark.parametrize(
    ("file", "mac", "shape"),
    [
        ("805ec0aabbcc.cfg", "805ec0aabbcc", "{mac}.cfg"),
        ("Cisco/805EC0AABBCC-805ec0AaBbCc.cfg", "805ec0aabbcc", "Cisco/{mac}-{mac}.cfg"),
        ("spa805ec0aabbcc.xml", "805ec0aabbcc", "spa{mac}.xml"),
        ("y000000000000.cfg", None, "y000000000000.cfg"),
        ("other.cfg", "805ec0aabbcc", "other.cfg"),
        ("İ805ec0aabbcc.cfg", "805ec0aabbcc", "İ{mac}.cfg"),  # lower() changes its length
    ],
)
def test_the_shape_blanks_the_mac_in_any_case(file: str, mac: str | None, shape: str) -> None:
    assert file_shape(file, mac) == shape
