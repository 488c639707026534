"""Fault switches: validation, merging, and the state they keep per page and per session."""

import pytest
from pydantic import ValidationError

from etawatch.demo.domain.columns import HEADERS, Column, layout
from etawatch.demo.domain.faults import Faults, FaultSwitches


def test_all_switches_are_off_by_default() -> None:
    assert Faults().current == FaultSwitches()
    assert not Faults().should_fail(1)
    assert not Faults().page_served("s")


def test_setting_merges_and_clearing_resets() -> None:
    faults = Faults()
    faults.set(maintenance=True)
    faults.set(slow_seconds=0.5)
    assert faults.current.maintenance and faults.current.slow_seconds == 0.5
    assert faults.clear() == FaultSwitches()


@pytest.mark.parametrize(
    "switches",
    [
        {"slow_seconds": -1},
        {"error_mode": "sometimes"},
        {"expire_session_after_pages": 0},
        {"truncate_to": -3},
        {"rename_column": {"Cena": "Price"}},
        {"reorder_columns": ["Kód zboží", "Sklad"]},
        {"hide_columns": ["Nic"]},
        {"no_such_switch": True},
    ],
)
def test_invalid_switches_are_refused_and_change_nothing(switches: dict[str, object]) -> None:
    faults = Faults()
    faults.set(truncate_to=5)
    with pytest.raises(ValidationError):
        faults.set(**switches)
    assert faults.current == FaultSwitches(truncate_to=5)


def test_error_pages_once_fail_the_first_request_of_each_page_only() -> None:
    faults = Faults()
    faults.set(error_pages=[2, 3])
    assert [faults.should_fail(p) for p in (1, 2, 2, 3, 3)] == [False, True, False, True, False]
    faults.set(error_pages=[2])  # set again: once more
    assert faults.should_fail(2)
    faults.set(error_mode="always")
    assert faults.should_fail(2) and faults.should_fail(2)


def test_sessions_expire_after_the_pages_counted_since_the_switch() -> None:
    faults = Faults()
    assert not faults.page_served("a")
    faults.set(expire_session_after_pages=2)
    assert [faults.page_served("a"), faults.page_served("b"), faults.page_served("a")] == [
        False,
        False,
        True,
    ]
    faults.set(maintenance=False)  # another switch does not restart the count
    assert faults.page_served("b")


def test_columns_can_be_renamed_reordered_and_hidden() -> None:
    assert [h for _, h in layout({}, None)] == list(HEADERS.values())
    shown = layout(
        {"Dostupnost": "Stav skladu"},
        ["Stav skladu", "Kód zboží"],
        ["Výrobce"],
    )
    assert [c for c, _ in shown] == [
        Column.AVAILABILITY,
        Column.SKU,
        Column.NAME,
        Column.ETA,
        Column.ALLOCATED,
    ]
    assert shown[0][1] == "Stav skladu"
