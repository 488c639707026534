"""The demo shop's customers and what they ordered.

Orders are chosen by looking ahead: a copy of the portal's scenario (same seed) is run forward,
and the shop "ordered" items that will really change (so the demo has something to tell), among
them those that come in stock, a discontinued one and a flapping one when the scenario has them,
plus some that stay put.
"""

import datetime as dt
import random
from collections.abc import Iterable

from etawatch.contracts.availability import Availability
from etawatch.contracts.messages import OrderLine, OrderPlaced
from etawatch.demo.portal import AVAILABILITY_WORDS, GroundTruthChange, Scenario

FIRST_SHOWN = {
    AVAILABILITY_WORDS[Availability.DISCONTINUED],
    AVAILABILITY_WORDS[Availability.IN_STOCK],
}

FIRST_NAMES = ["Jana", "Petr", "Lucie", "Tomáš", "Eva", "Martin", "Kateřina", "Jakub", "Anna"]
LAST_NAMES = ["Nováková", "Svoboda", "Dvořáková", "Černý", "Procházková", "Kučera", "Veselá"]
EN_NAMES = ["Alice Walker", "Ben Carter", "Chloe Evans", "Daniel Hughes", "Emma Clarke"]


def interesting_skus(changes: Iterable[GroundTruthChange]) -> list[str]:
    """Skus with real changes: discontinued and arrived first, then flapping, then the rest."""
    real = [c for c in changes if c.is_real]
    by_sku: dict[str, list[GroundTruthChange]] = {}
    for change in real:
        by_sku.setdefault(change.sku, []).append(change)

    def rank(sku: str) -> tuple[int, str]:
        history = by_sku[sku]
        if any(c.after in FIRST_SHOWN for c in history):
            return (0, sku)
        fields = [c.field for c in history]
        if any(fields.count(f) > 1 for f in set(fields)):
            return (1, sku)  # changed more than once: may flap back
        return (2, sku)

    return sorted(by_sku, key=rank)


def plan_orders(
    supplier: str, items: int, seed: int, start: dt.date, days: int, *, orders: int = 30
) -> list[OrderPlaced]:
    """Deterministic orders over items that the next ``days`` of the scenario will change."""
    lookahead = Scenario(items, seed, start)
    steady = [item.sku for item in lookahead.catalogue()]
    lookahead.advance(days)
    changing = interesting_skus(lookahead.ground_truth())
    rng = random.Random(seed)  # noqa: S311 - a repeatable demo, not a secret
    pool = changing[: orders * 2] + rng.sample(steady, k=min(len(steady), orders // 2))
    names = {item.sku: item.name for item in Scenario(items, seed, start).catalogue()}
    placed_at = dt.datetime.combine(start, dt.time(9, 0), tzinfo=dt.UTC)
    result: list[OrderPlaced] = []
    for number in range(orders):
        skus = pool[number::orders][:3] or [rng.choice(steady)]
        english = number % 4 == 3
        name = (
            EN_NAMES[number % len(EN_NAMES)]
            if english
            else f"{FIRST_NAMES[number % len(FIRST_NAMES)]} {LAST_NAMES[number % len(LAST_NAMES)]}"
        )
        result.append(
            OrderPlaced(
                shop_order_id=f"DEMO-{1001 + number}",
                placed_at=placed_at,
                customer_id=f"C-{501 + number}",
                email=f"customer{501 + number}@example.com",
                customer_name=name,
                locale="en" if english else "cs",
                lines=tuple(
                    OrderLine(
                        supplier=supplier,
                        sku=sku,
                        name=names.get(sku, sku),
                        quantity=1 + (number + i) % 2,
                    )
                    for i, sku in enumerate(dict.fromkeys(skus))
                    if sku in names
                )
                or (
                    OrderLine(supplier=supplier, sku=steady[0], name=names[steady[0]], quantity=1),
                ),
            )
        )
    return result
