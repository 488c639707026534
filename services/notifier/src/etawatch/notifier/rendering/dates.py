"""ETA windows worded the way people say them, in Czech and English.

Days use Babel's long date format (``15. března 2027``, ``15 March 2027``). Czech says a month
in the locative (``v březnu 2027``), which CLDR does not carry, so those forms are a table here;
and ``ve`` replaces ``v`` before ordinals said with a hard cluster (``ve 2. čtvrtletí``,
``ve 12. týdnu``, ``ve 13. týdnu``; but ``v 1. pololetí``).
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
    """``v`` or ``ve`` before a Czech ordinal: ``ve`` before druhém, třetím, čtvrtém,
    dvanáctém, třináctém, čtrnáctém and dvacátém to čtyřicátém devátém."""
    return "ve" if ordinal in (2, 3, 4, 12, 13, 14) or 20 <= ordinal <= 49 else "v"


def format_day(day: dt.date, language: str) -> str:
    return format_date(day, format="long", locale=BABEL_LOCALE[language])


UNKNOWN = {"cs": "termín zatím neznámý", "en": "date not yet known"}

WINDOWS = {
    "cs": {
        Precision.WEEK: "{v} {n}. týdnu {year}",
        Precision.MONTH: "v {month_locative} {year}",
        Precision.QUARTER: "{v} {n}. čtvrtletí {year}",
        Precision.HALF: "{v} {n}. pololetí {year}",
        Precision.YEAR: "v roce {year}",
    },
    "en": {
        Precision.WEEK: "in week {n} of {year}",
        Precision.MONTH: "in {month} {year}",
        Precision.QUARTER: "in Q{n} {year}",
        Precision.HALF: "in H{n} {year}",
        Precision.YEAR: "in {year}",
    },
}
"""How each language says a window; ``{n}`` is the week, quarter or half of ``{year}``."""


def _number(precision: Precision, start: dt.date) -> tuple[int, int]:
    """The ordinal a window is named by, and its year (ISO year for weeks)."""
    if precision is Precision.WEEK:
        year, week, _ = start.isocalendar()
        return week, year
    if precision is Precision.QUARTER:
        return (start.month - 1) // 3 + 1, start.year
    if precision is Precision.HALF:
        return (1 if start.month <= 6 else 2), start.year
    return start.month, start.year


def format_eta(eta: ETA, language: str) -> str:
    """The window of an ETA as a phrase: ``v březnu 2027``, ``in Q2 2027``, ``15 March 2027``."""
    start = eta.earliest
    if start is None or eta.precision is Precision.UNKNOWN:
        return UNKNOWN[language]
    if eta.precision is Precision.DAY:
        return format_day(start, language)
    n, year = _number(eta.precision, start)
    return WINDOWS[language][eta.precision].format(
        n=n,
        year=year,
        v=cs_preposition(n),
        month=format_date(start, "LLLL", locale=BABEL_LOCALE[language]),
        month_locative=CS_MONTH_LOCATIVE[start.month - 1],
    )
