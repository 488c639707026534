"""Facts as compact JSON, to hand batches of them from one process to another.

Each fact is an array: its class's number, then its fields in declared order (``orjson`` writes
UUIDs, tuples and datetimes itself; a ``LineFact`` is an array of its fields too). Decoding
turns each field back into its declared type. Pickle would do the same generically, at several
times the cost (it rebuilds each dataclass through its reduce protocol).

The rebuild's reading process leaves the moments of its facts as the ledger's datetimes
(``unformatted``): ``orjson`` writes them in ISO form several times as fast as ``isoformat``
does, which was a sixth of that process's time, and decoding makes the views' form of them.
"""

import dataclasses
import datetime as dt
import operator
import types
import typing
import uuid
from collections.abc import Callable, Sequence
from typing import Any, cast

import orjson

from etawatch.query_api.domain import facts as f
from etawatch.query_api.domain.timefmt import iso

Batch = Sequence[tuple[int, f.Fact | None]]
Convert = Callable[[Any], Any]

CLASSES: tuple[type[f.Fact], ...] = tuple(
    sorted(
        (
            cls
            for cls in vars(f).values()
            if isinstance(cls, type) and issubclass(cls, f.Fact) and cls is not f.Fact
        ),
        key=lambda cls: cls.__name__,
    )
)


def _line(value: list[Any]) -> f.LineFact:
    return f.LineFact(*value)


_LINE_FIELDS = operator.attrgetter(*(field.name for field in dataclasses.fields(f.LineFact)))


def _plain(value: Any) -> Any:
    """A ``LineFact`` as an array of its fields, as the facts themselves are sent."""
    if isinstance(value, f.LineFact):
        return _LINE_FIELDS(value)
    raise TypeError(f"facts cannot carry {type(value).__name__}")


def unformatted(moment: dt.datetime) -> f.Moment:
    """A moment left as the ledger's datetime, for ``encode`` to write (``Translator``'s
    ``moment`` in the reading process; nothing else may see such a fact). Only a UTC one, as
    the ledger's own are: ``orjson`` writes an offset's hours and minutes only (not the seconds
    of a local mean time's, say), so any other is made the views' text here."""
    if moment.tzinfo is dt.UTC:
        return cast(f.Moment, moment)
    return iso(moment)


def _moment(value: str) -> f.Moment:
    """A moment as ``orjson`` writes a UTC one (RFC 3339; no fraction when its microseconds
    are 0) in the views' form, as ``timefmt.iso`` makes it; one in that form already (with a
    fraction, or made so by ``unformatted`` or the ``Translator``) as it is."""
    if len(value) == 32 and value.endswith("+00:00"):
        return value
    return iso(dt.datetime.fromisoformat(value))


_AS_IS = (str, int, bool)
_SIMPLE: dict[Any, Convert] = {
    uuid.UUID: uuid.UUID,
    f.LineFact: _line,
    f.Moment: _moment,
}


def _converter(hint: Any) -> Convert | None:
    """How a field of type ``hint`` comes back from JSON (``None``: as it is). A type it does not
    know fails at import, so a new kind of field cannot come back as a string unnoticed."""
    origin = typing.get_origin(hint)
    if hint in _AS_IS or origin is dict:
        return None
    if hint in _SIMPLE:
        return _SIMPLE[hint]
    if origin is tuple:
        item = _converter(typing.get_args(hint)[0])
        if item is None:
            return tuple
        return lambda value: tuple([item(x) for x in value])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"facts cannot carry {hint}")
        inner = _converter(args[0])
        if inner is None:
            return None
        return lambda value: None if value is None else inner(value)
    raise TypeError(f"facts cannot carry {hint}: say how it comes back from JSON")


@dataclasses.dataclass(frozen=True)
class _Shape:
    cls: type[f.Fact]
    fields: Callable[[f.Fact], tuple[Any, ...]]
    converters: tuple[tuple[int, Convert], ...]


def _shape(cls: type[f.Fact]) -> _Shape:
    names = [field.name for field in dataclasses.fields(cls)]
    hints = typing.get_type_hints(cls, include_extras=True)
    converters = tuple(
        (i, convert)
        for i, name in enumerate(names)
        if (convert := _converter(hints[name])) is not None
    )
    return _Shape(cls, operator.attrgetter(*names), converters)


_SHAPES = [_shape(cls) for cls in CLASSES]
_NUMBER = {cls: n for n, cls in enumerate(CLASSES)}


def encode(batch: Batch) -> bytes:
    """``[[seq, [class number, *fields]], ...]``; a position without a fact is ``[seq, null]``."""
    shapes, number = _SHAPES, _NUMBER
    return orjson.dumps(
        [
            (seq, None)
            if fact is None
            else (seq, (n := number[type(fact)], *shapes[n].fields(fact)))
            for seq, fact in batch
        ],
        default=_plain,
        option=orjson.OPT_PASSTHROUGH_DATACLASS,
    )


def decode(data: bytes) -> list[tuple[int, f.Fact | None]]:
    shapes = _SHAPES
    batch: list[tuple[int, f.Fact | None]] = []
    for seq, encoded in orjson.loads(data):
        if encoded is None:
            batch.append((seq, None))
            continue
        shape = shapes[encoded[0]]
        values = encoded[1:]
        for i, convert in shape.converters:
            values[i] = convert(values[i])
        batch.append((seq, shape.cls(*values)))
    return batch
