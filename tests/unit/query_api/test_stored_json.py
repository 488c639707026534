"""``OrjsonTranscoder`` reads what the library's ``JSONTranscoder`` wrote exactly as the library
reads it: the same values, of the same types, and the same errors."""

import datetime as dt
import decimal
import math
import uuid
from typing import Any

import orjson
import pytest
from eventsourcing.persistence import JSONTranscoder, Transcoding, TranscodingNotRegisteredError
from hypothesis import given
from hypothesis import strategies as st

from etawatch.ledger.application.store import LedgerStore, open_read_only
from etawatch.query_api.adapters.stored_json import LedgerReader, OrjsonTranscoder

MOMENT = dt.datetime(2026, 11, 29, 6, 28, 32, 359660, tzinfo=dt.UTC)


class Point:
    def __init__(self, x: Any, y: Any) -> None:
        self.x, self.y = x, y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

    __hash__ = None  # type: ignore[assignment]


class PointAsDict(Transcoding):
    """A transcoding whose data is itself an object holding typed values: the library decodes
    those first (innermost first), then hands the object over."""

    type = Point
    name = "point"

    def encode(self, obj: Point) -> dict[str, Any]:
        return {"x": obj.x, "y": obj.y}

    def decode(self, data: dict[str, Any]) -> Point:
        return Point(data["x"], data["y"])


def _pair() -> tuple[JSONTranscoder, OrjsonTranscoder]:
    library, ours = JSONTranscoder(), OrjsonTranscoder()
    for transcoder in (library, ours):
        LedgerStore.register_transcodings(None, transcoder)  # type: ignore[arg-type]
        transcoder.register(PointAsDict())
    return library, ours


def _same(a: Any, b: Any) -> None:
    """Equal, and of the same types all the way down (``1 == 1.0``, ``True == 1``)."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _same(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def _decoded_alike(data: bytes) -> Any:
    """What the library decodes, decoded alike; what it refuses, refused with the same error."""
    library, ours = _pair()
    try:
        expected = library.decode(data)
    except Exception as exc:
        refused = exc
    else:
        found = ours.decode(data)
        _same(expected, found)
        return found
    with pytest.raises(type(refused)) as found_error:
        ours.decode(data)
    assert str(found_error.value) == str(refused)
    return refused


EVENTS: list[Any] = [
    # typed values as the event's own fields: the quick way
    {"timestamp": MOMENT, "run_id": uuid.UUID(int=7), "sku": "S1", "quantity": 2},
    # ... and deeper down: in lists, in objects, in lists of objects, in a typed value's data
    {"timestamp": MOMENT, "lines": [{"sku": "S1", "at": MOMENT}], "ids": [uuid.UUID(int=1)]},
    {"eta": {"latest": "2027-03-31", "seen": {"at": MOMENT}}, "timestamp": MOMENT},
    {"timestamp": MOMENT, "where": Point(uuid.UUID(int=3), [MOMENT, decimal.Decimal("1.50")])},
    {"nested": [[[MOMENT]], [], {}], "empty": {}, "none": None},
    # "_type_" that is no typed value: in a text, as a key among three, as a value
    {"timestamp": MOMENT, "name": 'a "_type_" in a name', "n": 1},
    {"timestamp": MOMENT, "odd": {"_type_": "uuid_hex", "_data_": "x", "more": 1}},
    {"timestamp": MOMENT, "odd": {"_type_": "uuid_hex"}},
    {"timestamp": MOMENT, "odd": {"_type_": "_type_", "_data_x": 1}},
    # escapes, non-ASCII, numbers of every kind JSON has
    {"timestamp": MOMENT, "text": 'tab\t quote" \\ \u0001 Předobjednávka 🦖', "f": 1.5, "b": True},
    {"no": "typed value at all", "n": -3, "big": 2**63 - 1},
    # not an object at the top
    [MOMENT, {"at": MOMENT}],
    MOMENT,
    "plain",
    7,
]


@pytest.mark.parametrize("event", EVENTS, ids=range(len(EVENTS)))
def test_decodes_what_the_library_wrote_as_the_library_does(event: Any) -> None:
    library, _ = _pair()
    _decoded_alike(library.encode(event))


def test_a_typed_value_spelled_with_escapes_is_found() -> None:
    """The library writes ``_type_`` as it is, but JSON may spell it with escapes."""
    data = (
        b'{"a": 1, "t": {"\\u005ftype_": "uuid_hex", "_data_": "'
        + uuid.UUID(int=5).hex.encode()
        + b'"}}'
    )
    found = _decoded_alike(data)
    assert found["t"] == uuid.UUID(int=5)


def test_a_typed_value_as_the_whole_state() -> None:
    found = _decoded_alike(
        b'{"_type_": "uuid_hex", "_data_": "' + uuid.UUID(int=9).hex.encode() + b'"}'
    )
    assert found == uuid.UUID(int=9)


@pytest.mark.parametrize(
    "data",
    [
        b'{"at": {"_type_": "datetime_iso", "_data_": "2026-11-29T06:28:32+00:00"}, "x": NaN}',
        b'{"big": 123456789012345678901234567890, "n": 1}',
        b'{"big": 18446744073709551616}',
        b'{"small": -9223372036854775809}',
        b'{"lone": "\\ud800", "n": 1}',
        b'{"inf": Infinity}',
    ],
    ids=["nan", "beyond-64-bits", "2**64", "-2**63-1", "lone-surrogate", "infinity"],
)
def test_what_orjson_refuses_or_reads_otherwise_is_read_by_the_library(data: bytes) -> None:
    library, _ = _pair()
    try:
        differs = repr(orjson.loads(data)) != repr(library.decode(data))  # 2**64 == 2.0**64
    except orjson.JSONDecodeError:
        differs = True
    assert differs  # each case is one where orjson alone would not do
    _decoded_alike(data)


@pytest.mark.parametrize(
    "data",
    [
        b'{"timestamp": {"_type_": "no_such_type", "_data_": "x"}}',
        b'{"deep": [{"_type_": "no_such_type", "_data_": "x"}]}',
    ],
)
def test_an_unregistered_type_is_refused_alike(data: bytes) -> None:
    assert isinstance(_decoded_alike(data), TranscodingNotRegisteredError)


@pytest.mark.parametrize("data", [b"", b"{", b'{"a": }', b"\xff\xfe", b'{"a": 1} x'])
def test_not_json_is_refused_alike(data: bytes) -> None:
    assert isinstance(_decoded_alike(data), ValueError)


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["_type_", "_data_", '"_type_"', "uuid_hex"])
    | st.datetimes(timezones=st.just(dt.UTC))
    | st.uuids()
    | st.decimals(allow_nan=False, allow_infinity=False, places=3)
)
_KEYS = st.text(max_size=6) | st.sampled_from(["_type_", "_data_", "timestamp"])
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(_KEYS, _VALUES, max_size=8))
def test_any_state_the_library_writes_reads_back_alike(state: dict[str, Any]) -> None:
    library, _ = _pair()
    _decoded_alike(library.encode(state))


def test_the_reader_is_the_ledger_store_under_the_ledger_s_name(tmp_path: Any) -> None:
    """The library names an application after its class: its tables, the views' tracking
    records and the settings' prefix would all change with the name."""
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "l.db")}
    LedgerStore(env=env).close()  # the ledger makes the tables; readers never do
    reader = open_read_only(env, LedgerReader)
    try:
        assert reader.name == LedgerStore.name == "Ledger"
        assert type(reader.mapper.transcoder) is OrjsonTranscoder
        assert set(reader.mapper.transcoder.names) >= {"uuid_hex", "datetime_iso", "decimal_str"}
    finally:
        reader.close()


@pytest.mark.parametrize(
    "data",
    [
        b'{"a": {"b": {"_type_": "nope1", "_data_": 1}}, "c": {"_type_": "nope2", "_data_": 2}}',
        b'{"a": [{"_type_": "uuid_hex", "_data_": "bad"}], '
        b'"b": {"_type_": "datetime_iso", "_data_": "bad"}}',
        b'{"a": {"_type_": "uuid_hex", "_data_": "bad"}, "b": {"_type_": "nope", "_data_": 1}}',
    ],
)
def test_of_several_bad_typed_values_the_library_s_first_is_the_error(data: bytes) -> None:
    """The library fails on the first in the order it reads them, innermost first."""
    assert isinstance(_decoded_alike(data), Exception)


def test_a_transcoder_chosen_for_the_ledger_is_kept(tmp_path: Any) -> None:
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(tmp_path / "l.db"),
        "TRANSCODER_TOPIC": f"{__name__}:OtherTranscoder",
    }
    LedgerStore(env=env).close()
    reader = open_read_only(env, LedgerReader)
    try:
        assert type(reader.mapper.transcoder) is OtherTranscoder
    finally:
        reader.close()


class OtherTranscoder(JSONTranscoder):
    """A transcoder a deployment could choose for the ledger's events."""
