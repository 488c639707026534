"""Order commands: deterministic ids; and the CSV import that sends nothing when a row is bad."""

import datetime as dt

from etawatch.contracts.envelope import open_as
from etawatch.contracts.ids import order_command_id
from etawatch.contracts.messages import OrderClosed, OrderLine, OrderPlaced
from etawatch.contracts.topology import LEDGER_ORDERS
from etawatch.query_api.application.commands import close_order, place_order
from etawatch.query_api.application.import_orders import parse_orders, publish_orders
from etawatch.runtime.bus import InMemoryBus

T0 = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
HEADER = "shop_order_id,placed_at,customer_id,email,customer_name,locale,supplier,sku,name,quantity"


def order(shop_order_id: str = "A-1") -> OrderPlaced:
    return OrderPlaced(
        shop_order_id=shop_order_id,
        placed_at=T0,
        customer_id="c1",
        email="jana@example.com",
        customer_name="Jana",
        lines=(OrderLine(supplier="acme", sku="S1", name="Figure", quantity=1),),
    )


async def test_the_same_order_sent_twice_carries_the_same_command_id() -> None:
    bus = InMemoryBus([LEDGER_ORDERS])
    seen: list[str] = []

    async def keep(envelope: object) -> None:
        seen.append(open_as(envelope.model_dump(mode="json"), OrderPlaced).id)  # type: ignore[attr-defined]

    bus.consume(LEDGER_ORDERS.name, keep)
    first = await place_order(bus, order())
    again = await place_order(bus, order(), now=T0 + dt.timedelta(hours=1))
    await bus.drain()
    assert first == again
    assert seen == [str(order_command_id("A-1", "placed"))] * 2


async def test_a_close_command_has_its_own_id() -> None:
    bus = InMemoryBus([LEDGER_ORDERS])
    closed = await close_order(
        bus,
        OrderClosed(shop_order_id="A-1", closed_at=T0, reason="cancelled"),  # type: ignore[arg-type]
    )
    assert closed.command_id == order_command_id("A-1", "closed")
    assert bus.pending() == 1


async def test_a_good_file_is_grouped_into_orders_and_sent() -> None:
    text = [
        HEADER,
        "A-1,2026-11-01T10:00:00+01:00,c1,jana@example.com,Jana,cs,acme,S1,Figure 1,2",
        "A-1,2026-11-01T10:00:00+01:00,c1,jana@example.com,Jana,cs,acme,S2,Figure 2,1",
        "A-2,2026-11-02T10:00:00+00:00,c2,petr@example.com,Petr,en,acme,S1,Figure 1,1",
    ]
    parsed = parse_orders(text)
    assert parsed.errors == []
    assert [(o.shop_order_id, len(o.lines)) for o in parsed.orders] == [("A-1", 2), ("A-2", 1)]
    bus = InMemoryBus([LEDGER_ORDERS])
    assert await publish_orders(bus, parsed.orders) == 2
    assert bus.pending() == 2


def test_every_bad_row_is_named_and_nothing_is_sent() -> None:
    text = [
        HEADER,
        "A-1,2026-11-01T10:00:00+01:00,c1,jana@example.com,Jana,cs,acme,S1,Figure,2",
        "A-1,2026-11-01T10:00:00+01:00,c9,jana@example.com,Jana,cs,acme,S2,Figure,1",
        "A-2,2026-11-01T10:00:00+01:00,c2,jana@example.com,Jana,cs,ACME!,S1,Figure,1",
        "A-3,2026-11-01T10:00:00+01:00,c3,jana@example.com,Jana,cs,acme,S1,Figure,many",
        "A-4,yesterday,c4,jana@example.com,Jana,cs,acme,S1,Figure,1",
        "A-5,2026-11-01T10:00:00,c5,not-an-address,Jana,cs,acme,S1,Figure,1",
        ",2026-11-01T10:00:00+01:00,c6,x@example.com,Jana,cs,acme,S1,Figure,1",
        "A-7,2026-11-01T10:00:00+01:00,c7,x@example.com,Jana,cs,acme,S1,Figure,1,extra",
        "A-8,2026-11-01T10:00:00+01:00,c8\x00,x@example.com,Jana,cs,acme,S1\x00,Figure,1",
    ]
    parsed = parse_orders(text)
    joined = "\n".join(parsed.errors)
    assert "line 3: order 'A-1' differs from its line 2" in joined
    assert "line 4: supplier" in joined
    assert "line 5: quantity: not a whole number" in joined
    assert "line 6: order 'A-4': placed_at is not an ISO date-time" in joined
    assert "line 7: order 'A-5'" in joined and "email" in joined and "placed_at" in joined
    assert "line 8: shop_order_id is empty" in joined
    assert "line 9: more cells than columns" in joined
    assert (
        "line 10: order 'A-8': a NUL character is not allowed (customer_id, lines[1].sku)" in joined
    )


def test_a_file_without_the_columns_says_which_are_missing() -> None:
    parsed = parse_orders(["shop_order_id,sku", "A-1,S1"])
    assert parsed.orders == []
    assert parsed.errors[0].startswith("line 1: missing columns: placed_at")
