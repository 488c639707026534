"""One scrape run with fake reader, bus and state: what is published, and when nothing is."""

import asyncio
import uuid
from pathlib import Path

import pytest
from etawatch_testing.scraper import (
    HEADERS,
    FakeReader,
    MemoryState,
    RecordingBus,
    catalogue_read,
    page,
    row,
    server_profile,
)

from etawatch.contracts import ids, topology
from etawatch.contracts.messages import (
    FailureReason,
    ItemAvailabilityObserved,
    ScrapeRunCompleted,
    ScrapeRunFailed,
    ScrapeRunStarted,
)
from etawatch.scraper.adapters.metrics import ScraperMetrics
from etawatch.scraper.application.outcome import RunOutcome
from etawatch.scraper.application.run import RunOptions, run_once
from etawatch.scraper.domain.failures import ScrapeFailure
from etawatch.scraper.domain.table import PortalRead

PROFILE = server_profile()
SUPPLIER = PROFILE.supplier


async def scrape(
    reader: FakeReader,
    tmp_path: Path,
    *,
    bus: RecordingBus | None = None,
    state: MemoryState | None = None,
    metrics: ScraperMetrics | None = None,
    **options: float,
) -> tuple[RunOutcome, RecordingBus]:
    bus = bus or RecordingBus()
    outcome = await run_once(
        PROFILE,
        bus,
        lambda: reader,
        state or MemoryState(),
        RunOptions(data_dir=tmp_path, **options),  # type: ignore[arg-type]
        metrics=metrics,
    )
    return outcome, bus


async def test_a_complete_run_publishes_started_every_row_then_completed(tmp_path: Path) -> None:
    reader, state, metrics = FakeReader(catalogue_read(120)), MemoryState(), ScraperMetrics()
    outcome, bus = await scrape(reader, tmp_path, state=state, metrics=metrics)

    assert outcome.ok and outcome.items_seen == 120
    types = [type(e.data) for _, _, e in bus.published]
    assert types[0] is ScrapeRunStarted and types[-1] is ScrapeRunCompleted
    assert types.count(ItemAvailabilityObserved) == 120
    run_id = outcome.run_id
    for exchange, key, envelope in bus.published:
        assert exchange == topology.SCRAPE_EXCHANGE
        assert envelope.correlation_id == str(run_id)
        if isinstance(envelope.data, ItemAvailabilityObserved):
            sku = envelope.data.sku
            assert envelope.id == str(ids.observation_id(run_id, SUPPLIER, sku))
            assert key == topology.observed_routing_key(SUPPLIER, sku)
    observed = bus.of_type(ItemAvailabilityObserved)
    assert [e.data.position for e in observed] == list(range(120))
    completed = bus.of_type(ScrapeRunCompleted)[0]
    assert completed.id == str(ids.run_event_id(run_id, "completed"))
    assert completed.data.complete and completed.data.items_seen == 120
    assert completed.data.pages == 5
    assert state.items == {PROFILE.name: 120}
    assert reader.closed == 1
    assert (
        metrics.registry.get_sample_value("etawatch_scraper_rows_total", {"supplier": SUPPLIER})
        == 120
    )


async def test_a_layout_change_publishes_the_failure_and_no_observation(tmp_path: Path) -> None:
    headers = tuple("Stav skladu" if h == "Dostupnost" else h for h in HEADERS)
    reader = FakeReader(PortalRead(pages=(page([row(1), row(2)], headers=headers),)))
    state = MemoryState({PROFILE.name: 2})
    outcome, bus = await scrape(reader, tmp_path, state=state)

    assert outcome.reason is FailureReason.LAYOUT_CHANGED
    assert [type(e.data) for _, _, e in bus.published] == [ScrapeRunStarted, ScrapeRunFailed]
    failed = bus.of_type(ScrapeRunFailed)[0]
    assert failed.data.reason is FailureReason.LAYOUT_CHANGED
    assert "Dostupnost" in failed.data.message
    folder = f"artifacts/{outcome.run_id}"
    assert failed.data.artifacts == (f"{folder}/screenshot.png", f"{folder}/page.html")
    assert reader.artifacts_asked == [tmp_path / "artifacts" / str(outcome.run_id)]
    assert state.items == {PROFILE.name: 2}  # a failed run is never the new reference
    assert reader.closed == 1


async def test_a_much_shorter_table_than_last_time_is_not_published(tmp_path: Path) -> None:
    state = MemoryState({PROFILE.name: 120})
    outcome, bus = await scrape(FakeReader(catalogue_read(60)), tmp_path, state=state)
    assert outcome.reason is FailureReason.TRUNCATED
    assert bus.of_type(ItemAvailabilityObserved) == []
    assert bus.of_type(ScrapeRunFailed)[0].data.reason is FailureReason.TRUNCATED
    assert state.items == {PROFILE.name: 120}


@pytest.mark.parametrize(
    "reason", [FailureReason.LOGIN_FAILED, FailureReason.MAINTENANCE, FailureReason.SESSION_LOST]
)
async def test_a_portal_failure_ends_as_that_failure(tmp_path: Path, reason: FailureReason) -> None:
    reader = FakeReader(ScrapeFailure(reason, "the portal said no"))
    outcome, bus = await scrape(reader, tmp_path)
    assert outcome.reason is reason
    assert bus.of_type(ScrapeRunFailed)[0].data.message == "the portal said no"
    assert bus.of_type(ItemAvailabilityObserved) == []
    assert reader.closed == 1


async def test_an_unexpected_error_still_closes_the_browser(tmp_path: Path) -> None:
    reader = FakeReader(RuntimeError("chromedriver said something odd"))
    metrics = ScraperMetrics()
    outcome, bus = await scrape(reader, tmp_path, metrics=metrics)
    assert outcome.reason is FailureReason.INTERNAL_ERROR
    assert "chromedriver said something odd" in outcome.message
    assert reader.closed == 1
    assert bus.of_type(ScrapeRunFailed)[0].data.reason is FailureReason.INTERNAL_ERROR
    assert (
        metrics.registry.get_sample_value(
            "etawatch_scraper_failures_total", {"supplier": SUPPLIER, "reason": "internal_error"}
        )
        == 1
    )


async def test_a_reader_past_the_time_limit_is_killed(tmp_path: Path) -> None:
    reader = FakeReader(catalogue_read(1), block_until_closed=True)
    outcome, bus = await scrape(reader, tmp_path, time_limit_seconds=0.2, abort_grace_seconds=0.2)
    assert outcome.reason is FailureReason.TIME_LIMIT
    assert reader.closed >= 1
    assert reader.artifacts_asked == []  # nothing left to photograph
    assert bus.of_type(ScrapeRunFailed)[0].data.reason is FailureReason.TIME_LIMIT


async def test_a_broker_failure_half_way_never_completes_the_run(tmp_path: Path) -> None:
    state = MemoryState()
    bus = RecordingBus(fail_after=10)
    outcome, _ = await scrape(FakeReader(catalogue_read(120)), tmp_path, bus=bus, state=state)
    assert outcome.reason is FailureReason.PUBLISH_FAILED
    assert "the broker went away" in outcome.message
    assert bus.of_type(ScrapeRunCompleted) == []
    assert state.items == {}


async def test_no_browser_starts_when_the_start_cannot_be_published(tmp_path: Path) -> None:
    made: list[FakeReader] = []

    def factory() -> FakeReader:
        made.append(FakeReader(catalogue_read(1)))
        return made[-1]

    outcome = await run_once(
        PROFILE, RecordingBus(fail_after=0), factory, MemoryState(), RunOptions(data_dir=tmp_path)
    )
    assert outcome.reason is FailureReason.PUBLISH_FAILED
    assert made == []


async def test_each_run_has_its_own_id(tmp_path: Path) -> None:
    first, _ = await scrape(FakeReader(catalogue_read(3)), tmp_path)
    second, _ = await scrape(FakeReader(catalogue_read(3)), tmp_path)
    assert isinstance(first.run_id, uuid.UUID) and first.run_id != second.run_id


async def test_cells_longer_than_the_contract_allows_are_cut_not_refused(tmp_path: Path) -> None:
    long_name, long_eta = "N" * 1500, "až " * 500
    read = PortalRead(pages=(page([(row(1)[0], long_name, *row(1)[2:4], long_eta, "1")]),))
    outcome, bus = await scrape(FakeReader(read), tmp_path)
    assert outcome.ok, outcome.message
    observed = bus.of_type(ItemAvailabilityObserved)[0].data
    assert observed.name == "N" * 1000
    assert observed.eta.raw == long_eta[:1000]


async def test_a_cancelled_run_still_closes_the_browser(tmp_path: Path) -> None:
    reader = FakeReader(catalogue_read(1), block_until_closed=True)
    bus = RecordingBus()
    run = asyncio.create_task(
        run_once(PROFILE, bus, lambda: reader, MemoryState(), RunOptions(data_dir=tmp_path))
    )
    for _ in range(200):  # until the run has started reading
        if bus.of_type(ScrapeRunStarted):
            break
        await asyncio.sleep(0.01)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    assert reader.closed == 1
    assert bus.of_type(ScrapeRunCompleted) == []
