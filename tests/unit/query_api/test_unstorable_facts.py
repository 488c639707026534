"""Which facts no view could hold: a NUL character in a text kept as a key or column."""

import uuid

import pytest

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
        (_order(customer_id="\x00"), "customer_id"),
        (
            _order(lines=(LINE, f.LineFact("acme", "S\x00", "F", 1))),
            "lines.sku",
        ),
        (_order(lines=(f.LineFact("a\x00", "S1", "F", 1),)), "lines.supplier"),
        (f.OrderLineAdded(1, AT, "A-1", f.LineFact("acme", "S\x002", "F", 1)), "lines.sku"),
        (f.OrderEnded(1, AT, "A-1", "fulfilled\x00", AT), "reason"),
        (f.RunNotCompared(1, AT, uuid.UUID(int=1), "acme\x00", 0, "partial"), "supplier"),
    ],
)
def test_a_nul_in_a_key_or_column_is_named(fact: f.Fact, field: str) -> None:
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
