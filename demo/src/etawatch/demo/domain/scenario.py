"""The scenario clock: the portal's catalogue moves on day by day, deterministic from the seed.

Each day draws from its own random stream (``seed`` and day number), so advancing by three days
at once or by one day three times gives the same state and the same ground truth. Per day:
items whose date has come arrive (or slip), a share of ETAs slip later, fewer move earlier, some
``TBA`` dates become known, a few items sell out or are discontinued, the few flapping rows
toggle, some ETAs are re-worded without changing, new items appear and old ones vanish. Every
visible change goes to the ground-truth log; a change of ETA text is classified with
``parse_eta`` as a real move of the window or a mere re-wording.
"""

import datetime as dt
import random
import threading
from collections import defaultdict
from collections.abc import Callable

from etawatch.contracts.availability import Availability
from etawatch.contracts.eta import Precision
from etawatch.demo.domain.catalogue import initial_item, new_item
from etawatch.demo.domain.ground_truth import (
    ChangeKind,
    GroundTruthChange,
    classify_eta,
    net_changes,
)
from etawatch.demo.domain.items import ItemState, PortalItem
from etawatch.demo.domain.wording import AVAILABILITY_WORDS, DATED_PRECISIONS, eta_phrasings

# Expected share of the catalogue that each kind of event touches per day.
SLIP_RATE = 0.01
EARLIER_RATE = 0.003
ANNOUNCE_RATE = 0.003
SOLD_OUT_RATE = 0.0008
DISCONTINUE_RATE = 0.0003
REWORD_RATE = 0.02
APPEAR_RATE = 0.002
VANISH_RATE = 0.001
ARRIVAL_SLIPS = 0.35
"""Chance that an item whose day has come slips instead of arriving."""
FLAPPER_SHARE = 0.005

_WAITING = (Availability.PRE_ORDER, Availability.DELAYED)
_FLAP = {
    Availability.IN_STOCK: Availability.SOLD_OUT,
    Availability.SOLD_OUT: Availability.IN_STOCK,
    Availability.PRE_ORDER: Availability.DELAYED,
    Availability.DELAYED: Availability.PRE_ORDER,
}


def _waiting(item: ItemState) -> bool:
    return item.availability in _WAITING


def _waiting_without_date(item: ItemState) -> bool:
    return _waiting(item) and item.precision is Precision.UNKNOWN


def _in_stock(item: ItemState) -> bool:
    return item.availability is Availability.IN_STOCK


def _still_sold(item: ItemState) -> bool:
    return item.availability is not Availability.DISCONTINUED


def _steady(item: ItemState) -> bool:
    """Flapping rows stay for the whole scenario."""
    return not item.flaps


def _rewordable(item: ItemState) -> bool:
    return len(eta_phrasings(item.availability, item.precision, item.target)) > 1


class Scenario:
    """The portal's catalogue and its ground truth. Thread-safe: the web server reads while a
    test or the demo advances it."""

    def __init__(self, items: int, seed: int, start: dt.date) -> None:
        self._lock = threading.RLock()
        self._seed = seed
        self._start = start
        self._day = 0
        self._items: dict[str, ItemState] = {}
        self._order: list[str] = []
        self._due: defaultdict[dt.date, set[str]] = defaultdict(set)
        self._log: list[GroundTruthChange] = []
        rng = random.Random(f"{seed}:catalogue")  # noqa: S311 - a simulation, not security
        for number in range(1, items + 1):
            self._add(initial_item(rng, number, start))
        self._next_number = items + 1
        candidates = [s for s in self._order if self._items[s].availability in _FLAP]
        wanted = min(len(candidates), max(1, round(items * FLAPPER_SHARE))) if items else 0
        for sku in rng.sample(candidates, wanted):
            self._items[sku].flaps = True
        self._flappers = sorted(s for s in self._order if self._items[s].flaps)

    # --- reading ------------------------------------------------------------------------------

    @property
    def today(self) -> dt.date:
        return self._start + dt.timedelta(days=self._day)

    @property
    def day(self) -> int:
        """Days advanced since the start."""
        return self._day

    def count(self) -> int:
        return len(self._order)

    def page(self, offset: int, limit: int) -> list[PortalItem]:
        """Rows ``offset`` .. ``offset + limit`` in catalogue order (by SKU)."""
        with self._lock:
            today = self.today
            return [self._items[s].snapshot(today) for s in self._order[offset : offset + limit]]

    def catalogue(self) -> list[PortalItem]:
        """Every current row, in catalogue order."""
        return self.page(0, len(self._order))

    def item(self, sku: str) -> PortalItem | None:
        """The state of one item now, or ``None`` when it is not (or no longer) in the portal."""
        with self._lock:
            state = self._items.get(sku)
            return None if state is None else state.snapshot(self.today)

    def ground_truth(self, since: dt.date | None = None) -> list[GroundTruthChange]:
        """Every change made after ``since`` (all of them when ``None``), oldest first."""
        with self._lock:
            if since is None:
                return list(self._log)
            return [c for c in self._log if c.at > since]

    def ground_truth_size(self) -> int:
        return len(self._log)

    def net_changes(self, since: dt.date | None = None) -> list[GroundTruthChange]:
        """The changes a reader who looked on ``since`` sees now (see ``net_changes``)."""
        return net_changes(self.ground_truth(since))

    # --- moving on ----------------------------------------------------------------------------

    def advance(self, days: int = 1) -> list[GroundTruthChange]:
        """Move the scenario on by ``days`` days; returns the changes made."""
        if days < 0:
            raise ValueError(f"the scenario clock only moves forward, not by {days} days")
        with self._lock:
            first = len(self._log)
            for _ in range(days):
                self._day += 1
                self._step(random.Random(f"{self._seed}:day:{self._day}"))  # noqa: S311
            return self._log[first:]

    def _step(self, rng: random.Random) -> None:
        touched: set[str] = set()  # one change per item and day
        self._arrivals(rng, touched)
        self._moves(rng, touched)
        for sku in self._flappers:
            flapper = self._items[sku]
            if sku not in touched and flapper.availability in _FLAP and rng.random() < 0.5:
                touched.add(sku)
                self._apply(flapper, rng, availability=_FLAP[flapper.availability])
        n = len(self._order)
        for item in self._pick(rng, n * REWORD_RATE, _rewordable, touched, at_least=1):
            self._apply(item, rng, reword=True)
        for _ in range(self._count(rng, n * APPEAR_RATE)):
            self._appear(new_item(rng, self._next_number, self.today))
            self._next_number += 1
        self._vanish(self._pick(rng, n * VANISH_RATE, _steady, touched))

    def _arrivals(self, rng: random.Random, touched: set[str]) -> None:
        """Items whose day has come arrive, or slip."""
        for sku in sorted(self._due.pop(self.today, ())):
            touched.add(sku)
            item = self._items[sku]
            if rng.random() < ARRIVAL_SLIPS:
                self._slip(item, rng, delayed=True)
            else:
                self._apply(item, rng, availability=Availability.IN_STOCK)

    def _moves(self, rng: random.Random, touched: set[str]) -> None:
        """Dates slip or move earlier, unknown dates become known, items sell out or end."""
        n, today = len(self._order), self.today
        soon = today + dt.timedelta(days=14)

        def waiting_long(item: ItemState) -> bool:
            return _waiting(item) and item.target > soon

        for item in self._pick(rng, n * SLIP_RATE, _waiting, touched, at_least=1):
            self._slip(item, rng, delayed=rng.random() < 0.3)
        for item in self._pick(rng, n * EARLIER_RATE, waiting_long, touched):
            earlier = item.target - dt.timedelta(days=rng.randint(7, 30))
            self._apply(item, rng, target=max(earlier, today + dt.timedelta(days=1)))
        for item in self._pick(rng, n * ANNOUNCE_RATE, _waiting_without_date, touched):
            self._apply(item, rng, precision=rng.choice(DATED_PRECISIONS))
        for item in self._pick(rng, n * SOLD_OUT_RATE, _in_stock, touched):
            self._apply(item, rng, availability=Availability.SOLD_OUT)
        for item in self._pick(rng, n * DISCONTINUE_RATE, _still_sold, touched):
            self._apply(item, rng, availability=Availability.DISCONTINUED)

    # --- the kinds of change ------------------------------------------------------------------

    def _slip(self, item: ItemState, rng: random.Random, *, delayed: bool) -> None:
        target = max(item.target, self.today) + dt.timedelta(days=rng.randint(7, 90))
        availability = Availability.DELAYED if delayed else item.availability
        self._apply(item, rng, availability=availability, target=target)

    def _apply(
        self,
        item: ItemState,
        rng: random.Random,
        *,
        availability: Availability | None = None,
        precision: Precision | None = None,
        target: dt.date | None = None,
        reword: bool = False,
    ) -> None:
        """Change one item and log every visible change."""
        before_availability, before_text = item.availability, item.eta_text
        self._due[item.target].discard(item.sku)
        item.availability = availability or item.availability
        item.precision = precision or item.precision
        item.target = target or item.target
        phrasings = eta_phrasings(item.availability, item.precision, item.target)
        if reword:
            item.eta_text = rng.choice([p for p in phrasings if p != item.eta_text])
        elif item.eta_text not in phrasings:  # same window, same words: nothing to re-type
            item.eta_text = rng.choice(phrasings)
        if item.availability in _WAITING:
            self._due[item.target].add(item.sku)
        today = self.today
        if item.availability is not before_availability:
            self._log.append(
                GroundTruthChange(
                    at=today,
                    sku=item.sku,
                    field="availability",
                    before=AVAILABILITY_WORDS[before_availability],
                    after=AVAILABILITY_WORDS[item.availability],
                    kind=ChangeKind.AVAILABILITY,
                )
            )
        if item.eta_text != before_text:
            kind, shift = classify_eta(before_text, item.eta_text, today)
            self._log.append(
                GroundTruthChange(
                    at=today,
                    sku=item.sku,
                    field="eta",
                    before=before_text,
                    after=item.eta_text,
                    kind=kind,
                    shift=shift,
                )
            )

    def _appear(self, item: ItemState) -> None:
        self._add(item)
        self._log.append(
            GroundTruthChange(
                at=self.today,
                sku=item.sku,
                field="item",
                before=None,
                after=item.name,
                kind=ChangeKind.APPEARED,
            )
        )

    def _vanish(self, items: list[ItemState]) -> None:
        if not items:
            return
        for item in sorted(items, key=lambda i: i.sku):
            del self._items[item.sku]
            self._due[item.target].discard(item.sku)
            self._log.append(
                GroundTruthChange(
                    at=self.today,
                    sku=item.sku,
                    field="item",
                    before=item.name,
                    after=None,
                    kind=ChangeKind.VANISHED,
                )
            )
        self._order = [s for s in self._order if s in self._items]

    # --- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _count(rng: random.Random, expected: float, at_least: int = 0) -> int:
        whole = int(expected)
        return max(at_least, whole + (rng.random() < expected - whole))

    def _pick(
        self,
        rng: random.Random,
        expected: float,
        eligible: Callable[[ItemState], bool],
        touched: set[str],
        at_least: int = 0,
    ) -> list[ItemState]:
        """About ``expected`` random items that are eligible and not yet changed today."""
        wanted = self._count(rng, expected, at_least) if self._order else 0
        picked: list[ItemState] = []
        for _ in range(wanted * 4):
            if len(picked) == wanted:
                break
            item = self._items[rng.choice(self._order)]
            if item.sku not in touched and eligible(item):
                touched.add(item.sku)
                picked.append(item)
        return picked

    def _add(self, item: ItemState) -> None:
        self._items[item.sku] = item
        self._order.append(item.sku)
        if item.availability in _WAITING:
            self._due[item.target].add(item.sku)
