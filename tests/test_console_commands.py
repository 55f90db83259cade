"""Every `provisioner X` the README, docs/ and our own messages name is a command of the real
console entry point: the `provisioner` script pip installs, run as a subprocess (the Flask
app's test runner has commands the console may lack, which is how `firmware` went missing)."""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import PROJECT

DOCUMENTS = (PROJECT / "README.md", *sorted((PROJECT / "docs").glob("*.md")))
SOURCES = tuple(sorted((PROJECT / "provisioner").rglob("*.py")))
# Code in Markdown (fenced blocks and `spans`); in our sources, the `spans` of messages.
MARKDOWN_CODE = re.compile(r"```.*?```|`[^`\n]+`", re.DOTALL)
SOURCE_CODE = re.compile(r"`[^`\n]+`")
MENTION = re.compile(r"(?:^|(?<=[\s`$(]))provisioner((?: +[a-z][a-z0-9_-]*)+)", re.MULTILINE)


def console_script() -> Path:
    """The installed `provisioner` script, beside the Python running the tests."""
    script = Path(sys.executable).parent / "provisioner"
    assert script.is_file(), f"{script} is missing: install the package (pip install -e .)"
    return script


def console_environment() -> dict[str, str]:
    """The environment for the console: this checkout's package first on the path."""
    path = os.pathsep.join(filter(None, (str(PROJECT), os.environ.get("PYTHONPATH"))))
    return {**os.environ, "PYTHONPATH": path}


def mentions() -> dict[tuple[str, ...], str]:
    """The words after `provisioner` in every mention -> the first file naming them."""
    found: dict[tuple[str, ...], str] = {}
    sources = [(path, MARKDOWN_CODE) for path in DOCUMENTS]
    sources += [(path, SOURCE_CODE) for path in SOURCES]
    for path, code in sources:
        for block in code.findall(path.read_text()):
            for mention in MENTION.finditer(block):
                words = tuple(mention[1].split())
                found.setdefault(words, str(path.relative_to(PROJECT)))
    return found


@functools.cache
def help_text(*words: str) -> str:
    """`provisioner WORDS --help` through the console script; its output (exit status 0)."""
    finished = subprocess.run(
        [str(console_script()), *words, "--help"],
        capture_output=True,
        text=True,
        env=console_environment(),
        timeout=60,
    )
    assert finished.returncode == 0, (words, finished.stdout, finished.stderr)
    return finished.stdout


def subcommands(text: str) -> set[str]:
    """The command names a click help text lists under "Commands:" (none for a command)."""
    _, found, listing = text.partition("\nCommands:\n")
    return (
        {line.split()[0] for line in listing.splitlines() if line.startswith("  ")}
        if found
        else set()
    )


MENTIONS = mentions()


def test_the_documents_name_commands_at_all() -> None:
    named = {words[0] for words in MENTIONS}
    assert {"serve", "firmware", "token", "pair", "network"} <= named, named


@pytest.mark.parametrize("words", sorted(MENTIONS), ids=" ".join)
def test_each_named_command_is_a_command_of_the_console(words: tuple[str, ...]) -> None:
    path: list[str] = []
    for word in words:
        commands = subcommands(help_text(*path))
        if not commands:
            break  # the rest are the command's arguments
        assert word in commands, (
            f"`provisioner {' '.join([*path, word])}` (named in {MENTIONS[words]}) is not a "
            f"command; `provisioner {' '.join(path)}` has {sorted(commands)}"
        )
        path.append(word)


def test_python_dash_m_and_the_flask_cli_have_the_console_commands(app: Flask) -> None:
    console = subcommands(help_text())
    module = subprocess.run(
        [sys.executable, "-m", "provisioner", "--help"],
        capture_output=True,
        text=True,
        env=console_environment(),
        timeout=60,
    )
    assert subcommands(module.stdout) == console
    assert console <= set(app.cli.commands), console - set(app.cli.commands)


@pytest.mark.parametrize("command", [["tenants", "list"], ["serve"]])
def test_a_setting_that_cannot_be_used_is_one_line_not_a_traceback(
    tmp_path: Path, command: list[str]
) -> None:
    environment = {
        **console_environment(),
        "PROVISIONER_INSTANCE": str(tmp_path / "instance"),
        "PROVISIONER_HTTP_PORT": "abc",
    }
    finished = subprocess.run(
        [str(console_script()), *command],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=60,
    )
    assert finished.returncode == 1
    assert finished.stderr == "Error: HTTP_PORT must be a port number 0-65535, not 'abc'\n"
    assert finished.stdout == ""
