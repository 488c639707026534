"""The demo's `--exit` check: every real change reached each affected order line once, and
nothing else was sent. A check that cannot fail would make the end-to-end tests prove nothing."""

import uuid
from collections import Counter

from etawatch_testing.notifier import NOW, change

from etawatch.allinone.verify import OrderBook, judge
from etawatch.contracts.messages import CustomerNotified, ETAChanged

BOOK = OrderBook.of([("A-1", ["FK-1", "FK-2"]), ("B-2", ["FK-2"]), ("C-3", ["FK-9"])])
CHANGES: dict[str, ETAChanged] = {
    envelope.id: envelope.data
    for envelope in (
        change(order=order, sku=sku, change_id=f"{order}/{sku}/{n}")
        for order, sku, n in [
            ("A-1", "FK-1", 1),
            ("A-1", "FK-1", 2),
            ("A-1", "FK-2", 1),
            ("B-2", "FK-2", 1),
            ("C-3", "FK-9", 1),
        ]
    )
}


def told(order: str, *change_ids: str) -> CustomerNotified:
    return CustomerNotified(
        notification_id=uuid.uuid4(),
        shop_order_id=order,
        customer_id=f"customer-{order}",
        email="jana@example.com",
        locale="cs",
        subject=f"order {order}",
        message_id=f"<{uuid.uuid4()}@shop.example>",
        sent_at=NOW,
        change_ids=change_ids,
    )


def test_each_affected_line_told_once_is_ok_and_one_email_may_fold_changes() -> None:
    verdict = judge(
        ["FK-1", "FK-2"],
        BOOK,
        [told("A-1", "A-1/FK-1/1", "A-1/FK-1/2", "A-1/FK-2/1"), told("B-2", "B-2/FK-2/1")],
        CHANGES,
    )
    assert verdict.ok and verdict.emails == 2
    assert verdict.expected == Counter({("A-1", "FK-1"): 1, ("A-1", "FK-2"): 1, ("B-2", "FK-2"): 1})


def test_a_line_never_told_is_missing() -> None:
    verdict = judge(["FK-1", "FK-2"], BOOK, [told("A-1", "A-1/FK-1/1", "A-1/FK-2/1")], CHANGES)
    assert not verdict.ok
    assert verdict.missing == Counter({("B-2", "FK-2"): 1})


def test_a_line_told_twice_or_without_a_real_change_is_unexpected() -> None:
    twice = judge(["FK-1"], BOOK, [told("A-1", "A-1/FK-1/1"), told("A-1", "A-1/FK-1/2")], CHANGES)
    assert not twice.ok and twice.unexpected == Counter({("A-1", "FK-1"): 1})
    unchanged = judge([], BOOK, [told("C-3", "C-3/FK-9/1")], CHANGES)
    assert not unchanged.ok and unchanged.unexpected == Counter({("C-3", "FK-9"): 1})


def test_an_email_about_a_change_nobody_recorded_is_unexpected() -> None:
    verdict = judge([], BOOK, [told("A-1", "no-such-change")], CHANGES)
    assert not verdict.ok
    assert verdict.unexpected == Counter({("A-1", "<unknown change no-such-change>"): 1})


def test_verdicts_of_several_cycles_add_up() -> None:
    first = judge(["FK-1"], BOOK, [told("A-1", "A-1/FK-1/1")], CHANGES)
    second = judge(["FK-9"], BOOK, [], CHANGES)
    first.add(second)
    assert not first.ok and first.missing == Counter({("C-3", "FK-9"): 1})
