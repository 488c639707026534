"""Committed JSON Schemas match the models, and every model reads all its earlier versions."""

import json
from pathlib import Path
from typing import Any, ClassVar, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, create_model

from etawatch.contracts.base import Message
from etawatch.contracts.messages import ALL_MESSAGES
from etawatch.contracts.schemas import (
    Schema,
    backward_problems,
    committed_versions,
    compatibility_problems,
    generate,
    main,
    render,
    schema_path,
)


@pytest.mark.parametrize("model", ALL_MESSAGES, ids=lambda m: m.TYPE)
def test_committed_schema_is_current(model: type[Message]) -> None:
    path = schema_path(model)
    assert path.exists(), f"{path} missing: run `make schemas`"
    assert path.read_text(encoding="utf-8") == render(generate(model)), (
        f"{path} differs from {model.__name__}: run `make schemas` (a published version is "
        "immutable: bump VERSION instead)"
    )


@pytest.mark.parametrize("model", ALL_MESSAGES, ids=lambda m: m.TYPE)
def test_model_reads_every_earlier_version(model: type[Message]) -> None:
    assert committed_versions(model), "no committed schema"
    assert compatibility_problems(model) == {}


def test_every_message_type_is_unique() -> None:
    types = [m.TYPE for m in ALL_MESSAGES]
    assert len(types) == len(set(types))


# --- the checker itself ------------------------------------------------------------------------


class V1(Message):
    TYPE: ClassVar[str] = "test.thing"
    name: str
    count: int
    note: str | None = None
    colour: Literal["red", "green"] = "red"
    tags: tuple[str, ...] = ()


class RemovedField(Message):
    TYPE: ClassVar[str] = "test.thing"
    name: str
    note: str | None = None
    colour: Literal["red", "green"] = "red"
    tags: tuple[str, ...] = ()


class Renamed(Message):
    TYPE: ClassVar[str] = "test.thing"
    title: str
    count: int
    note: str | None = None
    colour: Literal["red", "green"] = "red"
    tags: tuple[str, ...] = ()


class OptionalMadeRequired(Message):
    TYPE: ClassVar[str] = "test.thing"
    name: str
    count: int
    note: str
    colour: Literal["red", "green"] = "red"
    tags: tuple[str, ...] = ()


class NarrowedType(Message):
    TYPE: ClassVar[str] = "test.thing"
    name: str
    count: Literal[1, 2, 3]
    note: str | None = None
    colour: Literal["red", "green"] = "red"
    tags: tuple[str, ...] = ()


class NarrowedEnum(Message):
    TYPE: ClassVar[str] = "test.thing"
    name: str
    count: int
    note: str | None = None
    colour: Literal["red"] = "red"
    tags: tuple[str, ...] = ()


class NewRequired(Message):
    TYPE: ClassVar[str] = "test.thing"
    name: str
    count: int
    note: str | None = None
    colour: Literal["red", "green"] = "red"
    tags: tuple[str, ...] = ()
    owner: str


class Constrained(Message):
    TYPE: ClassVar[str] = "test.thing"
    name: str = Field(max_length=5)
    count: int = Field(ge=0)
    note: str | None = None
    colour: Literal["red", "green"] = "red"
    tags: tuple[str, ...] = Field(default=(), min_length=1)


class ItemTypeChanged(Message):
    TYPE: ClassVar[str] = "test.thing"
    name: str
    count: int
    note: str | None = None
    colour: Literal["red", "green"] = "red"
    tags: tuple[int, ...] = ()


class NoteNotNullable(Message):
    TYPE: ClassVar[str] = "test.thing"
    name: str
    count: int
    note: str = ""
    colour: Literal["red", "green"] = "red"
    tags: tuple[str, ...] = ()


TagsMadeUnique = create_model("TagsMadeUnique", __base__=V1, tags=(frozenset[str], frozenset()))
CountInSteps = create_model("CountInSteps", __base__=V1, count=(int, Field(multiple_of=5)))


class Compatible(Message):
    """Added an optional field, widened int to float, added an enum value and a null."""

    TYPE: ClassVar[str] = "test.thing"
    name: str
    count: float
    note: str | int | None = None
    colour: Literal["red", "green", "blue"] = "red"
    tags: tuple[str, ...] = ()
    owner: str | None = None


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        (RemovedField, "count: field removed"),
        (Renamed, "name: field removed"),
        (OptionalMadeRequired, "note: optional field made required"),
        (NarrowedType, "count: narrowed to the values"),
        (NarrowedEnum, "colour"),
        (NewRequired, "owner: new required field"),
        (Constrained, "maxLength lowered"),
        (ItemTypeChanged, "tags[]: type 'string' no longer accepted"),
        (NoteNotNullable, "note: a value accepted before"),
        (TagsMadeUnique, "tags: repeated items no longer accepted"),
        (CountInSteps, "count: only multiples of 5"),
    ],
)
def test_checker_rejects_breaking_changes(changed: type[Message], expected: str) -> None:
    problems = backward_problems(generate(V1), generate(changed))
    assert any(expected in p for p in problems), problems


def counts(mapping: Any) -> Schema:
    """The schema of a message whose one field, ``counts``, is a ``mapping`` (``dict[str, X]``)."""
    model = create_model("Counts", __base__=Message, counts=(mapping, Field(default_factory=dict)))
    model.TYPE = "test.counts"
    return generate(model)


def test_checker_reads_the_values_of_a_mapping() -> None:
    narrowed = backward_problems(counts(dict[str, int]), counts(dict[str, bool]))
    assert any("counts{}: type 'integer' no longer accepted" in p for p in narrowed), narrowed
    assert backward_problems(counts(dict[str, object]), counts(dict[str, int])) != []
    assert backward_problems(counts(dict[str, int]), counts(dict[str, float])) == []
    assert backward_problems(counts(dict[str, int]), counts(dict[str, object])) == []


class Tally(BaseModel):
    """A closed object: ``{"a": 1}`` and nothing else."""

    model_config = ConfigDict(extra="forbid")
    a: int = 0


def test_checker_rejects_a_mapping_made_a_closed_object() -> None:
    """``{"b": 2}`` was a valid ``dict[str, int]``; a model that forbids other keys refuses it."""
    problems = backward_problems(counts(dict[str, int]), counts(Tally))
    assert any("counts: keys other than its fields no longer accepted" in p for p in problems), (
        problems
    )
    assert backward_problems(counts(Tally), counts(dict[str, int])) == []


def test_checker_compares_decimal_steps_exactly() -> None:
    """Every multiple of 0.3 is a multiple of 0.1, though ``0.3 % 0.1`` is not 0 in floats."""
    finer = {"type": "number", "multipleOf": 0.1}
    assert backward_problems({"type": "number", "multipleOf": 0.3}, finer) == []
    assert backward_problems({"type": "number", "multipleOf": 0.25}, finer) != []


def test_checker_accepts_compatible_changes() -> None:
    assert backward_problems(generate(V1), generate(Compatible)) == []
    assert backward_problems(generate(V1), generate(V1)) == []


def test_check_is_transitive_over_all_committed_versions(tmp_path: Path) -> None:
    """v3 must read v1 too, not only v2."""
    folder = tmp_path / "test.thing"
    folder.mkdir()
    (folder / "v1.json").write_text(json.dumps(generate(V1)))
    (folder / "v2.json").write_text(json.dumps(generate(Compatible)))

    class V3(Message):
        TYPE: ClassVar[str] = "test.thing"
        VERSION: ClassVar[int] = 3
        name: str
        count: float
        note: str | int | None = None
        colour: Literal["red", "green", "blue"] = "red"
        tags: tuple[int, ...] = ()  # breaks v1 and v2
        owner: str | None = None

    problems = compatibility_problems(V3, tmp_path)
    assert set(problems) == {1, 2}


def test_writer_never_overwrites_a_published_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--write", "--dir", str(tmp_path)]) == 0
    model = ALL_MESSAGES[0]
    path = schema_path(model, root=tmp_path)
    edited = json.loads(path.read_text())
    edited["properties"]["name"]["maxLength"] = 10  # published narrower: compatible, yet differs
    path.write_text(render(edited))
    assert main(["--write", "--dir", str(tmp_path)]) == 1
    assert "a published version never changes" in capsys.readouterr().err
    assert json.loads(path.read_text()) == edited
