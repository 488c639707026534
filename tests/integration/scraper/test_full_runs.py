"""A full run of each shipped profile publishes exactly the portal's catalogue."""

from pathlib import Path

import pytest
from etawatch_testing.scraper import RunMessages

from etawatch.contracts import ids, topology
from etawatch.contracts.availability import Availability
from etawatch.contracts.eta import is_unreadable
from etawatch.demo.portal import PortalServer

from .conftest import ITEMS, PAGE_SIZE, Runner

pytestmark = pytest.mark.integration


def assert_exactly_the_catalogue(messages: RunMessages, portal: PortalServer) -> None:
    catalogue = {item.sku: item for item in portal.scenario.catalogue()}
    assert len(catalogue) >= ITEMS  # other tests may have moved the scenario on
    assert len(messages.started) == 1
    assert [m.complete for m in messages.completed] == [True]
    assert messages.failed == []
    observed = {o.sku: o for o in messages.observed}
    assert len(messages.observed) == len(catalogue) and observed.keys() == catalogue.keys()
    for sku, item in catalogue.items():
        seen = observed[sku]
        assert (seen.name, seen.manufacturer) == (item.name, item.manufacturer)
        assert seen.availability is item.availability
        assert seen.availability_raw == item.availability_text
        assert seen.eta.raw == item.eta_text
        assert not is_unreadable(seen.eta), item.eta_text
        assert seen.quantity_allocated == item.allocated
    assert messages.completed[0].items_seen == len(catalogue)
    # the run's first message is its start and its last the completion, rows in between
    assert messages.envelopes[0].data == messages.started[0]
    assert messages.envelopes[-1].data == messages.completed[0]
    run_id = messages.started[0].run_id
    for envelope, key in zip(messages.envelopes, messages.routing_keys, strict=True):
        data = envelope.data
        if hasattr(data, "sku"):
            assert envelope.id == str(ids.observation_id(run_id, data.supplier, data.sku))
            assert key == topology.observed_routing_key(data.supplier, data.sku)


@pytest.mark.parametrize(
    ("profile", "mode"),
    [
        ("simulated-server", "server"),
        ("simulated-script", "script"),
        ("simulated-csv", "server"),
        ("simulated-xlsx", "server"),
    ],
)
async def test_a_full_run_publishes_exactly_the_catalogue(
    scrape: Runner,
    server_portal: PortalServer,
    script_portal: PortalServer,
    profile: str,
    mode: str,
) -> None:
    portal = script_portal if mode == "script" else server_portal
    result = await scrape(profile, portal)
    assert result.outcome.ok, result.outcome.message
    assert result.outcome.logins == 1
    assert_exactly_the_catalogue(result.messages, portal)
    paged = -(-len(portal.scenario.catalogue()) // PAGE_SIZE)
    exported = profile in {"simulated-csv", "simulated-xlsx"}  # the whole table in one file
    assert result.messages.completed[0].pages == (1 if exported else paged)


async def test_the_next_run_reuses_the_session_and_sees_the_portal_move_on(
    scrape: Runner, server_portal: PortalServer
) -> None:
    first = await scrape("simulated-server", server_portal)
    assert first.outcome.ok and first.outcome.logins == 1
    server_portal.scenario.advance(days=3)
    second = await scrape("simulated-server", server_portal)
    assert second.outcome.ok, second.outcome.message
    assert second.outcome.logins == 0 and second.outcome.session_reused
    assert second.messages.completed[0].previous_items_seen == first.outcome.items_seen
    assert_exactly_the_catalogue(second.messages, server_portal)


OTHER_SUPPLIER = """
# A supplier whose portal is laid out differently: only this file is new, no code.
extends = "simulated-server"
name = "other-supplier"
description = "another login form, other header texts and order, one more availability word"

[login]
form = "form#signin-form"
username_field = "form#signin-form input[name='login']"
password_field = "form#signin-form input[name='heslo']"

[columns]
sku = "Katalogové číslo"
availability = "Stav skladu"

[availability]
"Na cestě" = "delayed"
"""


async def test_a_portal_laid_out_differently_needs_only_a_new_profile(
    scrape: Runner, server_portal: PortalServer, tmp_path: Path
) -> None:
    catalogue = server_portal.scenario.catalogue()
    on_its_way = catalogue[0].sku
    server_portal.faults.set(
        login_form_changed=True,
        rename_column={"Kód zboží": "Katalogové číslo", "Dostupnost": "Stav skladu"},
        reorder_columns=["Stav skladu", "Předpokládané naskladnění", "Název", "Katalogové číslo"],
        unknown_availability={on_its_way: "Na cestě"},
    )
    path = tmp_path / "other-supplier.toml"
    path.write_text(OTHER_SUPPLIER, encoding="utf-8")

    result = await scrape(str(path), server_portal)

    assert result.outcome.ok, result.outcome.message
    assert result.outcome.logins == 1
    expected = {i.sku: (i.availability, i.availability_text, i.eta_text) for i in catalogue}
    expected[on_its_way] = (Availability.DELAYED, "Na cestě", catalogue[0].eta_text)
    seen = {
        o.sku: (o.availability, o.availability_raw, o.eta.raw) for o in result.messages.observed
    }
    assert seen == expected
    assert result.messages.completed[0].unknown_availability == 0
