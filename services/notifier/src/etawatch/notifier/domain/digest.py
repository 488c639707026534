"""Turn one order's pending changes into at most one digest.

Per item, the changes of the window are reduced to one: from what the customer last knew (or, for
an item never told, the first change's previous value) to the last change's new value. A change
that came back to where it started is flapping and never told. The told items of an order form
one digest; the others keep their baseline, so held changes add up across windows.

Changes are ordered by when they were observed, never by when they arrived: the broker may hand
them over in another order (concurrent handlers, redelivery, several replicas). A change observed
no later than the newest one already planned for its item came too late and is superseded.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence

from etawatch.contracts.messages import ChangeKind
from etawatch.notifier.domain.model import (
    Baseline,
    Digest,
    FlushPlan,
    ItemKey,
    ItemNotice,
    PendingChange,
    Recipient,
    Suppressed,
    SuppressReason,
)
from etawatch.notifier.domain.policy import Hold, NotificationPolicy

KIND_ORDER = {kind: rank for rank, kind in enumerate(ChangeKind)}


def plan_order(
    shop_order_id: str,
    pending: Sequence[PendingChange],
    baselines: Mapping[ItemKey, Baseline],
    policy: NotificationPolicy,
) -> FlushPlan:
    """Decide what one order's customer is told about ``pending`` (all of one order)."""
    if not pending:
        raise ValueError("an order's window has at least one change")
    if any(p.change.shop_order_id != shop_order_id for p in pending):
        raise ValueError(f"every pending change must belong to order {shop_order_id}")
    by_item: defaultdict[ItemKey, list[PendingChange]] = defaultdict(list)
    for change in sorted(pending, key=lambda p: p.newness):
        by_item[change.key].append(change)

    notices: list[ItemNotice] = []
    suppressed: list[Suppressed] = []
    new_baselines: dict[ItemKey, Baseline] = {}
    for key, all_changes in by_item.items():
        known = baselines.get(key)
        late = [c for c in all_changes if known is not None and known.supersedes(c)]
        if late:
            suppressed.append(
                Suppressed(key, SuppressReason.SUPERSEDED, tuple(c.change_id for c in late))
            )
        changes = [c for c in all_changes if c not in late]
        if not changes:
            continue
        first, last = changes[0], changes[-1]
        baseline = known or Baseline(first.before)
        held = (*baseline.held_change_ids, *(c.change_id for c in changes))
        verdict = policy.judge(baseline.state, last.after)
        if isinstance(verdict, Hold):
            # A reverted change carries nothing forward; a held one waits for more.
            carried = () if verdict.kind is None else held
            new_baselines[key] = Baseline(baseline.state, carried, last.observed_at)
            suppressed.append(Suppressed(key, verdict.reason, held))
            continue
        notices.append(
            ItemNotice(
                supplier=key.supplier,
                sku=key.sku,
                item_name=last.change.item_name,
                quantity=last.change.quantity,
                kind=verdict.kind,
                before=baseline.state,
                after=last.after,
                shift_days=verdict.shift_days,
                change_ids=held,
            )
        )
        new_baselines[key] = Baseline(last.after, as_of=last.observed_at)

    digest = None
    if notices:
        latest = max(pending, key=lambda p: p.newness).change
        notices.sort(key=lambda n: (KIND_ORDER[n.kind], n.item_name, n.sku))
        digest = Digest(
            shop_order_id=shop_order_id,
            recipient=Recipient(
                latest.customer_id, latest.email, latest.customer_name, latest.locale
            ),
            items=tuple(notices),
            queued_at=min(p.received_at for p in pending),
        )
    return FlushPlan(
        shop_order_id=shop_order_id,
        consumed=tuple(p.change_id for p in pending),
        digest=digest,
        suppressed=tuple(suppressed),
        baselines=new_baselines,
    )
