"""The change rules, without any store."""

import datetime as dt

import pytest

from etawatch.contracts.availability import Availability
from etawatch.contracts.eta import parse_eta
from etawatch.contracts.messages import ChangeKind
from etawatch.ledger.domain import rules
from etawatch.ledger.domain.state import ItemState, Row, eta_key

TODAY = dt.date(2026, 11, 28)
T0 = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC).timestamp()


def state(eta: str = "Q2 2027", availability: str = "pre_order") -> ItemState:
    return ItemState(
        supplier="acme",
        sku="S1",
        name="Figure",
        version=1,
        availability=availability,
        availability_raw=availability,
        eta=eta_key(parse_eta(eta, TODAY)),
        observed_at=T0,
    )


def row(eta: str = "Q2 2027", availability: str = "pre_order", at: float = T0 + 60) -> Row:
    return Row("S1", "Figure", availability, availability, eta_key(parse_eta(eta, TODAY)), at)


@pytest.mark.parametrize(
    ("old", "new"),
    [("03/2027", "březen 2027"), ("Q2 2027", "2. čtvrtletí 2027"), ("TBA", "neznámý termín")],
)
def test_new_wording_of_the_same_window_is_no_change(old: str, new: str) -> None:
    assert not rules.compare(state(old), row(new)).changed


@pytest.mark.parametrize(
    ("old", "new", "kind", "days"),
    [
        ("Q2 2027", "Q3 2027", ChangeKind.ETA_LATER, 92),
        ("Q3 2027", "05/2027", ChangeKind.ETA_EARLIER, -122),
        ("Q2 2027", "05/2027", ChangeKind.ETA_EARLIER, -30),  # refined inside, ends sooner
        ("TBA", "03/2027", ChangeKind.ETA_KNOWN, None),
        ("03/2027", "TBA", ChangeKind.ETA_UNKNOWN, None),
    ],
)
def test_eta_changes_are_named_by_their_window(
    old: str, new: str, kind: ChangeKind, days: int | None
) -> None:
    change = rules.compare(state(old), row(new))
    assert change.eta is not None
    assert change.eta.days == days
    assert rules.change_kind("pre_order", change) is kind


@pytest.mark.parametrize(
    ("new", "kind"),
    [
        (Availability.DISCONTINUED, ChangeKind.DISCONTINUED),
        (Availability.SOLD_OUT, ChangeKind.SOLD_OUT),
        (Availability.IN_STOCK, ChangeKind.IN_STOCK),
        (Availability.DELAYED, ChangeKind.AVAILABILITY_CHANGED),
    ],
)
def test_availability_changes_come_before_eta_changes(new: Availability, kind: ChangeKind) -> None:
    change = rules.compare(state("Q2 2027"), row("Q3 2027", new.value))
    assert change.availability
    expected = ChangeKind.ETA_LATER if kind is ChangeKind.AVAILABILITY_CHANGED else kind
    assert rules.change_kind(new.value, change) is expected


def test_an_older_observation_is_late() -> None:
    assert rules.is_late(state(), row(at=T0 - 1))
    assert not rules.is_late(state(), row(at=T0))


def test_missing_once_after_the_threshold() -> None:
    item = state()
    assert not rules.missing_now(item, 1, 2)
    assert rules.missing_now(item, 2, 2)
    item.missing = True
    assert not rules.missing_now(item, 3, 2)
