"""The models package: every table by name, each module imported only when one of its names
is asked for, and all of them behind `Base`."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest

from provisioner.store import models
from tests.conftest import PROJECT


def test_every_mapped_class_is_named_by_its_module() -> None:
    mapped = {mapper.class_ for mapper in models.Base.registry.mappers}
    named = {
        name: getattr(importlib.import_module(f"{models.__name__}.{module}"), name)
        for module, names in models.NAMES_BY_MODULE.items()
        for name in names
    }
    assert mapped <= set(named.values()), "a model is missing from NAMES_BY_MODULE"
    for name, value in named.items():
        assert getattr(models, name) is value, name


def test_base_knows_every_table() -> None:
    tables = {mapper.local_table.name for mapper in models.Base.registry.mappers}
    assert set(models.Base.metadata.tables) == tables
    assert {"tenants", "api_tokens", "network_devices", "firmware_rollouts"} <= tables


LOADED_TABLE_MODULES = """
import sys
from provisioner.store.models import {name}
print(" ".join(sorted(m.rsplit(".", 1)[1] for m in sys.modules
                      if m.startswith("provisioner.store.models."))))
"""


def loaded_modules(name: str) -> list[str]:
    """The model modules a fresh process has loaded after importing ``name`` from models."""
    environment = {**os.environ, "PYTHONPATH": str(PROJECT)}
    finished = subprocess.run(
        [sys.executable, "-c", LOADED_TABLE_MODULES.format(name=name)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=True,
    )
    return finished.stdout.split()


def test_a_name_loads_its_module_and_the_tables_its_foreign_keys_name() -> None:
    assert loaded_modules("ApiToken") == ["base", "security"]
    assert loaded_modules("Tenant") == ["base", "tenants"]
    assert loaded_modules("DeviceEvent") == ["base", "pairing", "tenants"]
    assert loaded_modules("Base") == sorted(models.NAMES_BY_MODULE)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="Nothing"):
        models.Nothing  # noqa: B018
