"""The events the ledger's relay publishes, for its AsyncAPI document."""

from etawatch.contracts import topology
from etawatch.contracts.messages import ETAChanged, ItemMissing, ItemReturned, ScrapeHealthDegraded
from etawatch.runtime.asyncapi import Publication

PUBLICATIONS = (
    Publication(
        ETAChanged,
        topology.LEDGER_EXCHANGE,
        topology.RK_ETA_CHANGED,
        "A supplier item changed, as it touches one line of one open order.",
    ),
    Publication(
        ItemMissing,
        topology.LEDGER_EXCHANGE,
        topology.RK_ITEM_MISSING,
        "An item was absent from complete runs in a row.",
    ),
    Publication(
        ItemReturned,
        topology.LEDGER_EXCHANGE,
        topology.RK_ITEM_RETURNED,
        "A missing item is back in the supplier's table.",
    ),
    Publication(
        ScrapeHealthDegraded,
        topology.LEDGER_EXCHANGE,
        topology.RK_HEALTH_DEGRADED,
        "A supplier's scrapes failed too often in a row.",
    ),
)
