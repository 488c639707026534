"""Facts handed between processes come back equal, field by field, in their declared types."""

import dataclasses
import typing
import uuid
from typing import Any

import pytest

from etawatch.query_api.adapters.fact_codec import CLASSES, decode, encode
from etawatch.query_api.domain import facts as f

ETA = {"raw": "03/2027", "earliest": "2027-03-01", "latest": "2027-03-31", "precision": "month"}


def _value(hint: Any, n: int) -> Any:
    """A value of the field's type; optional fields get ``None`` for odd ``n``."""
    args = typing.get_args(hint)
    if type(None) in args:
        return None if n % 2 else _value(next(a for a in args if a is not type(None)), n)
    if hint is uuid.UUID:
        return uuid.UUID(int=n + 1)
    if hint is str:
        return f"Zákazník {n}"
    if hint is int:
        return n + 7
    if hint == dict[str, Any]:
        return ETA
    if hint is f.LineFact:
        return f.LineFact("acme", "S3", "Figur", 3)
    if hint == tuple[f.LineFact, ...]:
        return (f.LineFact("acme", "S1", "Figur 1/7", 2), f.LineFact("acme", "S2", "x", 1))
    if hint == tuple[str, ...]:
        return ("c-1", "c-2")
    raise AssertionError(f"no example for {hint}")


def example(cls: type[f.Fact], n: int) -> f.Fact:
    hints = typing.get_type_hints(cls)
    return cls(**{fld.name: _value(hints[fld.name], n) for fld in dataclasses.fields(cls)})


@pytest.mark.parametrize("n", [0, 1])
def test_every_fact_comes_back_equal_with_its_fields_typed(n: int) -> None:
    batch: list[tuple[int, f.Fact | None]] = [
        (i, example(cls, n)) for i, cls in enumerate(CLASSES, start=1)
    ]
    batch.append((len(batch) + 1, None))  # a position no view uses
    back = decode(encode(batch))
    assert back == batch
    for (_, sent), (_, got) in zip(batch, back, strict=True):
        if sent is None:
            continue
        for fld in dataclasses.fields(sent):
            assert type(getattr(got, fld.name)) is type(getattr(sent, fld.name)), fld.name


def test_every_fact_class_is_known() -> None:
    kinds = {
        cls
        for cls in vars(f).values()
        if isinstance(cls, type) and issubclass(cls, f.Fact) and cls is not f.Fact
    }
    assert set(CLASSES) == kinds
    assert len(kinds) > 10
