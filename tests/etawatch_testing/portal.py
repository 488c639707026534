"""The simulated supplier portal in tests: start it on a free port, talk to it over plain HTTP.

from etawatch_testing.portal import portal_factory  # in a conftest.py, to get the fixture

def test_x(portal_factory):
    portal = portal_factory(items=100, mode=RenderMode.SCRIPT)
    with httpx.Client(base_url=portal.url) as client:
        login(client)
        table = read_table(client.get("/availability").text)
"""

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from etawatch.demo.portal import PortalConfig, PortalItem, PortalServer

USERNAME = "shop"
PASSWORD = "portal-secret"
ADMIN_TOKEN = "admin-secret"
TEST_DEFAULTS: dict[str, Any] = {
    "items": 120,
    "page_size": 25,
    "username": USERNAME,
    "password": PASSWORD,
    "admin_token": ADMIN_TOKEN,
}

PortalFactory = Callable[..., PortalServer]


@contextmanager
def running_portal(**settings: Any) -> Iterator[PortalServer]:
    """A portal on a free loopback port; ``settings`` are ``PortalConfig`` fields."""
    with PortalServer(PortalConfig(**{**TEST_DEFAULTS, **settings})) as portal:
        yield portal


@pytest.fixture
def portal_factory() -> Iterator[PortalFactory]:
    """Start portals with ``portal_factory(**settings)``; all are stopped after the test."""
    with ExitStack() as stack:
        yield lambda **settings: stack.enter_context(running_portal(**settings))


def admin_headers(token: str = ADMIN_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the login page has no CSRF token"
    return match.group(1)


def login(
    client: httpx.Client,
    username: str = USERNAME,
    password: str = PASSWORD,
    *,
    fields: tuple[str, str] = ("username", "password"),
    next_url: str | None = None,
) -> httpx.Response:
    """Fetch the form (for its token and cookie) and post it; the answer is not followed."""
    form = client.get("/login", params={"next": next_url} if next_url else None)
    data = {fields[0]: username, fields[1]: password, "csrf_token": csrf_token(form.text)}
    if next_url:
        data["next"] = next_url
    return client.post("/login", data=data)


@dataclass
class Table:
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    attributes: dict[str, str | None] = field(default_factory=dict)

    def column(self, header: str) -> list[str]:
        index = self.headers.index(header)
        return [row[index] for row in self.rows]


class _TableParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.table: Table | None = None
        self._cell: list[str] | None = None
        self._in_table = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table" and attributes.get("id") == "availability-table":
            self.table, self._in_table = Table(attributes=attributes), True
        elif self._in_table and tag == "tr" and self.table is not None:
            self.table.rows.append([])
        elif self._in_table and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_table = False
        elif tag in ("td", "th") and self._cell is not None and self.table is not None:
            text = "".join(self._cell).strip()
            if tag == "th":
                self.table.headers.append(text)
            else:
                self.table.rows[-1].append(text)
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def read_table(html: str) -> Table | None:
    """The availability table of a page (``None`` when the page has none)."""
    parser = _TableParser()
    parser.feed(html)
    if parser.table is not None:
        parser.table.rows = [row for row in parser.table.rows if row]  # the header row
    return parser.table


def element_text(html: str, element_id: str) -> str | None:
    match = re.search(rf'id="{re.escape(element_id)}"[^>]*>([^<]*)<', html)
    return None if match is None else match.group(1)


def next_link(html: str) -> str | None:
    match = re.search(r'<a class="page-link" rel="next" href="([^"]+)"', html)
    return None if match is None else match.group(1)


def item_cells(item: PortalItem) -> list[str]:
    """The cells the portal shows for an item in the default columns, without faults."""
    return [
        item.sku,
        item.name,
        item.manufacturer,
        item.availability_text,
        item.eta_text,
        str(item.allocated),
    ]
