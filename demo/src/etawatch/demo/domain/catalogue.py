"""New catalogue rows: a plausible figure, its state, and a date written the supplier's way."""

import datetime as dt
import random

from etawatch.contracts.availability import Availability
from etawatch.contracts.eta import Precision
from etawatch.demo.domain.items import ItemState
from etawatch.demo.domain.names import figure, one_of
from etawatch.demo.domain.wording import eta_phrasings

# How often the supplier writes a date to the day, week, ... or not at all (``TBA``), in %.
PRECISIONS = (
    *[Precision.DAY] * 25,
    *[Precision.WEEK] * 10,
    *[Precision.MONTH] * 30,
    *[Precision.QUARTER] * 20,
    *[Precision.HALF] * 7,
    *[Precision.UNKNOWN] * 8,
)
# The state of the catalogue at day 0, in %.
STATES = (
    *[Availability.PRE_ORDER] * 55,
    *[Availability.DELAYED] * 15,
    *[Availability.IN_STOCK] * 20,
    *[Availability.SOLD_OUT] * 6,
    *[Availability.DISCONTINUED] * 4,
)


def sku_of(number: int) -> str:
    return f"FK-{number:06d}"


def initial_item(rng: random.Random, number: int, today: dt.date) -> ItemState:
    """A row of the catalogue at day 0: any state, due in 5..540 days (so that some waiting items
    arrive or slip within the demo's first weeks)."""
    return _item(rng, number, one_of(rng, STATES), today, 5 + int(rng.random() * 535))


def new_item(rng: random.Random, number: int, today: dt.date) -> ItemState:
    """A row that appears later: always a fresh pre-order, due in 60..540 days."""
    return _item(rng, number, Availability.PRE_ORDER, today, 60 + int(rng.random() * 480))


def _item(
    rng: random.Random, number: int, availability: Availability, today: dt.date, days: int
) -> ItemState:
    # rng.random() rather than randint/choice: 100,000 rows are built at start.
    name, maker = figure(rng)
    precision = one_of(rng, PRECISIONS)
    target = today + dt.timedelta(days=days)
    return ItemState(
        sku=sku_of(number),
        name=name,
        manufacturer=maker,
        availability=availability,
        precision=precision,
        target=target,
        eta_text=one_of(rng, eta_phrasings(availability, precision, target)),
        allocated=int(rng.random() * 51),
    )
