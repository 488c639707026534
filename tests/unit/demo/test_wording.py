"""Every ETA the portal writes is read by ``parse_eta`` as the window it means."""

import calendar
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from etawatch.contracts.availability import Availability
from etawatch.contracts.eta import Precision, is_unreadable, parse_eta
from etawatch.demo.domain.wording import (
    AVAILABILITY_WORDS,
    DATED_PRECISIONS,
    WORD_AVAILABILITY,
    eta_phrasings,
)

TODAY = dt.date(2026, 12, 1)
dates = st.dates(min_value=dt.date(2026, 1, 1), max_value=dt.date(2031, 12, 31))


def expected_window(precision: Precision, d: dt.date) -> tuple[dt.date, dt.date]:
    """Worked out from the calendar, independently of the portal's and the parser's code."""
    if precision is Precision.DAY:
        return d, d
    if precision is Precision.WEEK:
        monday = d - dt.timedelta(days=d.weekday())
        return monday, monday + dt.timedelta(days=6)
    if precision is Precision.MONTH:
        return d.replace(day=1), d.replace(day=calendar.monthrange(d.year, d.month)[1])
    if precision is Precision.QUARTER:
        first = 3 * ((d.month - 1) // 3) + 1
        last = first + 2
        return (
            dt.date(d.year, first, 1),
            dt.date(d.year, last, calendar.monthrange(d.year, last)[1]),
        )
    assert precision is Precision.HALF
    if d.month <= 6:
        return dt.date(d.year, 1, 1), dt.date(d.year, 6, 30)
    return dt.date(d.year, 7, 1), dt.date(d.year, 12, 31)


@given(target=dates, precision=st.sampled_from(DATED_PRECISIONS))
def test_every_dated_phrasing_reads_as_its_window(target: dt.date, precision: Precision) -> None:
    phrasings = eta_phrasings(Availability.PRE_ORDER, precision, target)
    assert len(set(phrasings)) == len(phrasings) > 1
    earliest, latest = expected_window(precision, target)
    for text in phrasings:
        eta = parse_eta(text, TODAY)
        assert (eta.earliest, eta.latest, eta.precision) == (earliest, latest, precision), text


@given(target=dates)
def test_a_phrasing_means_the_same_whatever_day_it_is_read(target: dt.date) -> None:
    for precision in DATED_PRECISIONS:
        for text in eta_phrasings(Availability.DELAYED, precision, target):
            assert parse_eta(text, TODAY) == parse_eta(text, target + dt.timedelta(days=400))


def test_undated_items_have_texts_that_mean_no_date() -> None:
    for availability in (Availability.IN_STOCK, Availability.SOLD_OUT, Availability.DISCONTINUED):
        for text in eta_phrasings(availability, Precision.DAY, TODAY):
            eta = parse_eta(text, TODAY)
            assert not eta.known and not is_unreadable(eta), text
    for text in eta_phrasings(Availability.PRE_ORDER, Precision.UNKNOWN, TODAY):
        eta = parse_eta(text, TODAY)
        assert not eta.known and not is_unreadable(eta), text


def test_availability_words_are_czech_and_cover_every_known_state() -> None:
    assert set(WORD_AVAILABILITY) == {
        "Skladem",
        "Předobjednávka",
        "Zpožděno",
        "Vyprodáno",
        "Ukončeno",
    }
    assert set(AVAILABILITY_WORDS) == set(Availability) - {Availability.UNKNOWN}
