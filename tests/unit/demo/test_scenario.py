"""The scenario clock: deterministic, varied, and its ground truth accounts for every change."""

import datetime as dt
import itertools
from collections import Counter, defaultdict

import pytest

from etawatch.contracts.availability import Availability
from etawatch.contracts.eta import Shift, compare_eta, is_unreadable, parse_eta
from etawatch.demo.domain.ground_truth import ChangeKind, GroundTruthChange
from etawatch.demo.domain.items import PortalItem
from etawatch.demo.domain.scenario import Scenario

START = dt.date(2026, 12, 1)


def rows(scenario: Scenario) -> list[tuple[str, str, str, str, str, int]]:
    return [
        (i.sku, i.name, i.manufacturer, i.availability_text, i.eta_text, i.allocated)
        for i in scenario.catalogue()
    ]


@pytest.fixture(scope="module")
def month() -> tuple[list[PortalItem], Scenario]:
    """A catalogue as it was, and the same scenario thirty days on."""
    scenario = Scenario(600, 11, START)
    before = scenario.catalogue()
    scenario.advance(30)
    return before, scenario


def test_same_seed_same_catalogue_and_same_changes() -> None:
    a, b = Scenario(300, 5, START), Scenario(300, 5, START)
    assert rows(a) == rows(b)
    assert a.advance(4) == b.advance(4)
    assert rows(a) == rows(b)
    assert rows(Scenario(300, 6, START)) != rows(Scenario(300, 5, START))


def test_advancing_in_steps_is_advancing_at_once() -> None:
    a, b = Scenario(300, 5, START), Scenario(300, 5, START)
    a.advance(3)
    for _ in range(3):
        b.advance(1)
    assert a.ground_truth() == b.ground_truth()
    assert rows(a) == rows(b)
    assert a.today == b.today == START + dt.timedelta(days=3)


def test_skus_are_unique_and_in_the_supplier_format(
    month: tuple[list[PortalItem], Scenario],
) -> None:
    _, scenario = month
    skus = [i.sku for i in scenario.catalogue()]
    assert len(skus) == len(set(skus))
    assert skus == sorted(skus)
    assert all(len(s) == 9 and s.startswith("FK-") and s[3:].isdigit() for s in skus)
    assert all(0 <= i.allocated <= 50 for i in scenario.catalogue())


def test_the_ground_truth_replays_to_the_catalogue(
    month: tuple[list[PortalItem], Scenario],
) -> None:
    before, scenario = month
    state: dict[str, dict[str, str | None]] = {
        i.sku: {"availability": i.availability_text, "eta": i.eta_text} for i in before
    }
    for change in scenario.ground_truth():
        if change.kind is ChangeKind.APPEARED:
            assert change.sku not in state
            state[change.sku] = {}
        elif change.kind is ChangeKind.VANISHED:
            del state[change.sku]
        else:
            assert state[change.sku].get(change.field, change.before) == change.before, change
            state[change.sku][change.field] = change.after
    now = {i.sku: i for i in scenario.catalogue()}
    assert state.keys() == now.keys()
    for sku, fields in state.items():
        assert fields.get("availability", now[sku].availability_text) == now[sku].availability_text
        assert fields.get("eta", now[sku].eta_text) == now[sku].eta_text


def test_each_kind_of_change_happens(month: tuple[list[PortalItem], Scenario]) -> None:
    _, scenario = month
    changes = scenario.ground_truth()
    kinds = Counter(c.kind for c in changes)
    assert set(kinds) == set(ChangeKind)
    shifts = Counter(c.shift for c in changes if c.kind is ChangeKind.ETA)
    assert shifts[Shift.LATER] > shifts[Shift.EARLIER] > 0
    assert shifts[Shift.BECAME_KNOWN] > 0
    afters = Counter(c.after for c in changes if c.kind is ChangeKind.AVAILABILITY)
    for word in ("Skladem", "Zpožděno", "Vyprodáno", "Ukončeno"):
        assert afters[word] > 0, word


def test_some_rows_flap_back_and_forth(month: tuple[list[PortalItem], Scenario]) -> None:
    _, scenario = month
    history: defaultdict[str, list[GroundTruthChange]] = defaultdict(list)
    for change in scenario.ground_truth():
        if change.kind is ChangeKind.AVAILABILITY:
            history[change.sku].append(change)
    flapped = [
        sku
        for sku, changes in history.items()
        if any(a.before == b.after and a.after == b.before for a, b in itertools.pairwise(changes))
    ]
    assert flapped


def test_every_eta_change_is_classified_by_its_window(
    month: tuple[list[PortalItem], Scenario],
) -> None:
    _, scenario = month
    etas = [c for c in scenario.ground_truth() if c.field == "eta"]
    assert etas
    for change in etas:
        old, new = (
            parse_eta(change.before or "", change.at),
            parse_eta(change.after or "", change.at),
        )
        assert change.before != change.after
        if change.kind is ChangeKind.REWORDED:
            assert old.same_window(new), change
            assert not change.is_real
        else:
            assert change.kind is ChangeKind.ETA and change.is_real
            assert not old.same_window(new), change
            assert change.shift is compare_eta(old, new).shift
        assert change.before_eta == old and change.after_eta == new


def test_no_eta_is_unreadable_or_already_past(month: tuple[list[PortalItem], Scenario]) -> None:
    _, scenario = month
    for item in scenario.catalogue():
        eta = item.eta
        assert not is_unreadable(eta), item
        if item.availability in (Availability.PRE_ORDER, Availability.DELAYED) and eta.known:
            assert eta.latest is not None and eta.latest >= scenario.today, item
        if item.availability is not Availability.PRE_ORDER and item.availability is not (
            Availability.DELAYED
        ):
            assert not eta.known, item


def test_the_helper_says_what_an_item_is_now(month: tuple[list[PortalItem], Scenario]) -> None:
    _, scenario = month
    last = scenario.ground_truth()[-1]
    item = scenario.item(last.sku)
    if last.kind is ChangeKind.VANISHED:
        assert item is None
    else:
        assert item is not None and item.as_of == scenario.today
    assert scenario.item("FK-999999") is None
    gone = next(c.sku for c in scenario.ground_truth() if c.kind is ChangeKind.VANISHED)
    assert scenario.item(gone) is None


def test_the_clock_does_not_go_back() -> None:
    scenario = Scenario(10, 1, START)
    with pytest.raises(ValueError, match="only moves forward"):
        scenario.advance(-1)
    assert scenario.advance(0) == []
    assert scenario.today == START


def test_an_empty_catalogue_still_moves_on() -> None:
    scenario = Scenario(0, 1, START)
    scenario.advance(5)
    assert scenario.count() == len(scenario.catalogue())
    assert all(c.kind is ChangeKind.APPEARED for c in scenario.ground_truth())


def test_a_catalogue_of_100000_items_pages_from_anywhere() -> None:
    scenario = Scenario(100_000, 2, START)
    assert scenario.count() == 100_000
    tail = scenario.page(99_990, 50)
    assert [i.sku for i in tail] == [f"FK-{n:06d}" for n in range(99_991, 100_001)]
    changes = scenario.advance(1)
    assert sum(c.kind is ChangeKind.APPEARED for c in changes) > 100
    assert scenario.page(scenario.count() - 1, 5)[0].sku > "FK-100000"
