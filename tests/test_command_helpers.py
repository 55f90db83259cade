"""The shared command helpers sit below the command modules: no import cycle through cli.py."""

from __future__ import annotations

import ast
from pathlib import Path

import provisioner

PACKAGE = Path(provisioner.__file__).parent
# The entry points: the package, `python -m provisioner`, the command line, the `provisioner`
# script and the command server that runs its commands.
ALLOWED_TO_IMPORT_CLI = {
    "__init__.py",
    "__main__.py",
    "cli.py",
    "command_client.py",
    "command_server.py",
}


def imported_modules(source: Path) -> set[str]:
    """Every module `source` imports, by full name (`from a import b` counts a and a.b)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_module_below_the_command_line_imports_it_back() -> None:
    importers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "provisioner.cli" in imported_modules(path)
        and str(path.relative_to(PACKAGE)) not in ALLOWED_TO_IMPORT_CLI
    )
    assert importers == [], "import provisioner.command_helpers instead"


def test_the_domain_commands_take_their_helpers_from_command_helpers() -> None:
    for module in ("tenants/commands.py", "pairing/cli.py", "network/commands.py"):
        assert "provisioner.command_helpers" in imported_modules(PACKAGE / module), module


def test_the_commands_get_their_app_from_command_helpers_not_from_flask() -> None:
    """Flask's with_appcontext and current_app would tie every command to Flask; with_app runs
    the console's commands without it (a seventh of their start-up)."""
    commands = ("cli.py", "tenants/commands.py", "pairing/cli.py", "network/commands.py")
    for module in (*commands, "firmware/cli.py"):
        imported = imported_modules(PACKAGE / module)
        assert not {"flask.cli", "flask.current_app"} & imported, module
