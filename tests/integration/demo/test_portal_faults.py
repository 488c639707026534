"""Every fault switch changes what a plain HTTP client gets, and turning it off restores it."""

from collections.abc import Iterator

import httpx
import pytest
from etawatch_testing.portal import (
    PortalFactory,
    admin_headers,
    csrf_token,
    element_text,
    item_cells,
    login,
    read_table,
)

from etawatch.demo.portal import HEADERS, PortalServer, RenderMode

pytestmark = pytest.mark.integration

MAINTENANCE = "Probíhá plánovaná údržba. Zkuste to prosím později."


@pytest.fixture
def portal(portal_factory: PortalFactory) -> PortalServer:
    return portal_factory(items=60, page_size=20)


@pytest.fixture
def client(portal: PortalServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=portal.url) as client:
        assert login(client).status_code == 303
        yield client


def test_switches_are_set_read_and_cleared_over_the_admin_endpoint(
    portal: PortalServer, client: httpx.Client
) -> None:
    admin = admin_headers()
    answer = client.put(
        "/admin/faults", json={"maintenance": True, "slow_seconds": 0.1}, headers=admin
    )
    assert answer.status_code == 200 and answer.json()["maintenance"] is True
    assert portal.faults.current.slow_seconds == 0.1
    assert client.get("/admin/faults", headers=admin).json()["maintenance"] is True
    assert client.delete("/admin/faults", headers=admin).json()["maintenance"] is False
    assert not portal.faults.current.maintenance


def test_slow_pages_keep_a_client_waiting(portal: PortalServer, client: httpx.Client) -> None:
    portal.faults.set(slow_seconds=1.0)
    for path in ("/availability", "/export.csv"):
        with pytest.raises(httpx.ReadTimeout):
            client.get(path, timeout=0.2)
    portal.faults.set(slow_seconds=0)
    assert client.get("/availability", timeout=5).status_code == 200


@pytest.mark.parametrize("mode", ["once", "always"])
def test_error_pages_answer_500(portal: PortalServer, client: httpx.Client, mode: str) -> None:
    portal.faults.set(error_pages=[2], error_mode=mode)
    assert client.get("/availability?page=1").status_code == 200
    assert client.get("/availability?page=2").status_code == 500
    again = client.get("/availability?page=2").status_code
    assert again == (500 if mode == "always" else 200)
    portal.faults.clear()
    assert client.get("/availability?page=2").status_code == 200


def test_error_pages_in_script_mode_fail_the_json(portal_factory: PortalFactory) -> None:
    portal = portal_factory(items=60, page_size=20, mode=RenderMode.SCRIPT)
    with httpx.Client(base_url=portal.url) as client:
        login(client)
        portal.faults.set(error_pages=[1])
        assert client.get("/availability?page=1").status_code == 200
        assert client.get("/api/availability?page=1").status_code == 500
        assert client.get("/api/availability?page=1").status_code == 200


def test_a_session_expires_in_the_middle_of_paging(
    portal: PortalServer, client: httpx.Client
) -> None:
    portal.faults.set(expire_session_after_pages=2)
    assert client.get("/availability?page=1").status_code == 200
    assert client.get("/availability?page=2").status_code == 200
    expired = client.get("/availability?page=3")
    assert expired.status_code == 303 and expired.headers["location"].startswith("/login?next=")
    login(client)
    assert client.get("/availability?page=3").status_code == 200


def test_a_truncated_table_shows_fewer_items_everywhere(
    portal: PortalServer, client: httpx.Client
) -> None:
    portal.faults.set(truncate_to=7)
    page = client.get("/availability")
    table = read_table(page.text)
    assert table is not None and len(table.rows) == 7
    assert element_text(page.text, "total-items") == "7"
    assert element_text(page.text, "page-info") == "Strana 1 z 1"
    csv_lines = client.get("/export.csv").content.decode("utf-8-sig").splitlines()
    assert len(csv_lines) == 8
    portal.faults.clear()
    assert element_text(client.get("/availability").text, "total-items") == "60"


def test_columns_renamed_and_reordered_in_table_json_and_export(
    portal_factory: PortalFactory,
) -> None:
    portal = portal_factory(items=30, page_size=10, mode=RenderMode.SCRIPT)
    portal.faults.set(
        rename_column={"Dostupnost": "Stav skladu"},
        reorder_columns=["Předpokládané naskladnění", "Stav skladu", "Kód zboží"],
    )
    expected = [
        "Předpokládané naskladnění",
        "Stav skladu",
        "Kód zboží",
        "Název",
        "Výrobce",
        "Přiděleno",
    ]
    first = portal.scenario.catalogue()[0]
    with httpx.Client(base_url=portal.url) as client:
        login(client)
        table = read_table(client.get("/availability").text)
        assert table is not None and table.headers == expected
        data = client.get("/api/availability?page=1").json()
        assert data["columns"] == expected
        assert data["rows"][0][:3] == [first.eta_text, first.availability_text, first.sku]
        header = client.get("/export.csv").content.decode("utf-8-sig").splitlines()[0]
        assert header.split(";") == expected
        portal.faults.set(hide_columns=["Výrobce"])
        assert "Výrobce" not in client.get("/api/availability").json()["columns"]


def test_a_changed_login_form(portal: PortalServer) -> None:
    portal.faults.set(login_form_changed=True)
    with httpx.Client(base_url=portal.url) as client:
        form = client.get("/login").text
        assert 'id="signin-form"' in form and 'id="login-form"' not in form
        assert 'name="login"' in form and 'name="heslo"' in form
        old = login(client)
        assert old.status_code == 200 and "Neplatné přihlašovací údaje." in old.text
        new = login(client, fields=("login", "heslo"))
        assert new.status_code == 303


def test_maintenance_replaces_table_and_export(portal: PortalServer, client: httpx.Client) -> None:
    portal.faults.set(maintenance=True)
    for path in ("/availability", "/export.csv", "/export.xlsx", "/api/availability"):
        answer = client.get(path)
        assert answer.status_code == 200
        assert "<title>Údržba | Figurky Praha s.r.o. B2B</title>" in answer.text
        assert f'<div id="maintenance">{MAINTENANCE}</div>' in answer.text
        assert read_table(answer.text) is None
    portal.faults.set(maintenance=False)
    assert read_table(client.get("/availability").text) is not None


def test_refused_logins_look_wrong_but_do_not_lock(portal: PortalServer) -> None:
    portal.faults.set(refuse_login=True)
    with httpx.Client(base_url=portal.url) as client:
        for _ in range(6):
            refused = login(client)
            assert refused.status_code == 200
            assert (
                '<div class="alert alert-error" id="login-error">Neplatné přihlašovací údaje.</div>'
                in refused.text
            )
        portal.faults.clear()
        assert login(client).status_code == 303


def test_unknown_words_and_garbled_dates_replace_cells(
    portal: PortalServer, client: httpx.Client
) -> None:
    items = portal.scenario.catalogue()
    odd, garbled = items[3], items[5]
    portal.faults.set(
        unknown_availability={odd.sku: "Na dotaz"}, garbled_eta={garbled.sku: "##.??.20x7"}
    )
    table = read_table(client.get("/availability").text)
    assert table is not None
    by_sku = {row[0]: row for row in table.rows}
    assert by_sku[odd.sku][3] == "Na dotaz"
    assert by_sku[garbled.sku][4] == "##.??.20x7"
    untouched = items[0]
    assert by_sku[untouched.sku] == item_cells(untouched)
    export = client.get("/export.csv").content.decode("utf-8-sig")
    assert f"{odd.sku};" in export and "Na dotaz" in export
    assert table.headers == list(HEADERS.values())


def test_a_bad_csrf_token_is_an_error_on_the_page(portal: PortalServer) -> None:
    with httpx.Client(base_url=portal.url) as client:
        token = csrf_token(client.get("/login").text)
        for forged in ("", token + "x"):
            answer = client.post(
                "/login",
                data={"username": "shop", "password": "portal-secret", "csrf_token": forged},
            )
            assert answer.status_code == 200 and 'id="login-error"' in answer.text
        with httpx.Client(base_url=portal.url) as stranger:  # a token without its cookie
            answer = stranger.post(
                "/login",
                data={"username": "shop", "password": "portal-secret", "csrf_token": token},
            )
            assert answer.status_code == 200 and 'id="login-error"' in answer.text
        assert login(client).status_code == 303
