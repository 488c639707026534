"""One row's cells read through the profile: availability words, ETAs, quantities."""

import datetime as dt

import pytest
from etawatch_testing.scraper import NOW, server_profile

from etawatch.contracts.availability import Availability
from etawatch.contracts.eta import Precision
from etawatch.scraper.domain.profile import EtaFormat, EtaSection
from etawatch.scraper.domain.rows import read_eta, read_quantity, read_row

PROFILE = server_profile()
COLUMNS = {
    "sku": 0,
    "name": 1,
    "manufacturer": 2,
    "availability": 3,
    "eta": 4,
    "quantity_allocated": 5,
}


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Skladem", Availability.IN_STOCK),
        ("předobjednávka", Availability.PRE_ORDER),
        ("  Zpožděno ", Availability.DELAYED),
        ("Vyprodáno", Availability.SOLD_OUT),
        ("Ukončeno", Availability.DISCONTINUED),
        ("Na dotaz", Availability.UNKNOWN),
        ("", Availability.UNKNOWN),
    ],
)
def test_availability_words(word: str, expected: Availability) -> None:
    cells = ("FK-1", "Figure", "Alter", word, "", "")
    scraped = read_row(cells, COLUMNS, PROFILE, NOW)
    assert scraped.availability is expected
    assert scraped.availability_raw == word.strip()
    assert scraped.unknown_availability is (expected is Availability.UNKNOWN)


def test_an_unreadable_eta_keeps_its_raw_text() -> None:
    scraped = read_row(("FK-1", "F", "", "Zpožděno", "až to bude", "x"), COLUMNS, PROFILE, NOW)
    assert scraped.eta.raw == "až to bude"
    assert scraped.eta.precision is Precision.UNKNOWN
    assert scraped.unreadable_eta
    assert scraped.manufacturer is None
    assert scraped.quantity_allocated is None


@pytest.mark.parametrize("raw", ["TBA", "", "skladem"])
def test_a_supplier_saying_it_does_not_know_is_not_unreadable(raw: str) -> None:
    scraped = read_row(("FK-1", "F", "", "Skladem", raw, "1"), COLUMNS, PROFILE, NOW)
    assert not scraped.unreadable_eta


def test_the_portal_phrasings_are_read() -> None:
    for raw in ["15. 3. 2027", "15.03.2027", "2027-03-15", "03/2027", "březen 2027", "Q2 2027",
                "2. čtvrtletí 2027", "1. pololetí 2027", "týden 12/2027"]:  # fmt: skip
        assert read_eta(raw, EtaSection(), NOW.date()).known, raw


def test_extra_formats_come_before_the_built_in_reading() -> None:
    us_dates = EtaSection(extra_formats=(EtaFormat(format="%m/%d/%Y"),))
    eta = read_eta("03/04/2027", us_dates, NOW.date())
    assert (eta.earliest, eta.precision) == (dt.date(2027, 3, 4), Precision.DAY)
    months = EtaSection(extra_formats=(EtaFormat(format="%Y%m", precision="month"),))
    eta = read_eta("202702", months, NOW.date())
    assert (eta.earliest, eta.latest) == (dt.date(2027, 2, 1), dt.date(2027, 2, 28))
    years = EtaSection(extra_formats=(EtaFormat(format="FY%Y", precision="year"),))
    assert read_eta("FY2028", years, NOW.date()).latest == dt.date(2028, 12, 31)
    assert read_eta("Q3 2027", us_dates, NOW.date()).precision is Precision.QUARTER


@pytest.mark.parametrize(("raw", "expected"), [("12", 12), ("3 ks", 3), ("", None), ("-", None)])
def test_quantities(raw: str, expected: int | None) -> None:
    assert read_quantity(raw) == expected
