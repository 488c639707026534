"""ETA windows worded the way people say them, in Czech and English.

Days use Babel's long date format (``15. března 2027``, ``15 March 2027``). Czech says a month
in the locative (``v březnu 2027``), which CLDR does not carry, so those forms are a table here;
and ``ve`` replaces ``v`` before ordinals that start with two consonants (``ve 2. čtvrtletí``,
``v 1. pololetí``, ``ve 13. týdnu``).
"""

import datetime as dt

from babel.dates import format_date

from etawatch.contracts.eta import ETA, Precision

BABEL_LOCALE = {"cs": "cs_CZ", "en": "en_GB"}

CS_MONTH_LOCATIVE = (
    "lednu",
    "únoru",
    "březnu",
    "dubnu",
    "květnu",
    "červnu",
    "červenci",
    "srpnu",
    "září",
    "říjnu",
    "listopadu",
    "prosinci",
)


def cs_preposition(ordinal: int) -> str:
    """``v`` or ``ve`` before a Czech ordinal number (druhém, třetím, čtvrtém, třináctém, ...)."""
    return "ve" if ordinal in (2, 3, 4, 13, 14) or 20 <= ordinal <= 49 else "v"


def format_day(day: dt.date, language: str) -> str:
    return format_date(day, format="long", locale=BABEL_LOCALE[language])


def format_eta(eta: ETA, language: str) -> str:
    """The window of an ETA as a phrase: ``v březnu 2027``, ``in Q2 2027``, ``15 March 2027``."""
    if eta.earliest is None or eta.precision is Precision.UNKNOWN:
        return "termín zatím neznámý" if language == "cs" else "date not yet known"
    start = eta.earliest
    if language == "cs":
        return _cs(eta.precision, start)
    return _en(eta.precision, start)


def _cs(precision: Precision, start: dt.date) -> str:
    match precision:
        case Precision.DAY:
            return format_day(start, "cs")
        case Precision.WEEK:
            year, week, _ = start.isocalendar()
            return f"{cs_preposition(week)} {week}. týdnu {year}"
        case Precision.MONTH:
            return f"v {CS_MONTH_LOCATIVE[start.month - 1]} {start.year}"
        case Precision.QUARTER:
            quarter = (start.month - 1) // 3 + 1
            return f"{cs_preposition(quarter)} {quarter}. čtvrtletí {start.year}"
        case Precision.HALF:
            half = 1 if start.month <= 6 else 2
            return f"{cs_preposition(half)} {half}. pololetí {start.year}"
        case _:
            return f"v roce {start.year}"


def _en(precision: Precision, start: dt.date) -> str:
    match precision:
        case Precision.DAY:
            return format_day(start, "en")
        case Precision.WEEK:
            year, week, _ = start.isocalendar()
            return f"in week {week} of {year}"
        case Precision.MONTH:
            return "in " + format_date(start, "MMMM y", locale=BABEL_LOCALE["en"])
        case Precision.QUARTER:
            return f"in Q{(start.month - 1) // 3 + 1} {start.year}"
        case Precision.HALF:
            return f"in H{1 if start.month <= 6 else 2} {start.year}"
        case _:
            return f"in {start.year}"
