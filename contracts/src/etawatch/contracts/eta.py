"""Expected delivery dates as suppliers write them, and the windows they stand for.

An ETA is not a date. ``15. 3. 2027``, ``03/2027``, ``Q2 2027`` and ``TBA`` are all ETAs; each
is kept as raw text together with the window of dates it allows (``earliest``..``latest``) and
how precise that window is. Changes are comparisons of windows, never of wording.

``parse_eta`` never raises and never guesses: what it cannot read, or a date that cannot exist,
has precision ``unknown`` and keeps its raw text.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Self

from pydantic import model_validator

from etawatch.contracts.base import ContractModel


class Precision(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"
    UNKNOWN = "unknown"


class ETA(ContractModel):
    """Raw supplier text and the window of dates it stands for."""

    raw: str
    earliest: dt.date | None = None
    latest: dt.date | None = None
    precision: Precision = Precision.UNKNOWN

    @model_validator(mode="after")
    def _window_is_consistent(self) -> Self:
        if self.precision is Precision.UNKNOWN:
            if self.earliest is not None or self.latest is not None:
                raise ValueError("an unknown ETA has no window")
        elif self.earliest is None or self.latest is None:
            raise ValueError("a known ETA needs both earliest and latest")
        elif self.earliest > self.latest:
            raise ValueError("earliest must not be after latest")
        return self

    @property
    def known(self) -> bool:
        return self.precision is not Precision.UNKNOWN

    def same_window(self, other: ETA) -> bool:
        """True when both stand for the same dates, however they are worded."""
        return (self.earliest, self.latest, self.precision is Precision.UNKNOWN) == (
            other.earliest,
            other.latest,
            other.precision is Precision.UNKNOWN,
        )


class Shift(StrEnum):
    SAME = "same"
    LATER = "later"
    EARLIER = "earlier"
    REFINED = "refined"  # the new window lies inside the old one and ends earlier
    BECAME_KNOWN = "became_known"
    BECAME_UNKNOWN = "became_unknown"


@dataclass(frozen=True, slots=True)
class EtaComparison:
    shift: Shift
    days: int | None
    """Days the latest date moved (positive: later); ``None`` when either side is unknown."""


def compare_eta(old: ETA, new: ETA) -> EtaComparison:  # noqa: PLR0911 - one return per outcome
    """Say whether ``new`` is later, earlier or the same as ``old``, at the latest date."""
    if not old.known and not new.known:
        return EtaComparison(Shift.SAME, None)
    if not old.known:
        return EtaComparison(Shift.BECAME_KNOWN, None)
    if not new.known:
        return EtaComparison(Shift.BECAME_UNKNOWN, None)
    if old.earliest is None or old.latest is None or new.earliest is None or new.latest is None:
        raise AssertionError("a known ETA has a window")  # guaranteed by the model validator
    days = (new.latest - old.latest).days
    if old.same_window(new):
        return EtaComparison(Shift.SAME, 0)
    if days > 0:
        return EtaComparison(Shift.LATER, days)
    if new.earliest >= old.earliest and new.latest <= old.latest:
        return EtaComparison(Shift.REFINED, days)
    if days < 0:
        return EtaComparison(Shift.EARLIER, days)
    # Same latest date, window opened earlier: the date may now come sooner.
    return EtaComparison(Shift.EARLIER, 0)


# --- parsing ---------------------------------------------------------------------------------

UNKNOWN_PHRASES = frozenset(
    {
        "",
        "-",
        "--",
        "?",
        "tba",
        "tbc",
        "tbd",
        "n/a",
        "na",
        "nezname",
        "neznamy",
        "neznamy termin",
        "termin neznamy",
        "nezname datum",
        "v jednani",
        "upresnime",
        "bude upresneno",
        "unknown",
        "to be announced",
        "to be confirmed",
        "skladem",
        "ihned",
        "in stock",
        "now",
    }
)

_FILLER = (
    "predpokladane datum",
    "predpokladany termin",
    "predpokladane",
    "predpokladany",
    "predpoklad",
    "ocekavane",
    "ocekavany",
    "ocekavano",
    "termin",
    "naskladneni",
    "dodani",
    "priblizne",
    "behem",
    "cca",
    "ca",
    "asi",
    "expected",
    "approximately",
    "approx",
    "est",
    "eta",
    "during",
    "in",
    "ve",
    "v",
)
_FILLER_RE = re.compile(r"^(?:(?:" + "|".join(_FILLER) + r")\b[.:]?\s*)+")

_CS_MONTHS = {
    1: ("leden", "ledna", "lednu", "lednem"),
    2: ("unor", "unora", "unoru", "unorem"),
    3: ("brezen", "brezna", "breznu", "breznem"),
    4: ("duben", "dubna", "dubnu", "dubnem"),
    5: ("kveten", "kvetna", "kvetnu", "kvetnem"),
    6: ("cerven", "cervna", "cervnu", "cervnem"),
    7: ("cervenec", "cervence", "cervenci", "cervencem"),
    8: ("srpen", "srpna", "srpnu", "srpnem"),
    9: ("zari", "zarim"),
    10: ("rijen", "rijna", "rijnu", "rijnem"),
    11: ("listopad", "listopadu", "listopadem"),
    12: ("prosinec", "prosince", "prosinci", "prosincem"),
}
_EN_NAMES = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_EN_MONTHS = {i: (name, name[:3]) for i, name in enumerate(_EN_NAMES, start=1)}
_DE_MONTHS = {
    3: ("marz",),
    5: ("mai",),
    6: ("juni",),
    7: ("juli",),
    10: ("oktober", "okt"),
    12: ("dezember", "dez"),
}

MONTH_WORDS: dict[str, int] = {"sept": 9}
for _table in (_CS_MONTHS, _EN_MONTHS, _DE_MONTHS):
    for _month, _words in _table.items():
        for _word in _words:
            MONTH_WORDS[_word] = _month

_MONTH = r"(?P<mname>" + "|".join(sorted(MONTH_WORDS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<year>\d{4}|\d{2})"
_OPT_YEAR = r"(?:[\s,/'-]*" + _YEAR + r")?"
# After a month name a bare two-digit number is a day as often as a year: only ``'27`` or
# ``/27`` count as a year there.
_OPT_YEAR_AFTER_WORD = r"(?:[\s,]*(?P<year>\d{4})|\s*['/-]\s*(?P<yy>\d{2}))?"
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_ORDINAL = {"prvni": 1, "druhe": 2, "treti": 3, "ctvrte": 4, "first": 1, "second": 2, "third": 3}
_NUM = r"(?P<n>[1-4]|iv|iii|ii|i|prvni|druhe|treti|ctvrte|first|second|third)"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso_date", re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})")),
    ("iso_week", re.compile(r"(?P<year>\d{4})-?w(?P<week>\d{1,2})")),
    (
        "week",
        re.compile(
            r"(?:tyden|tyd|kw|cw|wk|week|w|t)\.?\s*(?P<week>\d{1,2})"
            + _OPT_YEAR
            + r"|(?P<week2>\d{1,2})\.\s*(?:tyden|tyd)\.?"
            + _OPT_YEAR.replace("year", "year2")
        ),
    ),
    (
        "dmy",
        re.compile(r"(?P<day>\d{1,2})\s*[./-]\s*(?P<month>\d{1,2})\s*(?:[./-]\s*" + _YEAR + r"?)?"),
    ),
    ("day_month_name", re.compile(r"(?P<day>\d{1,2})\.?\s+" + _MONTH + _OPT_YEAR_AFTER_WORD)),
    (
        "month_name_day",
        re.compile(_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})"),
    ),
    ("ym", re.compile(r"(?P<year>\d{4})\s*[/.-]\s*(?P<month>\d{1,2})")),
    ("my", re.compile(r"(?P<month>\d{1,2})\s*[/.-]\s*(?P<year>\d{4}|\d{2})")),
    ("my_spaced", re.compile(r"(?P<month>\d{1,2})\.\s+(?P<year>\d{4})")),
    (
        "quarter",
        re.compile(
            r"q\s*(?P<n>[1-4])"
            + _OPT_YEAR
            + r"|(?P<n2>[1-4])\s*q"
            + _OPT_YEAR.replace("year", "year2")
            + r"|(?P<n3>[1-4]|iv|iii|ii|i|prvni|druhe|treti|ctvrte|first|second|third|fourth)"
            r"\.?\s*(?:ctvrtleti|kvartal|quarter|qtr)"
            + _OPT_YEAR.replace("year", "year3")
            + r"|(?P<year4>\d{4})\s*[/-]?\s*q\s*(?P<n4>[1-4])"
        ),
    ),
    (
        "half",
        re.compile(
            r"h\s*(?P<n>[12])"
            + _OPT_YEAR
            + r"|(?P<n2>[12])\s*h"
            + _OPT_YEAR.replace("year", "year2")
            + r"|"
            + _NUM.replace("?P<n>", "?P<n3>")
            + r"\.?\s*(?:pololeti|pol\.|half)"
            + _OPT_YEAR.replace("year", "year3")
            + r"|(?P<year4>\d{4})\s*[/-]?\s*h\s*(?P<n4>[12])"
        ),
    ),
    (
        "month_part",
        re.compile(
            r"(?:zacatek|polovina|konec|early|mid|end of|late)\s+" + _MONTH + _OPT_YEAR_AFTER_WORD
        ),
    ),
    ("year_part", re.compile(r"(?P<part>zacatek|konec|early|end of|late)(?:\s+roku)?" + _OPT_YEAR)),
    ("month_name", re.compile(_MONTH + _OPT_YEAR_AFTER_WORD)),
    ("year", re.compile(r"(?:rok\s+|roku\s+)?(?P<year>\d{4})")),
]

_FOURTH = {"fourth": 4}


def normalise(raw: str) -> str:
    """Lower case, no diacritics, single spaces, no surrounding punctuation."""
    text = unicodedata.normalize("NFKD", raw)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("\u2013", "-").replace("\u2014", "-")
    return re.sub(r"\s+", " ", text).strip(" \t.,;:")


def is_unreadable(eta: ETA) -> bool:
    """True when the supplier wrote something ``parse_eta`` could not read.

    ``TBA`` or an empty cell is a supplier saying it does not know: that is read fine.
    """
    return not eta.known and normalise(eta.raw) not in UNKNOWN_PHRASES


def parse_eta(raw: str, today: dt.date) -> ETA:
    """Read a supplier's ETA text. Never raises; never guesses."""
    unknown = ETA(raw=raw)
    try:
        text = normalise(raw)
        if text in UNKNOWN_PHRASES:
            return unknown
        text = _FILLER_RE.sub("", text).strip(" .,:")
        for name, pattern in _PATTERNS:
            match = pattern.fullmatch(text)
            if match is None:
                continue
            window = _WINDOW_BUILDERS[name](match.groupdict(), today)
            if window is None:
                continue  # an impossible reading; another pattern may read it differently
            earliest, latest, precision = window
            return ETA(raw=raw, earliest=earliest, latest=latest, precision=precision)
    except (ValueError, OverflowError):
        return unknown
    return unknown


Window = tuple[dt.date, dt.date, Precision]
_Groups = dict[str, str | None]


def _first(groups: _Groups, *names: str) -> str | None:
    for name in names:
        value = groups.get(name)
        if value is not None:
            return value
    return None


def _year(value: str | None, today: dt.date) -> int | None:
    """A four-digit year as written; a two-digit one in today's century (within 50 years)."""
    if value is None:
        return None
    year = int(value)
    if len(value) == 2:
        year += today.year // 100 * 100
        if year > today.year + 50:
            year -= 100
    return year


YearToWindow = Callable[[int], Window | None]


def _with_year(written: str | None, today: dt.date, build: YearToWindow) -> Window | None:
    """Build the window for the year written, or resolve a missing year against ``today``.

    Without a year, the window is this year's unless that ended more than a quarter ago.
    """
    year = _year(written, today)
    if year is not None:
        return build(year)
    window = build(today.year)
    if window is not None and window[1] < today - dt.timedelta(days=92):
        window = build(today.year + 1)
    return window


def _month_window(year: int, month: int) -> Window | None:
    if not 1 <= month <= 12:
        return None
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, 1), dt.date(year, month, last), Precision.MONTH


def _day_window(year: int, month: int, day: int) -> Window | None:
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return None
    return date, date, Precision.DAY


def _quarter_window(year: int, quarter: int) -> Window | None:
    if not 1 <= quarter <= 4:
        return None
    first = 3 * quarter - 2
    last = 3 * quarter
    return (
        dt.date(year, first, 1),
        dt.date(year, last, calendar.monthrange(year, last)[1]),
        Precision.QUARTER,
    )


def _half_window(year: int, half: int) -> Window | None:
    if half == 1:
        return dt.date(year, 1, 1), dt.date(year, 6, 30), Precision.HALF
    if half == 2:
        return dt.date(year, 7, 1), dt.date(year, 12, 31), Precision.HALF
    return None


def _week_window(year: int, week: int) -> Window | None:
    try:
        monday = dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        return None
    return monday, monday + dt.timedelta(days=6), Precision.WEEK


def _ordinal(value: str | None) -> int | None:
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    return _ROMAN.get(value) or _ORDINAL.get(value) or _FOURTH.get(value)


def _b_iso_date(g: _Groups, _today: dt.date) -> Window | None:
    return _day_window(int(g["year"] or 0), int(g["month"] or 0), int(g["day"] or 0))


def _b_dmy(g: _Groups, today: dt.date) -> Window | None:
    month, day = int(g["month"] or 0), int(g["day"] or 0)
    return _with_year(g["year"], today, lambda y: _day_window(y, month, day))


def _b_day_month_name(g: _Groups, today: dt.date) -> Window | None:
    month, day = MONTH_WORDS[g["mname"] or ""], int(g["day"] or 0)
    return _with_year(_first(g, "year", "yy"), today, lambda y: _day_window(y, month, day))


def _b_month_numeric(g: _Groups, today: dt.date) -> Window | None:
    month = int(g["month"] or 0)
    return _with_year(g["year"], today, lambda y: _month_window(y, month))


def _b_month_name(g: _Groups, today: dt.date) -> Window | None:
    month = MONTH_WORDS[g["mname"] or ""]
    return _with_year(_first(g, "year", "yy"), today, lambda y: _month_window(y, month))


def _b_week(g: _Groups, today: dt.date) -> Window | None:
    week = int(_first(g, "week", "week2") or 0)
    return _with_year(_first(g, "year", "year2"), today, lambda y: _week_window(y, week))


def _b_quarter(g: _Groups, today: dt.date) -> Window | None:
    quarter = _ordinal(_first(g, "n", "n2", "n3", "n4")) or 0
    written = _first(g, "year", "year2", "year3", "year4")
    return _with_year(written, today, lambda y: _quarter_window(y, quarter))


def _b_half(g: _Groups, today: dt.date) -> Window | None:
    half = _ordinal(_first(g, "n", "n2", "n3", "n4")) or 0
    written = _first(g, "year", "year2", "year3", "year4")
    return _with_year(written, today, lambda y: _half_window(y, half))


def _b_year_part(g: _Groups, today: dt.date) -> Window | None:
    quarter = 1 if g["part"] in ("zacatek", "early") else 4
    return _with_year(g["year"], today, lambda y: _quarter_window(y, quarter))


def _b_year(g: _Groups, _today: dt.date) -> Window | None:
    year = int(g["year"] or 0)
    if not 1 <= year <= 9999:
        return None
    return dt.date(year, 1, 1), dt.date(year, 12, 31), Precision.YEAR


_WINDOW_BUILDERS: dict[str, Callable[[_Groups, dt.date], Window | None]] = {
    "iso_date": _b_iso_date,
    "iso_week": _b_week,
    "week": _b_week,
    "dmy": _b_dmy,
    "day_month_name": _b_day_month_name,
    "month_name_day": _b_day_month_name,
    "ym": _b_month_numeric,
    "my": _b_month_numeric,
    "my_spaced": _b_month_numeric,
    "quarter": _b_quarter,
    "half": _b_half,
    "month_part": _b_month_name,
    "year_part": _b_year_part,
    "month_name": _b_month_name,
    "year": _b_year,
}
