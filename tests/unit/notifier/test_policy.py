"""The notification policy and digest planning as pure domain code."""

import dataclasses
import datetime as dt

import pytest
from etawatch_testing.notifier import NOW, PRE, change, eta

from etawatch.contracts.availability import Availability
from etawatch.contracts.envelope import Envelope
from etawatch.contracts.messages import ChangeKind, ETAChanged
from etawatch.notifier.domain.digest import plan_order
from etawatch.notifier.domain.model import (
    Baseline,
    ItemKey,
    ItemState,
    PendingChange,
    SuppressReason,
)
from etawatch.notifier.domain.policy import Hold, NotificationPolicy, Tell

POLICY = NotificationPolicy()


def state(availability: Availability, text: str) -> ItemState:
    return ItemState(availability, eta(text))


@pytest.mark.parametrize(
    ("after", "kind"),
    [
        (state(Availability.IN_STOCK, "skladem"), ChangeKind.IN_STOCK),
        (state(Availability.SOLD_OUT, ""), ChangeKind.SOLD_OUT),
        (state(Availability.DISCONTINUED, "15. 3. 2027"), ChangeKind.DISCONTINUED),
    ],
)
def test_availability_that_ends_the_wait_is_always_told(after: ItemState, kind: ChangeKind) -> None:
    quiet = NotificationPolicy(tell_earlier=False, tell_eta_unknown=False, tell_eta_known=False)
    assert quiet.judge(state(PRE, "15. 3. 2027"), after) == Tell(kind, None)


@pytest.mark.parametrize(
    ("new", "told"),
    [("22. 3. 2027", True), ("21. 3. 2027", False), ("16. 3. 2027", False), ("04/2027", True)],
)
def test_later_is_told_from_the_threshold_at_the_latest_date(new: str, told: bool) -> None:
    verdict = POLICY.judge(state(PRE, "15. 3. 2027"), state(PRE, new))
    if told:
        assert isinstance(verdict, Tell)
        assert verdict.kind is ChangeKind.ETA_LATER
    else:
        assert verdict == Hold(ChangeKind.ETA_LATER, SuppressReason.BELOW_THRESHOLD)


def test_threshold_is_configurable_and_small_slips_can_be_told_at_once() -> None:
    before, after = state(PRE, "15. 3. 2027"), state(PRE, "18. 3. 2027")
    assert POLICY.judge(before, after) == Hold(ChangeKind.ETA_LATER, SuppressReason.BELOW_THRESHOLD)
    assert NotificationPolicy(later_threshold_days=3).judge(before, after) == Tell(
        ChangeKind.ETA_LATER, 3
    )
    assert NotificationPolicy(tell_small_slips=True).judge(before, after) == Tell(
        ChangeKind.ETA_LATER, 3
    )


def test_earlier_is_told_by_default_and_can_be_switched_off() -> None:
    before, after = state(PRE, "Q2 2027"), state(PRE, "03/2027")
    assert POLICY.judge(before, after) == Tell(ChangeKind.ETA_EARLIER, -91)
    assert NotificationPolicy(tell_earlier=False).judge(before, after) == Hold(
        ChangeKind.ETA_EARLIER, SuppressReason.EARLIER_NOT_TOLD
    )


def test_same_window_in_other_words_is_no_change() -> None:
    verdict = POLICY.judge(state(PRE, "03/2027"), state(PRE, "březen 2027"))
    assert verdict == Hold(None, SuppressReason.FLAPPING)


def test_availability_change_with_same_dates_is_told_only_by_choice_or_when_leaving_stock() -> None:
    pre, delayed = state(PRE, "Q2 2027"), state(Availability.DELAYED, "Q2 2027")
    assert POLICY.judge(pre, delayed) == Hold(
        ChangeKind.AVAILABILITY_CHANGED, SuppressReason.NOT_TOLD_BY_POLICY
    )
    assert NotificationPolicy(tell_availability_changed=True).judge(pre, delayed) == Tell(
        ChangeKind.AVAILABILITY_CHANGED, None
    )
    back = POLICY.judge(state(Availability.SOLD_OUT, "Q2 2027"), pre)
    assert back == Tell(ChangeKind.AVAILABILITY_CHANGED, None)


def test_policy_refuses_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="threshold"):
        NotificationPolicy(later_threshold_days=0)
    with pytest.raises(ValueError, match="debounce"):
        NotificationPolicy(debounce=dt.timedelta(minutes=-1))


# --- digests ---------------------------------------------------------------------------------


def pending(env: Envelope[ETAChanged], minutes: float = 0) -> PendingChange:
    return PendingChange(env.id, NOW + dt.timedelta(minutes=minutes), env.data)


def test_several_items_of_one_order_become_one_digest_most_important_first() -> None:
    later = pending(change(sku="A", item_name="Alfa", after=(PRE, "01/2028")))
    sold = pending(change(sku="B", item_name="Beta", after=(Availability.SOLD_OUT, "")), 5)
    plan = plan_order("2026-0001", [later, sold], {}, POLICY)
    assert plan.digest is not None
    assert [i.kind for i in plan.digest.items] == [ChangeKind.SOLD_OUT, ChangeKind.ETA_LATER]
    assert set(plan.digest.change_ids) == {later.change_id, sold.change_id}
    assert plan.digest.queued_at == NOW
    assert set(plan.consumed) == {later.change_id, sold.change_id}


def test_flapping_inside_the_window_is_never_told() -> None:
    away = pending(change(after=(PRE, "01/2028"), observed_at=NOW))
    back = pending(
        change(
            before=(PRE, "01/2028"),
            after=(PRE, "15. 3. 2027"),
            observed_at=NOW + dt.timedelta(minutes=10),
        ),
        10,
    )
    plan = plan_order("2026-0001", [back, away], {}, POLICY)  # order of arrival does not matter
    assert plan.digest is None
    [suppressed] = plan.suppressed
    assert suppressed.reason is SuppressReason.FLAPPING
    key = ItemKey("2026-0001", "acme", "FIG-1")
    assert plan.baselines[key] == Baseline(state(PRE, "15. 3. 2027"), as_of=back.observed_at)


def test_last_new_value_against_first_previous_value_within_the_window() -> None:
    first = pending(change(before=(PRE, "15. 3. 2027"), after=(PRE, "18. 3. 2027")))
    second = pending(
        change(
            before=(PRE, "18. 3. 2027"),
            after=(PRE, "30. 3. 2027"),
            observed_at=NOW + dt.timedelta(minutes=1),
        ),
        1,
    )
    plan = plan_order("2026-0001", [first, second], {}, POLICY)
    assert plan.digest is not None
    [item] = plan.digest.items
    assert item.before == state(PRE, "15. 3. 2027")
    assert item.after == state(PRE, "30. 3. 2027")
    assert item.shift_days == 15


def slip(
    *, before: tuple[Availability, str], after: tuple[Availability, str], hours: float
) -> Envelope[ETAChanged]:
    return change(before=before, after=after, observed_at=NOW + dt.timedelta(hours=hours))


def test_small_slips_accumulate_across_windows_until_they_pass_the_threshold() -> None:
    key = ItemKey("2026-0001", "acme", "FIG-1")
    slip1 = pending(change(before=(PRE, "15. 3. 2027"), after=(PRE, "18. 3. 2027")))
    plan1 = plan_order("2026-0001", [slip1], {}, POLICY)
    assert plan1.digest is None
    assert plan1.suppressed[0].reason is SuppressReason.BELOW_THRESHOLD
    assert plan1.baselines[key] == Baseline(state(PRE, "15. 3. 2027"), (slip1.change_id,), NOW)

    slip2 = pending(slip(before=(PRE, "18. 3. 2027"), after=(PRE, "21. 3. 2027"), hours=1), 60)
    plan2 = plan_order("2026-0001", [slip2], plan1.baselines, POLICY)
    assert plan2.digest is None  # 6 days in total: still below 7

    slip3 = pending(slip(before=(PRE, "21. 3. 2027"), after=(PRE, "23. 3. 2027"), hours=2), 120)
    plan3 = plan_order("2026-0001", [slip3], plan2.baselines, POLICY)
    assert plan3.digest is not None
    [item] = plan3.digest.items
    assert item.before == state(PRE, "15. 3. 2027")
    assert item.shift_days == 8
    assert item.change_ids == (slip1.change_id, slip2.change_id, slip3.change_id)
    assert plan3.baselines[key] == Baseline(state(PRE, "23. 3. 2027"), as_of=slip3.observed_at)


def test_held_slips_that_are_reverted_carry_nothing_forward() -> None:
    key = ItemKey("2026-0001", "acme", "FIG-1")
    held = Baseline(state(PRE, "15. 3. 2027"), ("slip-1",))
    back = pending(change(before=(PRE, "18. 3. 2027"), after=(PRE, "15. 3. 2027")))
    plan = plan_order("2026-0001", [back], {key: held}, POLICY)
    assert plan.digest is None
    assert plan.baselines[key] == Baseline(state(PRE, "15. 3. 2027"), as_of=back.observed_at)


def test_digest_is_addressed_with_the_latest_customer_details() -> None:
    old = pending(change(email="old@example.com", after=(PRE, "01/2028")))
    new = pending(change(sku="B", email="new@example.com", locale="en", after=(PRE, "02/2028")), 3)
    plan = plan_order("2026-0001", [old, new], {}, POLICY)
    assert plan.digest is not None
    assert plan.digest.recipient.email == "new@example.com"
    assert plan.digest.recipient.locale == "en"


def test_the_recipient_comes_from_the_newest_observation_not_the_last_arrival() -> None:
    new = pending(
        change(
            email="new@example.com",
            locale="en",
            after=(PRE, "01/2028"),
            observed_at=NOW + dt.timedelta(minutes=5),
        )
    )
    old = pending(change(sku="B", email="old@example.com", after=(PRE, "02/2028")), 3)
    plan = plan_order("2026-0001", [new, old], {}, POLICY)  # the older one arrived last
    assert plan.digest is not None
    assert plan.digest.recipient.email == "new@example.com"
    assert plan.digest.recipient.locale == "en"


def test_a_change_older_than_one_already_planned_is_superseded_not_told() -> None:
    """Two changes of one line arriving reversed, in two windows: the older never wins."""
    key = ItemKey("2026-0001", "acme", "FIG-1")
    older = pending(change(before=(PRE, "15. 3. 2027"), after=(PRE, "01/2028")), 31)
    newer = pending(
        change(
            before=(PRE, "01/2028"),
            after=(Availability.SOLD_OUT, ""),
            observed_at=NOW + dt.timedelta(minutes=1),
        )
    )
    first = plan_order("2026-0001", [newer], {}, POLICY)
    assert first.digest is not None
    assert first.baselines[key] == Baseline(
        state(Availability.SOLD_OUT, ""), as_of=NOW + dt.timedelta(minutes=1)
    )

    late = plan_order("2026-0001", [older], first.baselines, POLICY)
    assert late.digest is None
    assert late.consumed == (older.change_id,)
    [suppressed] = late.suppressed
    assert suppressed.reason is SuppressReason.SUPERSEDED
    assert suppressed.change_ids == (older.change_id,)
    assert key not in late.baselines  # what the customer knows stays as it was


def test_within_a_window_only_changes_newer_than_the_baseline_count() -> None:
    key = ItemKey("2026-0001", "acme", "FIG-1")
    told = Baseline(state(PRE, "01/2028"), as_of=NOW + dt.timedelta(minutes=1))
    stale = pending(change(before=(PRE, "15. 3. 2027"), after=(PRE, "02/2028")), 2)
    fresh = pending(
        change(
            before=(PRE, "01/2028"),
            after=(PRE, "03/2028"),
            observed_at=NOW + dt.timedelta(minutes=2),
        ),
        1,
    )
    plan = plan_order("2026-0001", [stale, fresh], {key: told}, POLICY)
    assert plan.digest is not None
    [item] = plan.digest.items
    assert (item.before, item.after) == (state(PRE, "01/2028"), state(PRE, "03/2028"))
    assert item.change_ids == (fresh.change_id,)
    assert [s.reason for s in plan.suppressed] == [SuppressReason.SUPERSEDED]
    assert set(plan.consumed) == {stale.change_id, fresh.change_id}


def test_planning_refuses_changes_of_another_order_or_without_previous_values() -> None:
    with pytest.raises(ValueError, match="belong"):
        plan_order("other", [pending(change())], {}, POLICY)
    with pytest.raises(ValueError, match="at least one"):
        plan_order("2026-0001", [], {}, POLICY)
    first_sighting = pending(change(before=None))
    with pytest.raises(ValueError, match="no previous value"):
        plan_order("2026-0001", [first_sighting], {}, POLICY)


def test_plans_are_plain_values() -> None:
    plan = plan_order("2026-0001", [pending(change(after=(PRE, "01/2028")))], {}, POLICY)
    assert dataclasses.replace(plan) == plan


@pytest.mark.parametrize(
    ("before", "after", "kind"),
    [
        (state(Availability.IN_STOCK, "skladem"), state(PRE, "Q2 2027"), ChangeKind.ETA_KNOWN),
        (state(Availability.IN_STOCK, "skladem"), state(PRE, ""), ChangeKind.AVAILABILITY_CHANGED),
        (
            state(Availability.SOLD_OUT, "03/2027"),
            state(PRE, "15. 3. 2027"),
            ChangeKind.ETA_EARLIER,
        ),
    ],
)
def test_leaving_stock_or_a_final_state_is_told_whatever_the_choices(
    before: ItemState, after: ItemState, kind: ChangeKind
) -> None:
    quiet = NotificationPolicy(
        tell_earlier=False,
        tell_eta_known=False,
        tell_eta_unknown=False,
        tell_availability_changed=False,
    )
    verdict = quiet.judge(before, after)
    assert isinstance(verdict, Tell)
    assert verdict.kind is kind
