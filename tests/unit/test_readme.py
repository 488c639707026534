"""The README's configuration reference is the one the settings classes generate."""

from pathlib import Path

import pytest

from etawatch.cli.configref import SERVICES, reference, splice

README = Path(__file__).resolve().parents[2] / "README.md"


def test_configuration_reference_is_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert splice(text) == text, "README configuration reference is stale: run `make docs`"


def test_reference_names_every_variable_of_every_service() -> None:
    ref = reference()
    for _, settings in SERVICES:
        for name in settings.model_fields:
            assert f"`ETAWATCH_{name.upper()}`" in ref


def test_splice_refuses_a_readme_without_markers() -> None:
    with pytest.raises(ValueError, match="markers"):
        splice("# no markers here\\n")
