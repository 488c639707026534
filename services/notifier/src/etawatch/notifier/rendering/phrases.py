"""Words of the emails that are not dates: availability, what happened to an item."""

from babel.units import format_unit

from etawatch.contracts.availability import Availability
from etawatch.contracts.messages import ChangeKind
from etawatch.notifier.rendering.dates import BABEL_LOCALE

AVAILABILITY = {
    "cs": {
        Availability.IN_STOCK: "skladem",
        Availability.PRE_ORDER: "předobjednávka",
        Availability.DELAYED: "zpožděno",
        Availability.SOLD_OUT: "vyprodáno",
        Availability.DISCONTINUED: "výroba ukončena",
        Availability.UNKNOWN: "neznámá",
    },
    "en": {
        Availability.IN_STOCK: "in stock",
        Availability.PRE_ORDER: "pre-order",
        Availability.DELAYED: "delayed",
        Availability.SOLD_OUT: "sold out",
        Availability.DISCONTINUED: "discontinued",
        Availability.UNKNOWN: "unknown",
    },
}

HEADLINE = {
    "cs": {
        ChangeKind.DISCONTINUED: "Výrobce ukončil výrobu, položku vám nemůžeme dodat.",
        ChangeKind.SOLD_OUT: "Dodavatel položku vyprodal, zatím ji nemůžeme dodat.",
        ChangeKind.IN_STOCK: "Položka je skladem a připravujeme ji k odeslání.",
        ChangeKind.ETA_LATER: "Termín dodání se posunul na později.",
        ChangeKind.ETA_EARLIER: "Termín dodání se posunul dříve.",
        ChangeKind.ETA_KNOWN: "Dodavatel oznámil termín dodání.",
        ChangeKind.ETA_UNKNOWN: "Dodavatel zatím nezná nový termín dodání.",
        ChangeKind.AVAILABILITY_CHANGED: "Změnila se dostupnost položky.",
    },
    "en": {
        ChangeKind.DISCONTINUED: "The maker has discontinued it; we cannot deliver it.",
        ChangeKind.SOLD_OUT: "The supplier has sold out; we cannot deliver it for now.",
        ChangeKind.IN_STOCK: "It is in stock and we are getting it ready to ship.",
        ChangeKind.ETA_LATER: "The delivery date has moved later.",
        ChangeKind.ETA_EARLIER: "The delivery date has moved earlier.",
        ChangeKind.ETA_KNOWN: "The supplier has announced a delivery date.",
        ChangeKind.ETA_UNKNOWN: "The supplier does not know the new delivery date yet.",
        ChangeKind.AVAILABILITY_CHANGED: "Its availability has changed.",
    },
}


SHIFT = {
    "cs": {"later": "o {days} později", "earlier": "o {days} dříve"},
    "en": {"later": "{days} later", "earlier": "{days} earlier"},
}


def days(count: int, language: str) -> str:
    """``8 dnů``, ``1 day``: a number of days in words, with the right plural."""
    return format_unit(abs(count), "duration-day", locale=BABEL_LOCALE[language], length="long")


def shift(count: int, language: str) -> str:
    """How far a date moved, and which way: ``o 8 dnů později``, ``260 days earlier``."""
    direction = "later" if count > 0 else "earlier"
    return SHIFT[language][direction].format(days=days(count, language))
