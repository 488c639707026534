"""The demo's shop orders the items its scenario will change, so `--cycles 3` shows each kind."""

from collections import defaultdict

from etawatch.allinone.demo import DemoOptions
from etawatch.allinone.orders import plan_orders
from etawatch.contracts.availability import Availability
from etawatch.demo.config import DEFAULT_START
from etawatch.demo.portal import AVAILABILITY_WORDS, Scenario

SUPPLIER = "figurky-praha"


def test_three_default_cycles_show_an_arrival_an_end_and_a_flapper_on_ordered_items() -> None:
    options = DemoOptions()
    cycles = 3
    days = options.days_per_cycle * (cycles - 1)  # the first cycle is the baseline
    scenario = Scenario(options.items, options.seed, DEFAULT_START)
    scenario.advance(days)
    horizon = options.days_per_cycle * max(cycles, 2)  # what `Demo` looks ahead
    orders = plan_orders(
        SUPPLIER, options.items, options.seed, DEFAULT_START, horizon, orders=options.orders
    )
    ordered = {line.sku for order in orders for line in order.lines}

    became: dict[str, list[str | None]] = defaultdict(list)
    for change in scenario.ground_truth():
        if change.is_real and change.field == "availability" and change.sku in ordered:
            became[change.sku].append(change.after)
    words = {AVAILABILITY_WORDS[a]: a for a in Availability if a in AVAILABILITY_WORDS}

    def skus_that_became(state: Availability) -> list[str]:
        return [sku for sku, afters in became.items() if words.get(afters[-1] or "") is state]

    assert skus_that_became(Availability.IN_STOCK), "no ordered item comes in stock"
    assert skus_that_became(Availability.DISCONTINUED), "no ordered item is discontinued"
    assert any(len(afters) > 2 for afters in became.values()), "no ordered item flaps"
