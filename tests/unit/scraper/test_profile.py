"""Loading portal profiles: the shipped ones work, bad ones fail with a clear error."""

from pathlib import Path

import pytest

from etawatch.contracts.availability import Availability
from etawatch.scraper.adapters.profiles import load_profile, shipped_profiles
from etawatch.scraper.domain.profile import ExportFormat, Mode, ProfileError, parse_profile

MINIMAL = """
name = "acme"
supplier = "acme"
[portal]
base_url = "https://b2b.example.test"
mode = "pages"
[login]
form = "form#login"
username_field = "#user"
password_field = "#pass"
submit = "button[type=submit]"
error = ".error"
[table]
start_path = "/items"
table = "table.items"
ready = "table.items"
[columns]
sku = ["SKU", "Item code"]
name = "Name"
availability = "Stock"
eta = "ETA"
[availability]
"In stock" = "in_stock"
"""


def test_every_shipped_profile_loads_with_its_mode() -> None:
    shipped = shipped_profiles()
    expected = {"simulated-server", "simulated-script", "simulated-csv", "simulated-xlsx"}
    assert expected <= set(shipped)
    modes = {name: load_profile(name).portal.mode for name in shipped}
    assert modes["simulated-server"] is Mode.PAGES
    assert modes["simulated-script"] is Mode.SCRIPT
    assert modes["simulated-csv"] is Mode.EXPORT
    assert modes["simulated-xlsx"] is Mode.EXPORT


def test_extends_keeps_the_base_and_replaces_what_it_names() -> None:
    script = load_profile("simulated-script")
    server = load_profile("simulated-server")
    assert script.columns == server.columns
    assert script.table.ready == "table#availability-table[data-loaded='true']"
    assert script.table.failed == "table#availability-table[data-loaded='error']"
    csv_export = load_profile("simulated-csv").export
    xlsx_export = load_profile("simulated-xlsx").export
    assert csv_export is not None and csv_export.format is ExportFormat.CSV  # the default
    assert xlsx_export is not None and xlsx_export.format is ExportFormat.XLSX
    assert (xlsx_export.path, xlsx_export.sheet) == ("/export.xlsx", None)
    assert load_profile("simulated-xlsx").columns == server.columns


def test_a_minimal_profile_takes_defaults_and_alternative_headers() -> None:
    profile = parse_profile(MINIMAL)
    assert profile.columns.sku == ("SKU", "Item code")
    assert profile.columns.manufacturer is None
    assert profile.session.max_logins == 3
    assert profile.availability_of("  in STOCK ") is Availability.IN_STOCK
    assert profile.availability_of("Na dotaz") is Availability.UNKNOWN


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("[portal]", "[portalx]"), "portal: Field required"),
        (('mode = "pages"', 'mode = "telepathy"'), "portal.mode"),
        (('base_url = "https://b2b.example.test"', 'base_url = "ftp://x"'), "portal.base_url"),
        (('sku = ["SKU", "Item code"]', 'sku = ""'), "columns.sku"),
        (('"In stock" = "in_stock"', '"In stock" = "maybe"'), "availability.In stock"),
        (('name = "acme"', 'name = "acme"\ncolour = "blue"'), "colour: Extra inputs"),
        (('mode = "pages"', 'mode = "export"'), "mode 'export' needs an [export] section"),
        (
            ('mode = "pages"', 'mode = "export"\n[export]\npath = "/x.ods"\nformat = "ods"'),
            "export.format: Input should be 'csv' or 'xlsx'",
        ),
        (("[table]", "[login2]\nx=1\n[table]"), "login2"),
    ],
)
def test_a_bad_profile_names_the_field(change: tuple[str, str], expected: str) -> None:
    with pytest.raises(ProfileError, match=r"bad\.toml") as error:
        parse_profile(MINIMAL.replace(*change), "bad.toml")
    assert expected in str(error.value)


def test_a_bad_regular_expression_is_refused() -> None:
    text = MINIMAL.replace('form = "form#login"', 'form = "form#login"\nurl_pattern = "(["')
    with pytest.raises(ProfileError, match=r"login.url_pattern.*not a regular expression"):
        parse_profile(text, "bad.toml")


def test_invalid_toml_says_where() -> None:
    with pytest.raises(ProfileError, match=r"bad.toml: not valid TOML.*line"):
        parse_profile('name = "unterminated\n', "bad.toml")


@pytest.mark.parametrize("key", ["password", "username", "token"])
def test_credentials_in_a_profile_are_refused(key: str) -> None:
    text = MINIMAL.replace("[login]\n", f'[login]\n{key} = "hunter22"\n')
    with pytest.raises(ProfileError, match=rf"login.{key}: credentials never go in a profile"):
        parse_profile(text, "bad.toml")


def test_an_unknown_profile_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ProfileError, match=r"no profile 'nope'.*simulated-server"):
        load_profile("nope")


def test_a_missing_file_is_a_profile_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read the profile"):
        load_profile(tmp_path / "missing.toml")


def test_extends_from_a_file_and_loops_are_caught(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(MINIMAL, encoding="utf-8")
    (tmp_path / "child.toml").write_text(
        'extends = "base.toml"\nname = "child"\n[validation]\nmax_drop_share = 0.5\n',
        encoding="utf-8",
    )
    child = load_profile(tmp_path / "child.toml")
    assert (child.name, child.validation.max_drop_share) == ("child", 0.5)
    (tmp_path / "loop.toml").write_text('extends = "loop.toml"\n', encoding="utf-8")
    with pytest.raises(ProfileError, match="more than 5 levels"):
        load_profile(tmp_path / "loop.toml")
