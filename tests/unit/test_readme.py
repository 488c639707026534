"""The README's configuration reference is the one the settings classes generate."""

import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import etawatch
from etawatch.cli.configref import SERVICES, reference, splice
from etawatch.runtime.settings import ServiceSettings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_configuration_reference_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert splice(text) == text, "README configuration reference is stale: run `make docs`"


def test_reference_names_every_variable_of_every_service() -> None:
    ref = reference()
    for _, settings in SERVICES:
        prefix = settings.model_config.get("env_prefix", "")
        assert prefix.startswith("ETAWATCH_")
        for name in settings.model_fields:
            assert f"`{prefix}{name.upper()}`" in ref


def _settings_classes(base: type[ServiceSettings]) -> set[type[ServiceSettings]]:
    found: set[type[ServiceSettings]] = set()
    for sub in base.__subclasses__():
        found |= {sub} | _settings_classes(sub)
    return found


def test_reference_covers_every_settings_class_of_the_workspace() -> None:
    """Every package's ``config`` module is imported; each settings class it defines is listed."""
    for package in pkgutil.iter_modules(etawatch.__path__):
        module = f"etawatch.{package.name}.config"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    defined = {
        cls for cls in _settings_classes(ServiceSettings) if cls.__module__.endswith(".config")
    }
    assert defined - {settings for _, settings in SERVICES} == set()


def test_splice_refuses_a_readme_without_markers() -> None:
    with pytest.raises(ValueError, match="markers"):
        splice("# no markers here\\n")
