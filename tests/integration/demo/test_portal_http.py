"""The portal over real HTTP on a free port, as a plain client (httpx) sees it."""

import csv
import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from etawatch_testing.portal import (
    PortalFactory,
    admin_headers,
    element_text,
    item_cells,
    login,
    next_link,
    read_table,
)
from openpyxl import load_workbook

from etawatch.demo.entrypoints.table_routes import XLSX_MEDIA_TYPE
from etawatch.demo.portal import HEADERS, ChangeKind, PortalConfig, PortalServer, RenderMode
from etawatch.runtime.log import REDACTED, configure_logging

pytestmark = pytest.mark.integration


def walk_pages(client: httpx.Client) -> tuple[list[str], list[list[str]], list[str]]:
    """Follow the `Další »` links from page 1; the headers, every row and each page's info."""
    url: str | None = "/availability?page=1"
    headers: list[str] = []
    rows: list[list[str]] = []
    infos: list[str] = []
    while url is not None:
        page = client.get(url)
        assert page.status_code == 200, url
        table = read_table(page.text)
        assert table is not None, url
        headers = table.headers
        rows += table.rows
        infos.append(element_text(page.text, "page-info") or "")
        url = next_link(page.text)
    return headers, rows, infos


def test_log_in_and_page_through_the_server_rendered_table(portal_factory: PortalFactory) -> None:
    portal = portal_factory(items=120, page_size=25)
    with httpx.Client(base_url=portal.url) as client:
        form = client.get("/login")
        assert "<title>Přihlášení | Figurky Praha s.r.o. B2B</title>" in form.text
        assert 'id="login-form"' in form.text and "b2b_session" in client.cookies
        answer = login(client)
        assert answer.status_code == 303 and answer.headers["location"] == "/availability"
        first = client.get("/availability")
        assert "<title>Dostupnost zboží | Figurky Praha s.r.o. B2B</title>" in first.text
        assert element_text(first.text, "total-items") == "120"
        assert 'id="export-csv" href="/export.csv"' in first.text
        assert 'id="export-xlsx" href="/export.xlsx"' in first.text
        assert 'id="logout" href="/logout"' in first.text
        assert 'rel="prev"' not in first.text
        headers, rows, infos = walk_pages(client)
    assert headers == list(HEADERS.values())
    assert rows == [item_cells(item) for item in portal.scenario.catalogue()]
    assert infos == [f"Strana {n} z 5" for n in range(1, 6)]


def test_a_middle_page_links_previous_next_and_page_numbers(
    portal_factory: PortalFactory,
) -> None:
    portal = portal_factory(items=120, page_size=10)
    with httpx.Client(base_url=portal.url) as client:
        login(client)
        html = client.get("/availability?page=6").text
        numbers = re.findall(r'<a class="page-link" href="/availability\?page=(\d+)"', html)
        previous = client.get(re.findall(r'rel="prev" href="([^"]+)"', html)[0]).text
        last = client.get("/availability?page=12").text
    assert re.findall(r'rel="prev" href="([^"]+)"', html) == ["/availability?page=5"]
    assert next_link(html) == "/availability?page=7"
    assert [int(n) for n in numbers] == [1, 4, 5, 6, 7, 8, 12]
    assert 'href="/availability?page=6" aria-current="page">6</a>' in html
    assert element_text(previous, "page-info") == "Strana 5 z 12"
    assert next_link(last) is None and 'rel="prev"' in last


def test_without_a_session_every_table_redirects_to_login_and_back(
    portal_factory: PortalFactory,
) -> None:
    portal = portal_factory()
    with httpx.Client(base_url=portal.url) as client:
        for path in ("/availability?page=2", "/export.csv", "/export.xlsx"):
            answer = client.get(path)
            assert answer.status_code == 303
            target = urlsplit(answer.headers["location"])
            assert target.path == "/login" and parse_qs(target.query)["next"] == [path]
        assert client.get("/api/availability").status_code == 401
        back = login(client, next_url="/availability?page=2")
        assert back.headers["location"] == "/availability?page=2"
        assert client.get("/logout").status_code == 303
        assert client.get("/availability").status_code == 303


def test_script_mode_sends_an_empty_table_and_the_rows_as_json(
    portal_factory: PortalFactory,
) -> None:
    portal = portal_factory(items=60, page_size=25, mode=RenderMode.SCRIPT)
    rows: list[list[str]] = []
    with httpx.Client(base_url=portal.url) as client:
        login(client)
        for page in (1, 2, 3):
            html = client.get(f"/availability?page={page}").text
            table = read_table(html)
            assert table is not None and table.rows == []
            assert table.attributes["data-source"] == f"/api/availability?page={page}"
            assert "<script>" in html
            data = client.get(f"/api/availability?page={page}").json()
            assert data["page"] == page and data["pages"] == 3 and data["total"] == 60
            assert data["columns"] == list(HEADERS.values())
            rows += data["rows"]
        assert client.get("/api/availability?page=4").status_code == 404
    assert rows == [item_cells(item) for item in portal.scenario.catalogue()]


def exports(
    portal_factory: PortalFactory, *paths: str
) -> tuple[PortalServer, list[httpx.Response]]:
    """A portal of 130 items; logged in, each of ``paths`` fetched (and answered 200)."""
    portal = portal_factory(items=130, page_size=10)
    with httpx.Client(base_url=portal.url) as client:
        login(client)
        answers = [client.get(path) for path in paths]
    assert [a.status_code for a in answers] == [200] * len(paths)
    return portal, answers


def test_the_csv_export_has_every_row_with_bom_semicolons_and_crlf(
    portal_factory: PortalFactory,
) -> None:
    portal, (answer,) = exports(portal_factory, "/export.csv")
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == 'attachment; filename="dostupnost.csv"'
    assert answer.content.startswith(b"\xef\xbb\xbf")
    text = answer.content.decode("utf-8-sig")
    assert text.count("\r\n") == 131 and text.endswith("\r\n")
    lines = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert lines[0] == list(HEADERS.values())
    assert lines[1:] == [item_cells(item) for item in portal.scenario.catalogue()]


def test_the_xlsx_export_has_a_merged_title_then_the_csv_exports_header_and_cells(
    portal_factory: PortalFactory,
) -> None:
    portal, (answer, csv_answer) = exports(portal_factory, "/export.xlsx", "/export.csv")
    csv_text = csv_answer.content.decode("utf-8-sig")
    assert answer.headers["content-type"] == XLSX_MEDIA_TYPE
    assert answer.headers["content-disposition"] == 'attachment; filename="dostupnost.xlsx"'
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None and sheet.title == "Dostupnost"
    assert [str(r) for r in sheet.merged_cells.ranges] == ["A1:F1"]
    assert sheet["A1"].value == "Dostupnost zboží: Figurky Praha s.r.o."
    values = [["" if v is None else v for v in r] for r in sheet.iter_rows(values_only=True)]
    assert values[1] == list(HEADERS.values())
    assert values[2:] == [item_cells(item) for item in portal.scenario.catalogue()]
    assert values[1:] == list(csv.reader(io.StringIO(csv_text, newline=""), delimiter=";"))
    assert all(isinstance(v, str) for r in values[1:] for v in r)  # dates stay the supplier's text


def test_advancing_the_clock_grows_the_ground_truth_and_the_table_follows(
    portal_factory: PortalFactory,
) -> None:
    portal = portal_factory(items=200, page_size=50)
    with httpx.Client(base_url=portal.url, headers=admin_headers()) as admin:
        assert admin.get("/admin/ground-truth").json() == []
        made = admin.post("/admin/advance", json={"days": 2}).json()
        assert made and {c["at"] for c in made} == {"2026-12-02", "2026-12-03"}
        assert admin.get("/admin/ground-truth").json() == made
        portal.scenario.advance(days=3)
        everything = admin.get("/admin/ground-truth").json()
        assert len(everything) > len(made) and everything[: len(made)] == made
        assert {"at", "sku", "field", "before", "after", "kind"} <= everything[0].keys()
        assert len(everything) == len(portal.ground_truth())
        real = next(c for c in reversed(everything) if c["kind"] in ("availability", "eta"))
        state = admin.get(f"/admin/items/{real['sku']}")
        assert state.status_code in (200, 404)
        assert admin.get("/admin/scenario").json()["today"] == "2026-12-06"
    with httpx.Client(base_url=portal.url) as client:
        login(client)
        _, rows, _ = walk_pages(client)
    assert rows == [item_cells(item) for item in portal.scenario.catalogue()]
    served = {row[0]: {"availability": row[3], "eta": row[4]} for row in rows}
    last = {(c["sku"], c["field"]): c for c in everything if c["field"] != "item"}
    for (sku, field), change in last.items():
        if sku in served:
            assert served[sku][field] == change["after"], change
    if state.status_code == 200:
        assert state.json()["availability_text"] == served[real["sku"]]["availability"]
    kinds = {c.kind for c in portal.ground_truth()}
    assert ChangeKind.REWORDED in kinds and ChangeKind.ETA in kinds


def test_the_same_seed_serves_the_same_pages_and_changes(portal_factory: PortalFactory) -> None:
    seen = []
    for seed in (21, 21, 22):
        portal = portal_factory(items=90, seed=seed)
        with httpx.Client(base_url=portal.url) as client:
            login(client)
            client.post("/admin/advance", json={"days": 4}, headers=admin_headers())
            truth = client.get("/admin/ground-truth", headers=admin_headers()).json()
            seen.append((walk_pages(client)[1], truth))
    assert seen[0] == seen[1]
    assert seen[0] != seen[2]


def test_admin_needs_the_token(portal_factory: PortalFactory) -> None:
    portal = portal_factory()
    with httpx.Client(base_url=portal.url) as client:
        for method, path in [
            ("POST", "/admin/advance"),
            ("GET", "/admin/ground-truth"),
            ("GET", "/admin/faults"),
            ("PUT", "/admin/faults"),
            ("DELETE", "/admin/faults"),
        ]:
            for headers in ({}, admin_headers("wrong"), {"Authorization": "admin-secret"}):
                answer = client.request(method, path, headers=headers, json={})
                assert answer.status_code == 401, (method, path, headers)
                assert answer.headers["www-authenticate"] == "Bearer"
        assert portal.scenario.day == 0
        assert client.get("/admin/faults", headers=admin_headers()).status_code == 200


def test_bad_requests_get_clear_errors_and_change_nothing(portal_factory: PortalFactory) -> None:
    portal = portal_factory(items=30, page_size=10)
    with httpx.Client(base_url=portal.url) as client:
        login(client)
        assert client.get("/availability?page=0").status_code == 422
        assert client.get("/availability?page=abc").status_code == 422
        missing = client.get("/availability?page=4")
        assert missing.status_code == 404 and "Strana 4 neexistuje." in missing.text
        admin = admin_headers()
        for body in ({"days": -1}, {"days": "many"}, {"weeks": 1}):
            assert client.post("/admin/advance", json=body, headers=admin).status_code == 422
        assert portal.scenario.day == 0
        refused = client.put("/admin/faults", json={"truncate_to": -1}, headers=admin)
        assert refused.status_code == 422 and "truncate_to" in refused.text
        assert client.put("/admin/faults", json={"nonsense": 1}, headers=admin).status_code == 422
        assert client.get("/admin/faults", headers=admin).json()["truncate_to"] is None
        assert client.get("/admin/items/FK-999999", headers=admin).status_code == 404
        assert (
            login(client, next_url="//elsewhere.example/x").headers["location"] == "/availability"
        )


async def test_the_portal_runs_on_a_running_event_loop_too() -> None:
    async with PortalServer() as portal, httpx.AsyncClient(base_url=portal.url) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        port = portal.port
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/healthz")


def test_a_taken_port_is_refused_with_the_reason(portal_factory: PortalFactory) -> None:
    taken = portal_factory()
    with pytest.raises(OSError, match="in use"):
        PortalServer(PortalConfig(port=taken.port)).start()
    with httpx.Client(base_url=taken.url) as client:
        assert client.get("/healthz").status_code == 200


def test_metrics_count_what_was_served(portal_factory: PortalFactory) -> None:
    portal = portal_factory(items=30, page_size=10)
    with httpx.Client(base_url=portal.url) as client:
        login(client, password="wrong")
        login(client)
        client.get("/availability?page=1")
        client.get("/availability?page=2")
        client.get("/export.csv")
        client.get("/export.xlsx")
        portal.faults.set(maintenance=True)
        client.get("/availability")
        portal.scenario.advance(2)
        text = client.get("/metrics").text
    assert 'etawatch_portal_logins_total{outcome="success"} 1.0' in text
    assert 'etawatch_portal_logins_total{outcome="invalid"} 1.0' in text
    assert 'etawatch_portal_pages_total{kind="html_server"} 2.0' in text
    assert 'etawatch_portal_pages_total{kind="csv"} 1.0' in text
    assert 'etawatch_portal_pages_total{kind="xlsx"} 1.0' in text
    assert 'etawatch_portal_faults_total{fault="maintenance"} 1.0' in text
    assert "etawatch_portal_scenario_day 2.0" in text
    assert f"etawatch_portal_ground_truth_entries {float(len(portal.ground_truth()))}" in text


def test_the_web_servers_own_errors_reach_the_shared_log_redacted(
    portal_factory: PortalFactory,
) -> None:
    planted = "s3cr3t-in-a-traceback"
    out = io.StringIO()
    configure_logging(fmt="json", secrets=[planted], stream=out)
    portal = portal_factory()

    async def broken() -> None:
        raise RuntimeError(f"failed with {planted}")

    portal.app.add_api_route("/broken", broken)
    with httpx.Client(base_url=portal.url) as client:
        assert client.get("/broken").status_code == 500
    portal.stop()  # the error is logged before the server has stopped
    logged = [json.loads(line) for line in out.getvalue().splitlines()]
    errors = [e for e in logged if e.get("logger") == "uvicorn.error"]
    assert errors and f"RuntimeError: failed with {REDACTED}" in errors[0]["exception"]
    assert planted not in out.getvalue()
    assert not [e for e in logged if e.get("logger") == "uvicorn.access"]


def test_the_access_log_when_asked_for(portal_factory: PortalFactory) -> None:
    out = io.StringIO()
    configure_logging(fmt="json", stream=out)
    portal = portal_factory(access_log=True)
    with httpx.Client(base_url=portal.url) as client:
        assert client.get("/healthz").status_code == 200
    portal.stop()
    logged = [json.loads(line) for line in out.getvalue().splitlines()]
    access = [e["event"] for e in logged if e.get("logger") == "uvicorn.access"]
    assert len(access) == 1 and '"GET /healthz HTTP/1.1" 200' in access[0]
