"""Facts handed between processes come back equal, field by field, in their declared types."""

import dataclasses
import datetime as dt
import typing
import uuid
import zoneinfo
from typing import Any

import pytest

from etawatch.query_api.adapters.fact_codec import CLASSES, decode, encode, unformatted
from etawatch.query_api.domain import facts as f
from etawatch.query_api.domain.timefmt import iso

ETA = {"raw": "03/2027", "earliest": "2027-03-01", "latest": "2027-03-31", "precision": "month"}


def _value(hint: Any, n: int) -> Any:
    """A value of the field's type; optional fields get ``None`` for odd ``n``."""
    args = typing.get_args(hint)
    if type(None) in args:
        return None if n % 2 else _value(next(a for a in args if a is not type(None)), n)
    if hint == f.Moment:
        return f"2026-11-{n + 1:02d}T06:28:32.35966{n}+00:00"
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
    hints = typing.get_type_hints(cls, include_extras=True)
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


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2026, 11, 29, 6, 28, 32, 359667, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 29, 6, 28, 32, tzinfo=dt.UTC),  # written without a fraction
        dt.datetime(2026, 11, 29, 8, 28, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.datetime(2026, 11, 29, 6, 28, 32, 5),  # noqa: DTZ001 - no zone: UTC, as ``iso`` takes it
        dt.datetime(999, 1, 2, 3, 4, 5, tzinfo=dt.UTC),  # a year of three digits
        # An offset in seconds (a local mean time's, as zoneinfo gives before 1891 in Prague):
        # orjson writes its hours and minutes only.
        dt.datetime(2026, 11, 29, 6, 28, tzinfo=dt.timezone(dt.timedelta(seconds=3464))),
        dt.datetime(1890, 1, 1, 12, tzinfo=zoneinfo.ZoneInfo("Europe/Prague")),
    ],
)
def test_moments_left_as_datetimes_come_back_as_the_views_text(moment: dt.datetime) -> None:
    """The reading process leaves moments as the ledger's datetimes for ``orjson`` to write;
    they come back in the form ``iso`` gives the same datetime, in the fields that hold one
    (required and optional)."""
    run = f.RunSucceeded(
        seq=1,
        at=unformatted(moment),
        run_id=uuid.UUID(int=1),
        supplier="acme",
        finished_at=unformatted(moment),
        started_at=unformatted(moment),
    )
    ((_, back),) = decode(encode([(1, run)]))
    assert isinstance(back, f.RunSucceeded)
    assert back.at == back.finished_at == back.started_at == iso(moment)
    assert len(iso(moment)) == 32
