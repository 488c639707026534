"""How the supplier writes availability and delivery dates (Czech, as its staff type them).

Every ETA phrasing here names one window of dates, and several phrasings name the same window:
``15. 3. 2027`` and ``2027-03-15``, ``03/2027`` and ``březen 2027``. Years are always written
with four digits, so a text means the same window whatever day it is read on.
"""

import datetime as dt
from collections.abc import Callable

from etawatch.contracts.availability import Availability
from etawatch.contracts.eta import Precision

AVAILABILITY_WORDS: dict[Availability, str] = {
    Availability.IN_STOCK: "Skladem",
    Availability.PRE_ORDER: "Předobjednávka",
    Availability.DELAYED: "Zpožděno",
    Availability.SOLD_OUT: "Vyprodáno",
    Availability.DISCONTINUED: "Ukončeno",
}
WORD_AVAILABILITY: dict[str, Availability] = {w: a for a, w in AVAILABILITY_WORDS.items()}

CZECH_MONTHS = (
    "leden",
    "únor",
    "březen",
    "duben",
    "květen",
    "červen",
    "červenec",
    "srpen",
    "září",
    "říjen",
    "listopad",
    "prosinec",
)

UNKNOWN_TEXTS: tuple[str, ...] = ("TBA", "", "neznámý termín")
"""A pre-order whose date the supplier does not know yet."""
NO_ETA_TEXTS: tuple[str, ...] = ("", "skladem")
"""An item on the shelf: no date, or the word for it."""
NOT_COMING_TEXTS: tuple[str, ...] = ("",)
"""Sold out or discontinued: nothing to wait for."""


def _day(d: dt.date) -> tuple[str, ...]:
    return (
        f"{d.day}. {d.month}. {d.year}",
        f"{d.day:02d}.{d.month:02d}.{d.year}",
        d.isoformat(),
        f"{d.day}.{d.month}.{d.year}",
    )


def _week(d: dt.date) -> tuple[str, ...]:
    year, week, _ = d.isocalendar()
    return (f"týden {week}/{year}", f"{week}. týden {year}", f"{year}-W{week:02d}")


def _month(d: dt.date) -> tuple[str, ...]:
    return (
        f"{d.month:02d}/{d.year}",
        f"{CZECH_MONTHS[d.month - 1]} {d.year}",
        f"{d.month}/{d.year}",
    )


def _quarter(d: dt.date) -> tuple[str, ...]:
    q = (d.month - 1) // 3 + 1
    return (f"Q{q} {d.year}", f"{q}. čtvrtletí {d.year}", f"Q{q}/{d.year}")


def _half(d: dt.date) -> tuple[str, ...]:
    h = 1 if d.month <= 6 else 2
    return (f"{h}. pololetí {d.year}", f"H{h} {d.year}")


_DATED: dict[Precision, Callable[[dt.date], tuple[str, ...]]] = {
    Precision.DAY: _day,
    Precision.WEEK: _week,
    Precision.MONTH: _month,
    Precision.QUARTER: _quarter,
    Precision.HALF: _half,
}

DATED_PRECISIONS: tuple[Precision, ...] = tuple(_DATED)


def eta_phrasings(
    availability: Availability, precision: Precision, target: dt.date
) -> tuple[str, ...]:
    """Every way the supplier may write the ETA of an item in this state.

    All of them name the same window: the one of ``precision`` around ``target``.
    """
    if availability is Availability.IN_STOCK:
        return NO_ETA_TEXTS
    if availability.is_final:
        return NOT_COMING_TEXTS
    build = _DATED.get(precision)
    return UNKNOWN_TEXTS if build is None else tuple(dict.fromkeys(build(target)))
