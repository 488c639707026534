import datetime as dt
import json
import uuid
from typing import Any

import pytest

from etawatch.contracts import ids
from etawatch.contracts.availability import Availability
from etawatch.contracts.envelope import (
    UPCASTERS,
    EnvelopeError,
    open_as,
    open_envelope,
    to_json,
    wrap,
)
from etawatch.contracts.eta import parse_eta
from etawatch.contracts.messages import (
    CloseReason,
    ItemAvailabilityObserved,
    OrderClosed,
    OrderPlaced,
)

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
RUN = uuid.UUID("00000000-0000-0000-0000-000000000001")


def observation(sku: str = "FIG-1") -> ItemAvailabilityObserved:
    return ItemAvailabilityObserved(
        run_id=RUN,
        supplier="acme",
        sku=sku,
        name="Figure",
        availability=Availability.PRE_ORDER,
        availability_raw="Předobjednávka",
        eta=parse_eta("Q2 2027", NOW.date()),
        observed_at=NOW,
        position=0,
    )


def test_round_trip_keeps_every_attribute() -> None:
    message = observation()
    envelope = wrap(
        message,
        id=ids.observation_id(RUN, "acme", "FIG-1"),
        source="/etawatch/scraper/acme",
        subject="acme/FIG-1",
        correlation_id=str(RUN),
        time=NOW,
    )
    body = json.loads(to_json(envelope))
    assert body["specversion"] == "1.0"
    assert body["type"] == "etawatch.item.availability-observed.v1"
    assert body["dataschema"].endswith("/etawatch.item.availability-observed/v1.json")
    back = open_as(to_json(envelope), ItemAvailabilityObserved)
    assert back == envelope
    assert back.data.eta.precision == "quarter"


def test_ids_are_deterministic_where_a_fact_can_be_sent_twice() -> None:
    assert ids.observation_id(RUN, "acme", "A") == ids.observation_id(RUN, "acme", "A")
    assert ids.observation_id(RUN, "acme", "A") != ids.observation_id(RUN, "acme", "B")
    assert ids.order_command_id("1001", "placed") != ids.order_command_id("1001", "closed")
    assert ids.notification_id(["b", "a", "a"]) == ids.notification_id(["a", "b"])
    assert ids.item_id("acme", "A") != ids.item_id("other", "A")


def body_of(**changes: Any) -> dict[str, Any]:
    envelope = wrap(observation(), id="x", source="/test", time=NOW)
    body: dict[str, Any] = json.loads(to_json(envelope))
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (json.dumps({"data": {}}).encode(), "no 'type'"),
        (json.dumps(body_of(type="etawatch.item.availability-observed")), "no version suffix"),
        (json.dumps(body_of(type="etawatch.nope.v1")), "unknown message type"),
        (json.dumps(body_of(type="etawatch.item.availability-observed.v9")), "newer than"),
        (json.dumps(body_of(data="x")), "no 'data' object"),
        (json.dumps(body_of(surprise=1)), "surprise: Extra inputs are not permitted"),
        (
            json.dumps(body_of(data={**body_of()["data"], "availability": "maybe"})),
            "data.availability",
        ),
        (json.dumps(body_of(time="yesterday")), "time"),
    ],
)
def test_bad_messages_are_refused_with_a_reason(body: bytes | str, reason: str) -> None:
    with pytest.raises(EnvelopeError, match=reason):
        open_envelope(body)


def test_open_as_refuses_another_type() -> None:
    body = to_json(wrap(observation(), id="x", source="/test"))
    with pytest.raises(EnvelopeError, match=r"expected etawatch\.order\.placed"):
        open_as(body, OrderPlaced)


def test_old_versions_are_upcast(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend OrderClosed is at v2, where v1 said ``cancelled: bool`` instead of a reason."""
    v1_body = {
        "specversion": "1.0",
        "id": "c1",
        "source": "/shop",
        "type": "etawatch.order.closed.v1",
        "time": NOW.isoformat(),
        "dataschema": "https://etawatch.dev/schemas/etawatch.order.closed/v1.json",
        "data": {"shop_order_id": "1001", "closed_at": NOW.isoformat(), "cancelled": True},
    }

    def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        cancelled = data.pop("cancelled")
        return {**data, "reason": "cancelled" if cancelled else "fulfilled"}

    monkeypatch.setattr(OrderClosed, "VERSION", 2)
    monkeypatch.setitem(UPCASTERS, ("etawatch.order.closed", 1), v1_to_v2)
    envelope = open_as(json.dumps(v1_body), OrderClosed)
    assert envelope.data.reason is CloseReason.CANCELLED
    assert envelope.type == "etawatch.order.closed.v2"


def test_missing_upcaster_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(OrderClosed, "VERSION", 2)
    body = wrap(
        OrderClosed(shop_order_id="1", closed_at=NOW, reason=CloseReason.FULFILLED),
        id="x",
        source="/t",
    ).model_dump(mode="json")
    body["type"] = "etawatch.order.closed.v1"
    with pytest.raises(EnvelopeError, match=r"no upcaster from etawatch\.order\.closed v1"):
        open_envelope(body)
