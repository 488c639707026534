"""A sample change of every kind, for ``etawatch-notifier preview`` and for trying templates."""

import datetime as dt
import uuid

from etawatch.contracts.availability import Availability
from etawatch.contracts.eta import parse_eta
from etawatch.contracts.messages import ChangeKind
from etawatch.notifier.domain.model import Digest, ItemNotice, ItemState, Recipient

TODAY = dt.date(2026, 11, 28)
_PRE = Availability.PRE_ORDER

SAMPLE_STATES: dict[ChangeKind, tuple[ItemState, ItemState, int | None]] = {
    ChangeKind.DISCONTINUED: (
        ItemState(_PRE, parse_eta("Q2 2027", TODAY)),
        ItemState(Availability.DISCONTINUED, parse_eta("", TODAY)),
        None,
    ),
    ChangeKind.SOLD_OUT: (
        ItemState(_PRE, parse_eta("03/2027", TODAY)),
        ItemState(Availability.SOLD_OUT, parse_eta("", TODAY)),
        None,
    ),
    ChangeKind.IN_STOCK: (
        ItemState(_PRE, parse_eta("15. 3. 2027", TODAY)),
        ItemState(Availability.IN_STOCK, parse_eta("skladem", TODAY)),
        None,
    ),
    ChangeKind.ETA_LATER: (
        ItemState(_PRE, parse_eta("15. 3. 2027", TODAY)),
        ItemState(Availability.DELAYED, parse_eta("Q2 2027", TODAY)),
        107,
    ),
    ChangeKind.ETA_EARLIER: (
        ItemState(_PRE, parse_eta("2. pololetí 2027", TODAY)),
        ItemState(_PRE, parse_eta("týden 12 2027", TODAY)),
        -260,
    ),
    ChangeKind.ETA_KNOWN: (
        ItemState(_PRE, parse_eta("TBA", TODAY)),
        ItemState(_PRE, parse_eta("2027", TODAY)),
        None,
    ),
    ChangeKind.ETA_UNKNOWN: (
        ItemState(_PRE, parse_eta("03/2027", TODAY)),
        ItemState(_PRE, parse_eta("TBA", TODAY)),
        None,
    ),
    ChangeKind.AVAILABILITY_CHANGED: (
        ItemState(_PRE, parse_eta("Q2 2027", TODAY)),
        ItemState(Availability.DELAYED, parse_eta("Q2 2027", TODAY)),
        None,
    ),
}


def sample_digest(kinds: list[ChangeKind], locale: str = "cs") -> Digest:
    items = []
    for number, kind in enumerate(kinds, start=1):
        before, after, shift = SAMPLE_STATES[kind]
        items.append(
            ItemNotice(
                supplier="acme",
                sku=f"FIG-{number:03}",
                item_name=f"Figurka {number} ({kind.value})",
                quantity=1,
                kind=kind,
                before=before,
                after=after,
                shift_days=shift,
                change_ids=(str(uuid.UUID(int=number)),),
            )
        )
    return Digest(
        shop_order_id="2026-000123",
        recipient=Recipient("customer-1", "jana@example.com", "Jana Nováková", locale),
        items=tuple(items),
        queued_at=dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC),
    )
