import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etawatch.contracts.eta import (
    ETA,
    Precision,
    Shift,
    compare_eta,
    is_unreadable,
    parse_eta,
)

TODAY = dt.date(2026, 11, 28)
D = dt.date

CASES = [
    ("15. 3. 2027", D(2027, 3, 15), D(2027, 3, 15), Precision.DAY),
    ("15.3.2027", D(2027, 3, 15), D(2027, 3, 15), Precision.DAY),
    ("2027-03-15", D(2027, 3, 15), D(2027, 3, 15), Precision.DAY),
    ("15/03/2027", D(2027, 3, 15), D(2027, 3, 15), Precision.DAY),
    ("15.3.27", D(2027, 3, 15), D(2027, 3, 15), Precision.DAY),
    ("15. března 2027", D(2027, 3, 15), D(2027, 3, 15), Precision.DAY),
    ("15 March 2027", D(2027, 3, 15), D(2027, 3, 15), Precision.DAY),
    ("March 15th, 2027", D(2027, 3, 15), D(2027, 3, 15), Precision.DAY),
    ("03/2027", D(2027, 3, 1), D(2027, 3, 31), Precision.MONTH),
    ("3.2027", D(2027, 3, 1), D(2027, 3, 31), Precision.MONTH),
    ("2027-03", D(2027, 3, 1), D(2027, 3, 31), Precision.MONTH),
    ("02/28", D(2028, 2, 1), D(2028, 2, 29), Precision.MONTH),
    ("březen 2027", D(2027, 3, 1), D(2027, 3, 31), Precision.MONTH),
    ("Března 2027", D(2027, 3, 1), D(2027, 3, 31), Precision.MONTH),
    ("v březnu 2027", D(2027, 3, 1), D(2027, 3, 31), Precision.MONTH),
    ("červen 2027", D(2027, 6, 1), D(2027, 6, 30), Precision.MONTH),
    ("červenec 2027", D(2027, 7, 1), D(2027, 7, 31), Precision.MONTH),
    ("v červenci 2027", D(2027, 7, 1), D(2027, 7, 31), Precision.MONTH),
    ("září 2027", D(2027, 9, 1), D(2027, 9, 30), Precision.MONTH),
    ("únor 2028", D(2028, 2, 1), D(2028, 2, 29), Precision.MONTH),
    ("konec května 2027", D(2027, 5, 1), D(2027, 5, 31), Precision.MONTH),
    ("March 2027", D(2027, 3, 1), D(2027, 3, 31), Precision.MONTH),
    ("Mar 2027", D(2027, 3, 1), D(2027, 3, 31), Precision.MONTH),
    ("Mar '27", D(2027, 3, 1), D(2027, 3, 31), Precision.MONTH),
    ("cca 04/2027", D(2027, 4, 1), D(2027, 4, 30), Precision.MONTH),
    ("Q2 2027", D(2027, 4, 1), D(2027, 6, 30), Precision.QUARTER),
    ("Q2/2027", D(2027, 4, 1), D(2027, 6, 30), Precision.QUARTER),
    ("q4-27", D(2027, 10, 1), D(2027, 12, 31), Precision.QUARTER),
    ("2027 Q3", D(2027, 7, 1), D(2027, 9, 30), Precision.QUARTER),
    ("2. čtvrtletí 2027", D(2027, 4, 1), D(2027, 6, 30), Precision.QUARTER),
    ("ve 2. čtvrtletí 2027", D(2027, 4, 1), D(2027, 6, 30), Precision.QUARTER),
    ("II. čtvrtletí 2027", D(2027, 4, 1), D(2027, 6, 30), Precision.QUARTER),
    ("konec roku 2027", D(2027, 10, 1), D(2027, 12, 31), Precision.QUARTER),
    ("1. pololetí 2027", D(2027, 1, 1), D(2027, 6, 30), Precision.HALF),
    ("2. pololetí 2027", D(2027, 7, 1), D(2027, 12, 31), Precision.HALF),
    ("H1 2027", D(2027, 1, 1), D(2027, 6, 30), Precision.HALF),
    ("2H 2027", D(2027, 7, 1), D(2027, 12, 31), Precision.HALF),
    ("2027", D(2027, 1, 1), D(2027, 12, 31), Precision.YEAR),
    ("rok 2027", D(2027, 1, 1), D(2027, 12, 31), Precision.YEAR),
    ("týden 12/2027", D(2027, 3, 22), D(2027, 3, 28), Precision.WEEK),
    ("12. týden 2027", D(2027, 3, 22), D(2027, 3, 28), Precision.WEEK),
    ("KW 12/2027", D(2027, 3, 22), D(2027, 3, 28), Precision.WEEK),
    ("CW12 2027", D(2027, 3, 22), D(2027, 3, 28), Precision.WEEK),
    ("2027-W05", D(2027, 2, 1), D(2027, 2, 7), Precision.WEEK),
    ("KW 53/2026", D(2026, 12, 28), D(2027, 1, 3), Precision.WEEK),
    # missing year: this year unless the window ended more than a quarter ago
    ("15. 3.", D(2027, 3, 15), D(2027, 3, 15), Precision.DAY),
    ("prosinec", D(2026, 12, 1), D(2026, 12, 31), Precision.MONTH),
    ("říjen", D(2026, 10, 1), D(2026, 10, 31), Precision.MONTH),
    ("leden", D(2027, 1, 1), D(2027, 1, 31), Precision.MONTH),
    ("Q1", D(2027, 1, 1), D(2027, 3, 31), Precision.QUARTER),
    ("konec roku", D(2026, 10, 1), D(2026, 12, 31), Precision.QUARTER),
]


@pytest.mark.parametrize(("raw", "earliest", "latest", "precision"), CASES)
def test_reads_supplier_phrasings(
    raw: str, earliest: dt.date, latest: dt.date, precision: Precision
) -> None:
    eta = parse_eta(raw, TODAY)
    assert (eta.earliest, eta.latest, eta.precision) == (earliest, latest, precision)
    assert eta.raw == raw


@pytest.mark.parametrize("raw", ["TBA", "tbd", "neznámý", "N/A", "", "  ", "-", "skladem", "?"])
def test_stated_unknowns_are_read_as_unknown(raw: str) -> None:
    eta = parse_eta(raw, TODAY)
    assert eta.precision is Precision.UNKNOWN
    assert eta.earliest is None and eta.latest is None
    assert eta.raw == raw
    assert not is_unreadable(eta)


@pytest.mark.parametrize(
    "raw",
    [
        "31. 2. 2027",  # no such day
        "29. 2. 2027",
        "13/2027",  # no such month
        "Q5 2027",
        "3. pololetí 2027",
        "týden 53/2027",  # 2027 has 52 ISO weeks
        "03/15/2027",  # month-first: never guessed
        "March 15",  # day or year? never guessed
        "červen 27",
        "brzy",
        "asap",
        "2-3 týdny",
        "9999999999",
        "0000-01-01",
    ],
)
def test_unreadable_text_is_unknown_and_kept(raw: str) -> None:
    eta = parse_eta(raw, TODAY)
    assert eta.precision is Precision.UNKNOWN
    assert eta.raw == raw
    assert is_unreadable(eta)


@given(st.text(max_size=60), st.dates(min_value=D(1990, 1, 1), max_value=D(2090, 12, 31)))
def test_random_text_never_raises_and_windows_are_ordered(raw: str, today: dt.date) -> None:
    eta = parse_eta(raw, today)
    assert eta.raw == raw
    if eta.known:
        assert eta.earliest is not None and eta.latest is not None
        assert eta.earliest <= eta.latest
    else:
        assert eta.earliest is None and eta.latest is None


@given(
    st.sampled_from([c[0] for c in CASES]),
    st.sampled_from(["", " ", "  ", "\t"]),
    st.booleans(),
)
def test_whitespace_and_case_do_not_change_the_window(raw: str, pad: str, upper: bool) -> None:
    written = pad + (raw.upper() if upper else raw) + pad
    assert parse_eta(written, TODAY).same_window(parse_eta(raw, TODAY))


def test_wording_change_is_not_a_change() -> None:
    old, new = parse_eta("03/2027", TODAY), parse_eta("březen 2027", TODAY)
    assert compare_eta(old, new).shift is Shift.SAME


@pytest.mark.parametrize(
    ("old", "new", "shift", "days"),
    [
        ("03/2027", "04/2027", Shift.LATER, 30),
        ("Q2 2027", "Q3 2027", Shift.LATER, 92),
        ("15. 3. 2027", "10. 3. 2027", Shift.EARLIER, -5),
        ("03/2027", "15. 3. 2027", Shift.REFINED, -16),
        ("Q1 2027", "15. 3. 2027", Shift.REFINED, -16),
        ("31. 3. 2027", "03/2027", Shift.EARLIER, 0),
        ("TBA", "03/2027", Shift.BECAME_KNOWN, None),
        ("03/2027", "TBA", Shift.BECAME_UNKNOWN, None),
        ("TBA", "neznámý", Shift.SAME, None),
        ("2027", "rok 2027", Shift.SAME, 0),
    ],
)
def test_compare_windows(old: str, new: str, shift: Shift, days: int | None) -> None:
    comparison = compare_eta(parse_eta(old, TODAY), parse_eta(new, TODAY))
    assert (comparison.shift, comparison.days) == (shift, days)


def test_model_refuses_an_inverted_window() -> None:
    with pytest.raises(ValueError, match="earliest"):
        ETA(raw="x", earliest=D(2027, 2, 1), latest=D(2027, 1, 1), precision=Precision.DAY)
    with pytest.raises(ValueError, match="unknown ETA has no window"):
        ETA(raw="x", earliest=D(2027, 2, 1), latest=D(2027, 2, 1))
