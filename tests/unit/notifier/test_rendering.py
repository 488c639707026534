"""Emails in Czech and English for every kind of change, dates as people say them, and headers
that names cannot break."""

import dataclasses
import email
import email.policy
import re
import uuid
from email.message import EmailMessage

import pytest
from etawatch_testing.notifier import NOW, SHOP, eta, health_alert

from etawatch.contracts.messages import ChangeKind, FailureReason
from etawatch.notifier.domain.model import Recipient
from etawatch.notifier.rendering.compose import (
    ComposedEmail,
    EmailComposer,
    language_of,
    message_id_for,
)
from etawatch.notifier.rendering.dates import cs_preposition, format_eta
from etawatch.notifier.rendering.headers import header_text
from etawatch.notifier.rendering.samples import sample_digest

NID = uuid.UUID("00000000-0000-0000-0000-00000000abcd")
COMPOSER = EmailComposer(SHOP, "cs")


def parse(composed: ComposedEmail) -> EmailMessage:
    message = email.message_from_bytes(composed.raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def visible(html: str) -> str:
    """The text a reader sees in an HTML part, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split()).replace(" .", ".").replace(" ,", ",")


def parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


@pytest.mark.parametrize(
    ("raw", "cs", "en"),
    [
        ("15. 3. 2027", "15. března 2027", "15 March 2027"),
        ("03/2027", "v březnu 2027", "in March 2027"),
        ("07/2027", "v červenci 2027", "in July 2027"),
        ("Q2 2027", "ve 2. čtvrtletí 2027", "in Q2 2027"),
        ("Q1 2027", "v 1. čtvrtletí 2027", "in Q1 2027"),
        ("1. pololetí 2027", "v 1. pololetí 2027", "in H1 2027"),
        ("2. pololetí 2027", "ve 2. pololetí 2027", "in H2 2027"),
        ("týden 12 2027", "ve 12. týdnu 2027", "in week 12 of 2027"),
        ("týden 13 2027", "ve 13. týdnu 2027", "in week 13 of 2027"),
        ("2027", "v roce 2027", "in 2027"),
        ("TBA", "termín zatím neznámý", "date not yet known"),
    ],
)
def test_windows_are_worded_the_way_people_say_them(raw: str, cs: str, en: str) -> None:
    assert format_eta(eta(raw), "cs") == cs
    assert format_eta(eta(raw), "en") == en


def test_czech_uses_ve_before_ordinals_that_start_with_two_consonants() -> None:
    ve = [n for n in range(1, 54) if cs_preposition(n) == "ve"]
    assert ve == [2, 3, 4, 12, 13, 14, *range(20, 50)]


@pytest.mark.parametrize(
    ("locale", "language"),
    [("cs", "cs"), ("cs_CZ", "cs"), ("en", "en"), ("en-GB", "en"), ("de", "cs"), ("sk", "cs")],
)
def test_language_follows_the_locale_with_a_fallback(locale: str, language: str) -> None:
    assert language_of(locale, "cs") == language
    composed = COMPOSER.customer_email(sample_digest([ChangeKind.ETA_LATER], locale), NID, NOW)
    assert composed.language == language
    assert parse(composed)["Content-Language"] == language


EXPECTED = {
    ("cs", ChangeKind.DISCONTINUED): [
        "ukončil výrobu",
        "vrátíme peníze",
        "dříve ve 2. čtvrtletí 2027, nyní výroba ukončena",
    ],
    ("cs", ChangeKind.SOLD_OUT): ["vyprodal", "dříve v březnu 2027, nyní vyprodáno"],
    ("cs", ChangeKind.IN_STOCK): ["je skladem", "dříve 15. března 2027, nyní skladem"],
    ("cs", ChangeKind.ETA_LATER): [
        "na později",
        "dříve 15. března 2027, nyní ve 2. čtvrtletí 2027",
        "o 107 dnů později",
    ],
    ("cs", ChangeKind.ETA_EARLIER): [
        "dříve ve 2. pololetí 2027, nyní ve 12. týdnu 2027",
        "o 260 dnů dříve",
    ],
    ("cs", ChangeKind.ETA_KNOWN): ["termín zatím neznámý, nyní v roce 2027"],
    ("cs", ChangeKind.ETA_UNKNOWN): ["nezná nový termín", "nyní termín zatím neznámý"],
    ("cs", ChangeKind.AVAILABILITY_CHANGED): ["předobjednávka, nyní zpožděno"],
    ("en", ChangeKind.DISCONTINUED): [
        "discontinued it",
        "refund",
        "was in Q2 2027, now discontinued",
    ],
    ("en", ChangeKind.SOLD_OUT): ["sold out", "was in March 2027, now sold out"],
    ("en", ChangeKind.IN_STOCK): ["in stock", "was 15 March 2027, now in stock"],
    ("en", ChangeKind.ETA_LATER): [
        "moved later",
        "was 15 March 2027, now in Q2 2027",
        "107 days later",
    ],
    ("en", ChangeKind.ETA_EARLIER): [
        "was in H2 2027, now in week 12 of 2027",
        "260 days earlier",
    ],
    ("en", ChangeKind.ETA_KNOWN): ["was date not yet known, now in 2027"],
    ("en", ChangeKind.ETA_UNKNOWN): ["does not know", "now date not yet known"],
    ("en", ChangeKind.AVAILABILITY_CHANGED): ["was pre-order, now delayed"],
}


@pytest.mark.parametrize(("language", "kind"), list(EXPECTED))
def test_every_kind_renders_in_both_languages(language: str, kind: ChangeKind) -> None:
    digest = sample_digest([kind], language)
    composed = COMPOSER.customer_email(digest, NID, NOW)
    message = parse(composed)
    text, html = parts(message)
    shown = visible(html)
    for phrase in EXPECTED[(language, kind)]:
        assert phrase in text, phrase
        assert phrase in shown, phrase
    cancel = "https://figurky.example/objednavky/2026-000123/zruseni"
    offers_cancel = kind in (ChangeKind.DISCONTINUED, ChangeKind.SOLD_OUT, ChangeKind.ETA_LATER)
    assert (cancel in text) is offers_cancel
    assert (f'href="{cancel}"' in html) is offers_cancel
    assert digest.shop_order_id in composed.subject
    assert f'data-kind="{kind.value}"' in html
    for body in (text, html):
        assert "Figurky.cz" in body
        assert "podpora@figurky.example" in body
        assert "https://figurky.example/kontakt" in body
        assert "Figurky.cz s.r.o., Praha" in body
        assert digest.items[0].item_name in body


@pytest.mark.parametrize("language", ["cs", "en"])
def test_an_item_in_stock_sold_out_or_discontinued_has_no_unknown_date(language: str) -> None:
    """Its availability stands in for the date: an item ready to ship is never "not yet known"."""
    kinds = [ChangeKind.IN_STOCK, ChangeKind.SOLD_OUT, ChangeKind.DISCONTINUED]
    text, html = parts(parse(COMPOSER.customer_email(sample_digest(kinds, language), NID, NOW)))
    unknown = {"cs": "neznámý", "en": "not yet known"}[language]
    assert unknown not in text
    assert unknown not in visible(html)


def test_headers_name_the_shop_the_customer_and_a_deterministic_message_id() -> None:
    digest = sample_digest([ChangeKind.ETA_LATER, ChangeKind.SOLD_OUT])
    first = COMPOSER.customer_email(digest, NID, NOW)
    message = parse(first)
    assert message["From"].addresses[0].addr_spec == "objednavky@figurky.example"
    assert message["From"].addresses[0].display_name == "Figurky.cz"
    assert message["Reply-To"].addresses[0].addr_spec == "podpora@figurky.example"
    assert [a.addr_spec for a in message["To"].addresses] == ["jana@example.com"]
    assert message["To"].addresses[0].display_name == "Jana Nováková"
    assert message["Message-ID"] == message_id_for(NID, SHOP.sender)
    assert message["Message-ID"] == f"<{NID}@figurky.example>"
    assert (
        message["Subject"]
        == first.subject
        == ("Figurky.cz: změny u 2 položek objednávky 2026-000123")
    )
    assert message.is_multipart()
    assert message.get_content_type() == "multipart/alternative"
    again = COMPOSER.customer_email(digest, NID, NOW)
    assert again.raw.split(b"\r\n\r\n", 1)[0] == first.raw.split(b"\r\n\r\n", 1)[0]
    assert first.raw.isascii()


def test_html_escapes_what_customers_and_suppliers_wrote() -> None:
    digest = sample_digest([ChangeKind.ETA_LATER])
    digest = dataclasses.replace(
        digest,
        recipient=Recipient("c", "jana@example.com", "<script>alert(1)</script>", "cs"),
        items=(dataclasses.replace(digest.items[0], item_name='Figurka <b onclick="x">'),),
    )
    _, html = parts(parse(COMPOSER.customer_email(digest, NID, NOW)))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert '<b onclick="x">' not in html


INJECTIONS = [
    "Eve\r\nBcc: attacker@evil.example",
    "Eve\nBcc: attacker@evil.example",
    "Eve\rBcc: attacker@evil.example",
    "Eve\u2028Bcc: attacker@evil.example",
    "Eve\x00\x0bBcc: attacker@evil.example",
]


@pytest.mark.parametrize("evil", INJECTIONS)
def test_names_with_line_breaks_cannot_inject_headers(evil: str) -> None:
    digest = sample_digest([ChangeKind.ETA_LATER])
    digest = dataclasses.replace(
        digest,
        shop_order_id="2026-1\r\nBcc: order@evil.example",
        recipient=Recipient("c", "jana@example.com", evil, "en"),
        items=(dataclasses.replace(digest.items[0], item_name=evil),),
    )
    composed = COMPOSER.customer_email(digest, NID, NOW)
    message = parse(composed)
    assert message["Bcc"] is None
    assert message.get_all("Bcc") is None
    assert [a.addr_spec for a in message["To"].addresses] == ["jana@example.com"]
    assert composed.recipient == "jana@example.com"
    assert "\n" not in message["Subject"]
    assert "\r" not in message["Subject"]
    assert "Bcc: attacker@evil.example" in message["Subject"]  # kept as harmless text
    header_block = composed.raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in header_block
    assert not any(line.lower().startswith(b"bcc") for line in header_block.split(b"\r\n"))


def test_header_text_flattens_every_control_and_separator_character() -> None:
    assert header_text("a\r\nb\tc\u2029d\x85e") == "a b c d e"
    assert header_text("x" * 300) == "x" * 200


def test_an_address_that_cannot_be_written_is_refused() -> None:
    digest = sample_digest([ChangeKind.ETA_LATER])
    bad = dataclasses.replace(
        digest, recipient=Recipient("c", "jana@example.com>, eve@evil.example", "Jana", "cs")
    )
    with pytest.raises(ValueError):  # noqa: PT011 - the email library's own message
        COMPOSER.customer_email(bad, NID, NOW)


def test_operator_alert_names_the_supplier_and_the_reason() -> None:
    alert = health_alert(FailureReason.LOGIN_FAILED, "wrong password").data
    composed = COMPOSER.operator_email(alert, "provoz@figurky.example", NID, NOW)
    message = parse(composed)
    text, html = parts(message)
    assert "acme" in composed.subject
    assert "3x" in composed.subject
    assert "login_failed" in text
    assert "wrong password" in html
    assert "28. listopadu 2026" in text
    assert [a.addr_spec for a in message["To"].addresses] == ["provoz@figurky.example"]


def test_cancel_link_quotes_the_order_id() -> None:
    assert SHOP.cancel_url("A/1 2") == "https://figurky.example/objednavky/A%2F1%202/zruseni"
    assert dataclasses.replace(SHOP, cancel_url_template=None).cancel_url("A") is None
