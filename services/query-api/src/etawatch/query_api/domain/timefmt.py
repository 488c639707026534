"""One text form for moments and dates, so views compare and sort as text and rebuild equal."""

import datetime as dt
from typing import Any


def iso(moment: dt.datetime) -> str:
    """UTC, microseconds, ``+00:00``: the same moment always gives the same text."""
    if moment.tzinfo is not dt.UTC:
        moment = (moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment).astimezone(
            dt.UTC
        )
    return moment.isoformat(timespec="microseconds")


def latest_date(eta: dict[str, Any] | None) -> dt.date | None:
    if not eta or not eta.get("latest"):
        return None
    return dt.date.fromisoformat(str(eta["latest"]))
