"""Plausible collectible figures: product lines, characters, editions and their makers."""

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

# (product line, manufacturers that make it, whether the line has a scale)
LINES: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("Nendoroid", ("Good Smile Company",), False),
    ("figma", ("Max Factory",), False),
    ("Pop Up Parade", ("Good Smile Company",), False),
    ("ARTFX J", ("Kotobukiya",), True),
    ("S.H.Figuarts", ("Bandai Spirits",), False),
    ("Figure-rise Standard", ("Bandai Spirits",), False),
    ("Q posket", ("Banpresto",), False),
    ("Look Up", ("MegaHouse",), False),
    ("Scale Figure", ("Alter", "Kotobukiya", "Good Smile Company", "Aniplex", "Phat!"), True),
    ("Prize Figure", ("Banpresto", "Taito", "SEGA", "FuRyu"), False),
    ("Bishoujo Statue", ("Kotobukiya",), True),
    ("POP UP PARADE L", ("Good Smile Company",), False),
)

CHARACTERS: tuple[str, ...] = (
    "Rem",
    "Ram",
    "Emilia",
    "Link",
    "Zelda",
    "Hatsune Miku",
    "Asuka Langley",
    "Rei Ayanami",
    "Levi",
    "Mikasa Ackerman",
    "Gojo Satoru",
    "Frieren",
    "Fern",
    "Marin Kitagawa",
    "Anya Forger",
    "Yor Forger",
    "Zero Two",
    "Saber",
    "Rin Tohsaka",
    "Megumin",
    "Aqua",
    "Nezuko Kamado",
    "Tanjiro Kamado",
    "Son Goku",
    "Monkey D. Luffy",
    "Roronoa Zoro",
    "Nami",
    "Power",
    "Makima",
    "Kaguya Shinomiya",
    "2B",
    "Aerith Gainsborough",
    "Tifa Lockhart",
    "Cloud Strife",
    "Jinx",
    "Raiden Shogun",
    "Hu Tao",
    "Bocchi",
    "Kita Ikuyo",
    "Lucy",
    "Makise Kurisu",
    "Holo",
    "Violet Evergarden",
    "Ichigo Kurosaki",
    "Naruto Uzumaki",
    "Sailor Moon",
    "Kirby",
    "Pikachu",
)

EDITIONS: tuple[str, ...] = (
    "",
    "",
    "",
    "Breath of the Wild Ver.",
    "Winter Ver.",
    "Bunny Ver.",
    "Swimsuit Ver.",
    "Racing Ver.",
    "DX",
    "Deluxe Edition",
    "Re-run",
    "Kimono Ver.",
    "Casual Wear Ver.",
)

SCALES: tuple[str, ...] = ("1/7", "1/8", "1/6", "1/4")


def one_of(rng: random.Random, options: Sequence[T]) -> T:
    """``rng.choice``, three times as fast (catalogues of 100,000 items are built at start)."""
    return options[int(rng.random() * len(options))]


def figure(rng: random.Random) -> tuple[str, str]:
    """A figure's name and its manufacturer."""
    line, makers, scaled = one_of(rng, LINES)
    parts = [line, one_of(rng, CHARACTERS)]
    edition = one_of(rng, EDITIONS)
    if edition:
        parts.append(edition)
    if scaled:
        parts.append(one_of(rng, SCALES))
    return " ".join(parts), one_of(rng, makers)
