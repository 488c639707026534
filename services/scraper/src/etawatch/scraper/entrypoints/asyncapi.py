"""The scraper's publications, for its AsyncAPI document (it publishes through ``RabbitBus``)."""

from etawatch.contracts import topology
from etawatch.contracts.messages import (
    ItemAvailabilityObserved,
    ScrapeRunCompleted,
    ScrapeRunFailed,
    ScrapeRunStarted,
)
from etawatch.runtime.asyncapi import Publication

PUBLICATIONS = (
    Publication(
        ScrapeRunStarted,
        topology.SCRAPE_EXCHANGE,
        topology.RK_RUN_STARTED,
        "A scrape run began; sent to every observation partition's queue.",
    ),
    Publication(
        ItemAvailabilityObserved,
        topology.SCRAPE_EXCHANGE,
        topology.RK_OBSERVED,
        "One row of the supplier's table; the partition is a stable hash of supplier and SKU.",
    ),
    Publication(
        ScrapeRunCompleted,
        topology.SCRAPE_EXCHANGE,
        topology.RK_RUN_COMPLETED,
        "The run read the table to its end, or says why it read less.",
    ),
    Publication(
        ScrapeRunFailed,
        topology.SCRAPE_EXCHANGE,
        topology.RK_RUN_FAILED,
        "The run could not read the table, with the reason.",
    ),
)
