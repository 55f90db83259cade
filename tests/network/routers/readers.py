"""Strict readers of the three router dialects, written for the tests (independent of the
renderer): each refuses a line it cannot account for completely, so an injected fragment that
broke out of its value shows up as a parse error or as an extra command."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ROUTEROS_TOKEN = re.compile(r'\s*([^\s"=]+="[^"]*"|[^\s"=]+=[^\s"]*|[^\s"=]+)')
ROUTEROS_VERBS = {"add", "set", "remove", "enable", "disable", "fetch"}
UCI_LINE = re.compile(
    r"^(?P<verb>set|add_list|delete)"
    r" (?P<config>[a-z_]+)\.(?P<section>@?[a-z_][a-z_0-9]*(?:\[\d+\])?)"
    r"(?:\.(?P<option>[a-z_]+))?"
    r"(?:=(?P<value>'[^']*'|[a-z_0-9]+))?$"
)


ROUTEROS_GUARD = re.compile(
    r"^:if \(\[:len \[(?P<path>/[^\]]+?) find (?P<find>[^\]]*)\]\] = 0\) "
    r"do=\{(?P<command>/.*)\}$"
)


@dataclass(frozen=True)
class RouterOsCommand:
    path: str
    verb: str
    positional: tuple[str, ...]
    arguments: dict[str, str]
    # For ``:if ([:len [<path> find <guard>]] = 0) do={<command>}``: what the find asks.
    guard: dict[str, str] | None = None


def _routeros_words(line: str, number: int) -> list[str]:
    tokens, position = [], 0
    while position < len(line):
        match = ROUTEROS_TOKEN.match(line, position)
        assert match, f"line {number}: cannot read {line[position:]!r}"
        tokens.append(match.group(1))
        position = match.end()
    return tokens


def _routeros_arguments(tokens: list[str], number: int) -> tuple[list[str], dict[str, str]]:
    arguments, positional = {}, []
    for token in tokens:
        if "=" in token:
            key, value = token.split("=", 1)
            assert key not in arguments, f"line {number}: {key} given twice"
            arguments[key] = value[1:-1] if value.startswith('"') else value
        else:
            positional.append(token)
    return positional, arguments


def read_routeros(text: str) -> list[RouterOsCommand]:
    """Each line one command: ``/menu path verb [name] key=value key="quoted"``, or one such
    command guarded by ``:if ([:len [/menu path find key=value]] = 0) do={...}``."""
    commands = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        guard = None
        guarded = ROUTEROS_GUARD.match(line)
        if guarded:
            _, guard = _routeros_arguments(_routeros_words(guarded["find"], number), number)
            line = guarded["command"]
            assert line.startswith(guarded["path"] + " "), f"line {number}: guard's path differs"
        assert line.startswith("/"), f"line {number} is not a command: {line!r}"
        tokens = _routeros_words(line, number)
        verb_at = next(i for i, token in enumerate(tokens) if token in ROUTEROS_VERBS)
        positional, arguments = _routeros_arguments(tokens[verb_at + 1 :], number)
        path = " ".join(tokens[:verb_at])
        if guarded:
            assert path == guarded["path"], f"line {number}: guard's path differs"
        commands.append(RouterOsCommand(path, tokens[verb_at], tuple(positional), arguments, guard))
    return commands


@dataclass
class UciState:
    """What a uci batch leaves: section types, options, lists; and whether it committed."""

    types: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    committed: bool = False


def read_uci(text: str) -> UciState:
    """``set``/``add_list``/``delete`` lines, values in single quotes, then ``commit``."""
    state = UciState()
    for number, line in enumerate(text.splitlines(), 1):
        assert not state.committed, f"line {number} after commit: {line!r}"
        if line == "commit":
            state.committed = True
            continue
        match = UCI_LINE.match(line)
        assert match, f"line {number} is not uci batch syntax: {line!r}"
        key = f"{match['config']}.{match['section']}"
        value = (match["value"] or "").strip("'")
        if match["option"]:
            key += f".{match['option']}"
        if match["verb"] == "delete":
            state.lists.pop(key, None)
            state.options.pop(key, None)
        elif match["verb"] == "add_list":
            state.lists.setdefault(key, []).append(value)
        elif match["option"]:
            state.options[key] = value
        else:
            state.types[key] = value
    return state


@dataclass
class IosLine:
    text: str
    children: list[IosLine] = field(default_factory=list)


def read_ios(text: str) -> list[IosLine]:
    """IOS configuration lines as a tree by their one-space indentation; ``!`` separates."""
    root: list[IosLine] = []
    stack: list[tuple[int, list[IosLine]]] = [(-1, root)]
    lines = text.splitlines()
    assert lines[-1] == "end", "an IOS configuration ends with end"
    for number, line in enumerate(lines, 1):
        if line.startswith("!") or not line.strip():
            continue
        depth = len(line) - len(line.lstrip(" "))
        assert line.count('"') % 2 == 0, f"line {number} has an unbalanced quote: {line!r}"
        assert line.isprintable(), f"line {number} has a control character"
        while stack[-1][0] >= depth:
            stack.pop()
        assert depth <= stack[-1][0] + 1, f"line {number} is indented too deep"
        node = IosLine(line.strip())
        stack[-1][1].append(node)
        stack.append((depth, node.children))
    return root


def ios_block(tree: list[IosLine], header: str) -> list[str]:
    """The sub-commands under the top-level line ``header``."""
    node = next(item for item in tree if item.text == header)
    return [child.text for child in node.children]


def snmpd_users(state: UciState) -> list[str]:
    """The ``createUser`` lines OpenWrt's snmpd init script (net-snmp package) writes from the
    uci state, by its rules: ``config v3`` sections, read only when ``general.snmp_version`` is
    ``v3`` or ``v1/v2c/v3``, passwords of eight characters or more; it starts snmpd with ``-C``,
    so no other file (``snmpd.local.conf``) is read."""
    if state.options.get("snmpd.general.snmp_version") not in ("v3", "v1/v2c/v3"):
        return []
    users = []
    for section, kind in state.types.items():
        config, _, name = section.partition(".")
        if config != "snmpd" or kind != "v3":
            continue
        option = {
            key.rsplit(".", 1)[1]: value
            for key, value in state.options.items()
            if key.startswith(f"snmpd.{name}.")
        }
        if len(option.get("auth_pass", "")) < 8 or len(option.get("privacy_pass", "")) < 8:
            continue
        users.append(
            f'createUser {option["username"]} {option["auth_type"]} "{option["auth_pass"]}" '
            f'{option["privacy_type"]} "{option["privacy_pass"]}"'
        )
    return users
