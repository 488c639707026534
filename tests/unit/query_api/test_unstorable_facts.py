"""Which facts no view could hold (a NUL character in a key), and which it holds with the NUL of
a column shown as U+FFFD."""

import datetime as dt
import uuid

import pytest
import structlog

from etawatch.ledger.domain.item import SupplierItem
from etawatch.query_api.adapters.ledger_events import LEFT_OUT, Translator
from etawatch.query_api.domain import facts as f

AT = "2026-11-29T06:28:32.359660+00:00"
LINE = f.LineFact("acme", "S1", "Figure", 1)
ETA = {"raw": "03/2027", "earliest": "2027-03-01", "latest": "2027-03-31", "precision": "month"}


def _order(**changes: object) -> f.OrderOpened:
    fields: dict[str, object] = {
        "seq": 1,
        "at": AT,
        "shop_order_id": "A-1",
        "customer_id": "c-1",
        "customer_name": "Jana",
        "locale": "cs",
        "placed_at": AT,
        "lines": (f.LineFact("acme", "S1", "Figure", 1),),
    }
    return f.OrderOpened(**{**fields, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fact", "field"),
    [
        (f.ItemBaselined(1, AT, "acme", "S\x001", "Figure", "pre_order", "x", ETA), "sku"),
        (f.ItemWentMissing(1, AT, "ac\x00me", "S1"), "supplier"),
        (_order(shop_order_id="A\x001"), "shop_order_id"),
        (
            _order(lines=(LINE, f.LineFact("acme", "S\x00", "F", 1))),
            "lines.sku",
        ),
        (_order(lines=(f.LineFact("a\x00", "S1", "F", 1),)), "lines.supplier"),
        (f.OrderLineAdded(1, AT, "A-1", f.LineFact("acme", "S\x002", "F", 1)), "lines.sku"),
        (f.RunNotCompared(1, AT, uuid.UUID(int=1), "acme\x00", 0, "partial"), "supplier"),
    ],
)
def test_a_nul_in_a_key_is_named(fact: f.Fact, field: str) -> None:
    assert f.unstorable(fact) == field


@pytest.mark.parametrize(
    "fact",
    [
        _order(),
        _order(customer_name="Ja\x00na", lines=(f.LineFact("acme", "S1", "Fig\x00ure", 1),)),
        f.ItemBaselined(1, AT, "acme", "S1", "Fig\x00ure", "pre_order", "P\x00", ETA),
        f.RunFailed(1, AT, uuid.UUID(int=1), "acme", "login\x00", "no\x00", AT),
        f.CustomerWasNotified(1, AT, "A-1", "n-1", "email", "Zm\x00ěna", AT),
    ],
)
def test_a_nul_inside_a_document_is_kept(fact: f.Fact) -> None:
    assert f.unstorable(fact) is None
    assert f.storable_columns(fact) == (fact, ())


def test_a_nul_in_a_column_is_shown_as_the_replacement_character() -> None:
    order = _order(customer_id="c\x001\x00", customer_name="Ja\x00na")
    shown, fields = f.storable_columns(order)
    assert fields == ("customer_id",)
    assert (shown.customer_id, shown.customer_name) == ("c\ufffd1\ufffd", "Ja\x00na")
    assert f.unstorable(order) is None and order.customer_id == "c\x001\x00"  # not changed
    ended = f.OrderEnded(1, AT, "A-1", "fulfilled\x00", AT)  # its reason is the status column
    shown_end = f.OrderEnded(1, AT, "A-1", "fulfilled\ufffd", AT)
    assert f.storable_columns(ended) == (shown_end, ("reason",))


def test_an_event_left_out_is_counted_and_logged_once() -> None:
    """A projector reads a batch again after a failed commit, or when one view stopped short of
    the others; answers ``as_of`` a moment translate with positions of their own."""
    item = SupplierItem(
        supplier="acme",
        sku="S\x001",
        name="Figure",
        availability="pre_order",
        availability_raw="Předobjednávka",
        eta=ETA,
        observed_at=dt.datetime(2026, 11, 29, tzinfo=dt.UTC),
        run_id=uuid.UUID(int=1),
        observation_id=uuid.UUID(int=2),
    )
    (event,) = item.collect_events()
    translator = Translator(lambda _: None)
    with structlog.testing.capture_logs() as logged:
        assert translator.translate(event, 5) is None
        assert translator.translate(event, 5) is None  # read again
        assert Translator(lambda _: None, reporting=False).translate(event, 1) is None
    assert translator.left_out == 1
    assert [(x["event"], x["position"], x["field"]) for x in logged] == [(LEFT_OUT, 5, "sku")]
