"""Every fault switch of the simulated portal ends as the right run, and no failed run publishes
a single observation."""

import logging
import uuid
from pathlib import Path

import pytest
from etawatch_testing.scraper import NOW, server_profile

from etawatch.contracts.availability import Availability
from etawatch.contracts.eta import Precision
from etawatch.contracts.messages import FailureReason
from etawatch.demo.portal import PortalConfig, PortalServer, RenderMode
from etawatch.scraper.adapters.data_folder import FileRunState

from .conftest import Result, Runner

pytestmark = pytest.mark.integration


def assert_failed(result: Result, reason: FailureReason) -> None:
    """Failed with ``reason``: the start, then the failure, and nothing in between."""
    assert result.outcome.reason is reason, result.outcome.message
    messages = result.messages
    assert len(messages.started) == 1
    assert [f.reason for f in messages.failed] == [reason]
    assert messages.observed == [] and messages.completed == []


def artifacts_of(result: Result) -> dict[str, Path]:
    folder = result.settings.data_dir
    paths = {Path(a).name: folder / a for a in result.messages.failed[0].artifacts}
    assert all(path.is_file() for path in paths.values()), paths
    return paths


async def test_maintenance_fails_and_keeps_a_screenshot_and_the_page(
    scrape: Runner, server_portal: PortalServer
) -> None:
    server_portal.faults.set(maintenance=True)
    result = await scrape("simulated-server", server_portal)
    assert_failed(result, FailureReason.MAINTENANCE)
    assert "Probíhá plánovaná údržba" in result.outcome.message
    artifacts = artifacts_of(result)
    assert set(artifacts) == {"screenshot.png", "page.html"}
    assert artifacts["screenshot.png"].read_bytes().startswith(b"\x89PNG")
    assert 'id="maintenance"' in artifacts["page.html"].read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("switches", "reason", "says"),
    [
        (
            {"rename_column": {"Dostupnost": "Stav skladu"}},
            FailureReason.LAYOUT_CHANGED,
            "'Stav skladu'",
        ),
        ({"hide_columns": ["Přiděleno"]}, FailureReason.LAYOUT_CHANGED, "'Přiděleno'"),
        ({"login_form_changed": True}, FailureReason.LOGIN_FORM_CHANGED, "form#login-form"),
        ({"refuse_login": True}, FailureReason.LOGIN_FAILED, "Neplatné přihlašovací údaje"),
        ({"error_pages": [3], "error_mode": "always"}, FailureReason.HTTP_ERROR, "HTTP 500"),
    ],
    ids=["renamed-column", "hidden-column", "login-form-changed", "login-refused", "http-500"],
)
async def test_a_fault_ends_as_its_failure_after_one_login(
    scrape: Runner,
    server_portal: PortalServer,
    switches: dict[str, object],
    reason: FailureReason,
    says: str,
) -> None:
    server_portal.faults.set(**switches)
    result = await scrape("simulated-server", server_portal)
    assert_failed(result, reason)
    assert says in result.outcome.message
    assert result.outcome.logins == 1  # a refused login is never tried again in the run
    assert "page.html" in artifacts_of(result)


async def test_reordered_columns_are_still_read_by_their_header(
    scrape: Runner, script_portal: PortalServer
) -> None:
    order = ["Přiděleno", "Předpokládané naskladnění", "Kód zboží", "Dostupnost", "Název"]
    script_portal.faults.set(reorder_columns=order)
    result = await scrape("simulated-script", script_portal)
    assert result.outcome.ok, result.outcome.message
    expected = {
        i.sku: (i.availability_text, i.eta_text) for i in script_portal.scenario.catalogue()
    }
    seen = {o.sku: (o.availability_raw, o.eta.raw) for o in result.messages.observed}
    assert seen == expected


@pytest.mark.parametrize("profile", ["simulated-server", "simulated-csv", "simulated-xlsx"])
async def test_a_truncated_table_is_not_published(
    scrape: Runner, server_portal: PortalServer, tmp_path: Path, profile: str
) -> None:
    """Bad input: a table or export holding half of the items the last complete run saw."""
    data = tmp_path / "data"
    previous = len(server_portal.scenario.catalogue())
    FileRunState(data).record_complete(profile, previous, uuid.uuid4(), NOW)
    server_portal.faults.set(truncate_to=previous // 2)
    result = await scrape(profile, server_portal, data)
    assert_failed(result, FailureReason.TRUNCATED)
    assert f"fewer than the {previous} of the last complete run" in result.outcome.message


async def test_the_xlsx_export_with_reordered_columns_and_an_unknown_word_is_read(
    scrape: Runner, server_portal: PortalServer
) -> None:
    """Bad input: columns in another order and the availability word 'Na dotaz' in the workbook;
    the columns are found by header text, the word is published as unknown and counted."""
    order = ["Přiděleno", "Předpokládané naskladnění", "Kód zboží", "Dostupnost", "Název"]
    odd = server_portal.scenario.catalogue()[4].sku
    server_portal.faults.set(reorder_columns=order, unknown_availability={odd: "Na dotaz"})
    result = await scrape("simulated-xlsx", server_portal)
    assert result.outcome.ok, result.outcome.message
    expected = {
        i.sku: (i.availability_text, i.eta_text) for i in server_portal.scenario.catalogue()
    }
    expected[odd] = ("Na dotaz", expected[odd][1])
    seen = {o.sku: (o.availability_raw, o.eta.raw) for o in result.messages.observed}
    assert seen == expected
    observed = {o.sku: o.availability for o in result.messages.observed}
    assert observed[odd] is Availability.UNKNOWN
    assert result.messages.completed[0].unknown_availability == 1


async def test_a_renamed_column_in_the_xlsx_export_fails_and_keeps_the_workbook(
    scrape: Runner, server_portal: PortalServer
) -> None:
    """Bad input: the workbook's 'Dostupnost' header renamed to 'Stav skladu'."""
    server_portal.faults.set(rename_column={"Dostupnost": "Stav skladu"})
    result = await scrape("simulated-xlsx", server_portal)
    assert_failed(result, FailureReason.LAYOUT_CHANGED)
    assert "'Stav skladu'" in result.outcome.message
    kept = artifacts_of(result)["export-response.xlsx"].read_bytes()
    assert kept.startswith(b"PK")  # the workbook as downloaded, for a person to open


@pytest.mark.parametrize(
    ("profile", "mode"),
    [("simulated-server", RenderMode.SERVER), ("simulated-script", RenderMode.SCRIPT)],
)
async def test_http_500_once_is_retried_and_the_run_completes(
    scrape: Runner,
    server_portal: PortalServer,
    script_portal: PortalServer,
    profile: str,
    mode: RenderMode,
) -> None:
    """Server mode: the page answers 500; script mode: its rows' JSON does (data-loaded=error)."""
    portal = script_portal if mode is RenderMode.SCRIPT else server_portal
    portal.faults.set(error_pages=[2, 4], error_mode="once")
    result = await scrape(profile, portal)
    assert result.outcome.ok, result.outcome.message
    assert len(result.messages.observed) == len(portal.scenario.catalogue())


async def test_a_slow_portal_hits_the_time_limit_and_the_browser_is_closed(
    scrape: Runner, server_portal: PortalServer
) -> None:
    server_portal.faults.set(slow_seconds=1.5)
    result = await scrape("simulated-server", server_portal, run_time_limit_seconds=4)
    assert_failed(result, FailureReason.TIME_LIMIT)
    # (the runner checks that every browser it started was quit)


async def test_session_expiry_in_the_middle_of_paging_recovers(
    scrape: Runner, server_portal: PortalServer
) -> None:
    server_portal.faults.set(expire_session_after_pages=3)
    result = await scrape("simulated-server", server_portal)
    assert result.outcome.ok, result.outcome.message
    assert result.outcome.logins == 2
    assert len(result.messages.observed) == len(server_portal.scenario.catalogue())


async def test_a_session_that_keeps_expiring_ends_after_a_bounded_number_of_logins(
    scrape: Runner, server_portal: PortalServer
) -> None:
    server_portal.faults.set(expire_session_after_pages=1)
    profile = server_profile(session={"max_logins": 2})
    result = await scrape(profile, server_portal)
    assert_failed(result, FailureReason.SESSION_LOST)
    assert result.outcome.logins == 2


async def test_unknown_words_and_unreadable_etas_are_kept_raw_and_reported(
    scrape: Runner, script_portal: PortalServer
) -> None:
    catalogue = script_portal.scenario.catalogue()
    odd_word, odd_eta = catalogue[6].sku, catalogue[10].sku
    script_portal.faults.set(
        unknown_availability={odd_word: "Na dotaz"}, garbled_eta={odd_eta: "až se loď vrátí"}
    )
    result = await scrape("simulated-script", script_portal)
    assert result.outcome.ok, result.outcome.message
    observed = {o.sku: o for o in result.messages.observed}
    assert observed[odd_word].availability is Availability.UNKNOWN
    assert observed[odd_word].availability_raw == "Na dotaz"
    assert observed[odd_eta].eta.raw == "až se loď vrátí"
    assert observed[odd_eta].eta.precision is Precision.UNKNOWN
    completed = result.messages.completed[0]
    assert (completed.complete, completed.unknown_availability, completed.unreadable_eta) == (
        True,
        1,
        1,
    )


async def test_wrong_credentials_fail_fast_and_never_lock_the_account(
    scrape: Runner, tmp_path: Path
) -> None:
    config = PortalConfig(items=30, page_size=25, mode=RenderMode.SERVER)
    with PortalServer(config) as portal:
        for attempt in range(2):
            wrong = await scrape(
                "simulated-server", portal, tmp_path / "wrong", portal_password=f"guess-{attempt}"
            )
            assert_failed(wrong, FailureReason.LOGIN_FAILED)
            assert wrong.outcome.logins == 1
            assert "guess-" not in wrong.outcome.message
        right = await scrape("simulated-server", portal, tmp_path / "right")
        assert right.outcome.ok, right.outcome.message  # 2 wrong attempts: not locked


async def test_the_password_never_reaches_the_logs(
    scrape: Runner,
    server_portal: PortalServer,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)  # selenium, httpx, aio-pika: everything they would log
    server_portal.faults.set(refuse_login=True)
    result = await scrape("simulated-server", server_portal, portal_password="never-log-me-42")
    assert_failed(result, FailureReason.LOGIN_FAILED)
    logged = caplog.text + capsys.readouterr().out  # stdlib logging + structlog's own output
    assert "logging in to the portal" in logged and "Publishing message" in logged
    assert "never-log-me-42" not in logged
