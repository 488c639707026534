"""Did every real change reach each affected customer once, and nothing else?

The portal's ground truth says which items really changed between two successful scrapes (a
re-wording, a flap folded within the period, a new or vanished row is no change). The captured
``ETAChanged`` and ``CustomerNotified`` messages say which order lines were told. Both are
reduced to ``(shop order id, sku)`` pairs per period and compared as multisets.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from etawatch.contracts.messages import CustomerNotified, ETAChanged

Line = tuple[str, str]
"""``(shop_order_id, sku)``."""


@dataclass(frozen=True)
class OrderBook:
    """Which open orders hold which skus."""

    lines: Mapping[str, frozenset[str]]
    """sku -> shop order ids of open orders holding it."""

    @classmethod
    def of(cls, orders: Iterable[tuple[str, Iterable[str]]]) -> "OrderBook":
        book: dict[str, set[str]] = {}
        for shop_order_id, skus in orders:
            for sku in skus:
                book.setdefault(sku, set()).add(shop_order_id)
        return cls({sku: frozenset(ids) for sku, ids in book.items()})

    def affected(self, skus: Iterable[str]) -> Counter[Line]:
        return Counter((order, sku) for sku in skus for order in self.lines.get(sku, ()))


@dataclass
class Verdict:
    expected: Counter[Line] = field(default_factory=Counter)
    told: Counter[Line] = field(default_factory=Counter)
    emails: int = 0

    @property
    def missing(self) -> Counter[Line]:
        return self.expected - self.told

    @property
    def unexpected(self) -> Counter[Line]:
        return self.told - self.expected

    @property
    def ok(self) -> bool:
        return not self.missing and not self.unexpected

    def add(self, other: "Verdict") -> None:
        self.expected += other.expected
        self.told += other.told
        self.emails += other.emails


def told_lines(
    notified: Iterable[CustomerNotified], changes: Mapping[str, ETAChanged]
) -> Counter[Line]:
    """The order lines the sent emails covered (each change id resolved to its order line)."""
    told: Counter[Line] = Counter()
    for notification in notified:
        lines = set()
        for change_id in notification.change_ids:
            change = changes.get(change_id)
            if change is None:
                lines.add((notification.shop_order_id, f"<unknown change {change_id}>"))
            else:
                lines.add((change.shop_order_id, change.sku))
        told.update(lines)  # one email tells each line once, however many changes it folded
    return told


def judge(
    changed_skus: Iterable[str],
    book: OrderBook,
    notified: Iterable[CustomerNotified],
    changes: Mapping[str, ETAChanged],
) -> Verdict:
    notified = list(notified)
    return Verdict(
        expected=book.affected(set(changed_skus)),
        told=told_lines(notified, changes),
        emails=len(notified),
    )
