"""Validation of a whole read: what fails a run, what is only counted."""

import pytest
from etawatch_testing.scraper import HEADERS, catalogue_read, page, row, server_profile

from etawatch.contracts.availability import Availability
from etawatch.contracts.messages import FailureReason
from etawatch.scraper.domain.failures import ScrapeFailure
from etawatch.scraper.domain.table import PortalRead
from etawatch.scraper.domain.validation import validate

PROFILE = server_profile()


def test_a_clean_read_passes_with_every_item() -> None:
    validated = validate(catalogue_read(120), PROFILE, previous_items_seen=120)
    assert [r.sku for r in validated.rows] == [f"FK-{n:06d}" for n in range(1, 121)]
    report = validated.report
    assert (report.items_seen, report.pages, report.previous_items_seen) == (120, 5, 120)
    assert (report.unknown_availability, report.unreadable_eta, report.duplicate_skus) == (0, 0, 0)


def test_columns_are_found_by_header_text_in_any_order() -> None:
    order = [5, 3, 0, 4, 1, 2]
    headers = tuple(HEADERS[i] for i in order)
    rows = [tuple(row(n)[i] for i in order) for n in (1, 2)]
    validated = validate(PortalRead(pages=(page(rows, headers=headers),)), PROFILE, None)
    first = validated.rows[0]
    assert (first.sku, first.availability, first.eta.raw) == (
        "FK-000001",
        Availability.PRE_ORDER,
        "Q2 2027",
    )


def test_a_missing_column_fails_the_run_and_names_it() -> None:
    headers = tuple("Stav skladu" if h == "Dostupnost" else h for h in HEADERS)
    read = PortalRead(pages=(page([row(1)], headers=headers),))
    with pytest.raises(ScrapeFailure) as failure:
        validate(read, PROFILE, None)
    assert failure.value.reason is FailureReason.LAYOUT_CHANGED
    assert "'Dostupnost'" in failure.value.message
    assert "'Stav skladu'" in failure.value.message


def test_a_column_missing_on_a_later_page_fails_too() -> None:
    good = page([row(1)])
    bad = page([row(2)[:5]], number=2, headers=HEADERS[:5])
    with pytest.raises(ScrapeFailure, match="Přiděleno"):
        validate(PortalRead(pages=(good, bad)), PROFILE, None)


def test_rows_without_an_item_code_fail_the_run() -> None:
    rows = [row(1), ("", "Lost figure", "", "Skladem", "", "1")]
    with pytest.raises(ScrapeFailure, match="1 of 2 rows have no item code") as failure:
        validate(PortalRead(pages=(page(rows),)), PROFILE, None)
    assert failure.value.reason is FailureReason.LAYOUT_CHANGED


def test_duplicates_keep_the_first_row_and_are_counted() -> None:
    rows = [row(1), row(2), row(1, "Vyprodáno"), row(1, "Skladem")]
    validated = validate(PortalRead(pages=(page(rows),)), PROFILE, None)
    assert [r.sku for r in validated.rows] == ["FK-000001", "FK-000002"]
    assert validated.rows[0].availability is Availability.PRE_ORDER
    assert validated.report.duplicate_skus == 2
    assert validated.report.duplicate_samples == ("FK-000001",)
    assert validated.report.rows_read == 4


def test_unknown_words_and_unreadable_etas_are_counted_not_fatal() -> None:
    rows = [row(1, "Na dotaz"), row(2, "Na dotaz", "???"), row(3, "Brzy", "TBA"), row(4)]
    report = validate(PortalRead(pages=(page(rows),)), PROFILE, None).report
    assert report.unknown_availability == 3
    assert report.unknown_words == {"Na dotaz": 2, "Brzy": 1}
    assert report.unreadable_eta == 1
    assert report.unreadable_samples == ("???",)


@pytest.mark.parametrize(
    ("previous", "fails"), [(100, False), (101, True), (80, False), (None, False)]
)
def test_a_drop_beyond_the_allowed_share_is_truncation(previous: int | None, fails: bool) -> None:
    read = catalogue_read(80)  # 20 % fewer than 100 is allowed, 80 of 101 is not
    if fails:
        with pytest.raises(ScrapeFailure, match="fewer than the 101 of the last complete") as f:
            validate(read, PROFILE, previous)
        assert f.value.reason is FailureReason.TRUNCATED
    else:
        assert validate(read, PROFILE, previous).report.items_seen == 80


def test_the_operator_may_accept_a_drop() -> None:
    assert validate(catalogue_read(10), PROFILE, 120, accept_drop=True).report.items_seen == 10


def test_fewer_rows_than_the_portal_counts_is_truncation() -> None:
    read = PortalRead(pages=(page([row(1), row(2)], total=3),))
    with pytest.raises(ScrapeFailure, match="read 2 items but the portal counts 3") as failure:
        validate(read, PROFILE, None)
    assert failure.value.reason is FailureReason.TRUNCATED


def test_an_empty_table_is_never_a_complete_run() -> None:
    with pytest.raises(ScrapeFailure, match="no rows"):
        validate(PortalRead(pages=(page([]),)), PROFILE, None)
