"""Line-oriented ``key = value`` files (Yealink) and ``NAME="value"`` files (Panasonic).

The writers refuse any value that would break the file or smuggle in another setting: line
breaks, control characters, and the format's own quoting where it has one.
"""

from __future__ import annotations

import re

from provisioner.errors import TemplateRenderError

_KEY = re.compile(r"^[A-Za-z0-9_.\-]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")


def check_value(key: str, value: str, forbidden: str = "") -> None:
    """Raise TemplateRenderError when ``key`` or ``value`` cannot be written safely."""
    if not _KEY.fullmatch(key):
        raise TemplateRenderError(f"setting name {key!r} has characters a phone file cannot hold")
    if _CONTROL.search(value) or any(character in value for character in forbidden):
        raise TemplateRenderError(
            f"the value of {key} contains a line break, control character or one of "
            f"{forbidden!r}; change it (for example the label or display name)"
        )


class KeyValueWriter:
    """Builds a Yealink file: a fixed first line, then ``key = value`` lines."""

    def __init__(self, first_line: str = "#!version:1.0.0.1") -> None:
        self._lines = [first_line]
        self._keys: set[str] = set()

    def set(self, key: str, value: str | int) -> None:
        """Write one setting; a second write of the same key is a programming error."""
        text = str(value)
        check_value(key, text)
        if key in self._keys:
            raise TemplateRenderError(f"setting {key} written twice")
        self._keys.add(key)
        self._lines.append(f"{key} = {text}")

    def comment(self, text: str) -> None:
        """A ``#`` comment line (fixed texts only)."""
        check_value("comment", text)
        self._lines.append(f"# {text}")

    def raw(self, line: str) -> None:
        """A fixed line of the format (``include:config "..."``)."""
        check_value("raw", line)
        self._lines.append(line)

    def render(self) -> bytes:
        """The file, UTF-8, one setting per line, ending with a newline."""
        return ("\n".join(self._lines) + "\n").encode("utf-8")


class QuotedWriter:
    """Builds a Panasonic file: a fixed first line, then ``NAME="value"`` lines with CRLF."""

    def __init__(self, first_line: str) -> None:
        self._lines = [first_line]

    def set(self, key: str, value: str | int) -> None:
        """Write one setting; quotes inside a value are refused (the format has no escape)."""
        text = str(value)
        check_value(key, text, forbidden='"')
        self._lines.append(f'{key}="{text}"')

    def render(self) -> bytes:
        """The file with CRLF line ends and a final empty line."""
        return ("\r\n".join(self._lines) + "\r\n\r\n").encode("utf-8")
