"""Compose the multipart email (plain text + HTML) for a digest or an operator alert."""

import datetime as dt
import uuid
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from etawatch.contracts.availability import Availability
from etawatch.contracts.messages import ChangeKind, ScrapeHealthDegraded
from etawatch.notifier.domain.model import Digest, ItemNotice, ItemState
from etawatch.notifier.rendering.dates import format_day, format_eta
from etawatch.notifier.rendering.headers import header_text
from etawatch.notifier.rendering.phrases import AVAILABILITY, HEADLINE, shift

LANGUAGES = ("cs", "en")
FINAL_KINDS = (ChangeKind.SOLD_OUT, ChangeKind.DISCONTINUED)
DATELESS = (Availability.IN_STOCK, Availability.SOLD_OUT, Availability.DISCONTINUED)
"""Availabilities that say, in place of a date, when (or whether) an item comes."""


@dataclass(frozen=True, slots=True)
class ShopProfile:
    """What the emails say about the shop; all of it from configuration."""

    name: str
    sender: str
    reply_to: str | None = None
    contact_email: str | None = None
    contact_url: str | None = None
    cancel_url_template: str | None = None
    footer: str = ""

    def cancel_url(self, shop_order_id: str) -> str | None:
        if not self.cancel_url_template:
            return None
        return self.cancel_url_template.format(shop_order_id=quote(shop_order_id, safe=""))


@dataclass(frozen=True, slots=True)
class ComposedEmail:
    subject: str
    message_id: str
    sender: str
    recipient: str
    language: str
    raw: bytes


def language_of(locale: str, default: str) -> str:
    """``cs``, ``en_GB``, ``en-US`` -> a language we write in; anything else -> ``default``."""
    language = locale.replace("-", "_").split("_")[0].lower()
    return language if language in LANGUAGES else default


def date_phrase(state: ItemState, language: str) -> str:
    """The date of an item as the email names it: its window, or, when it has none, an
    availability that says it all (``skladem``, ``discontinued``), never "not yet known"."""
    if not state.eta.known and state.availability in DATELESS:
        return AVAILABILITY[language][state.availability]
    return format_eta(state.eta, language)


def message_id_for(notification_id: uuid.UUID, sender: str) -> str:
    """Deterministic: a resend of the same notification carries the same Message-ID."""
    domain = sender.rpartition("@")[2] or "etawatch.invalid"
    return f"<{notification_id}@{domain}>"


class EmailComposer:
    def __init__(self, shop: ShopProfile, default_language: str = "cs") -> None:
        if default_language not in LANGUAGES:
            raise ValueError(f"default language must be one of {LANGUAGES}")
        self.shop = shop
        self.default_language = default_language
        self.env = Environment(
            loader=PackageLoader("etawatch.notifier.rendering", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def customer_email(
        self, digest: Digest, notification_id: uuid.UUID, now: dt.datetime
    ) -> ComposedEmail:
        language = language_of(digest.recipient.locale, self.default_language)
        context = {
            "shop": self.shop,
            "order_id": digest.shop_order_id,
            "customer_name": digest.recipient.name,
            "items": [self._item(item, language) for item in digest.items],
            "any_final": any(item.kind in FINAL_KINDS for item in digest.items),
            "any_later": any(item.kind is ChangeKind.ETA_LATER for item in digest.items),
            "cancel_url": self.shop.cancel_url(digest.shop_order_id),
        }
        return self._compose(
            f"{language}/customer",
            context,
            language,
            to=Address(header_text(digest.recipient.name), addr_spec=digest.recipient.email),
            notification_id=notification_id,
            now=now,
        )

    def operator_email(
        self, alert: ScrapeHealthDegraded, to: str, notification_id: uuid.UUID, now: dt.datetime
    ) -> ComposedEmail:
        language = self.default_language
        context = {
            "shop": self.shop,
            "alert": alert,
            "failing_since": format_day(alert.failing_since.date(), language),
        }
        return self._compose(
            f"{language}/operator",
            context,
            language,
            to=Address(addr_spec=to),
            notification_id=notification_id,
            now=now,
        )

    def _item(self, item: ItemNotice, language: str) -> dict[str, Any]:
        return {
            "name": item.item_name,
            "sku": item.sku,
            "quantity": item.quantity,
            "kind": item.kind.value,
            "headline": HEADLINE[language][item.kind],
            "before_eta": date_phrase(item.before, language),
            "after_eta": date_phrase(item.after, language),
            "eta_changed": not item.before.eta.same_window(item.after.eta),
            "before_availability": AVAILABILITY[language][item.before.availability],
            "after_availability": AVAILABILITY[language][item.after.availability],
            "availability_changed": item.before.availability is not item.after.availability,
            "shift": shift(item.shift_days, language) if item.shift_days else None,
        }

    def _compose(
        self,
        template: str,
        context: dict[str, Any],
        language: str,
        *,
        to: Address,
        notification_id: uuid.UUID,
        now: dt.datetime,
    ) -> ComposedEmail:
        subject = header_text(self.env.get_template(f"{template}.subject.j2").render(context))
        text = self.env.get_template(f"{template}.txt.j2").render(context)
        html = self.env.get_template(f"{template}.html.j2").render(context)
        sender = Address(header_text(self.shop.name), addr_spec=self.shop.sender)
        message_id = message_id_for(notification_id, self.shop.sender)
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = sender
        msg["To"] = to
        if self.shop.reply_to:
            msg["Reply-To"] = Address(addr_spec=self.shop.reply_to)
        msg["Date"] = format_datetime(now.astimezone(dt.UTC))
        msg["Message-ID"] = message_id
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Etawatch-Notification-Id"] = str(notification_id)
        msg.set_content(text, subtype="plain", cte="quoted-printable")
        msg.add_alternative(html, subtype="html", cte="quoted-printable")
        msg["Content-Language"] = language  # after the body: set_content clears Content-*
        msg.set_boundary(f"=_{notification_id.hex}")  # the same notification, the same bytes
        return ComposedEmail(
            subject=subject,
            message_id=message_id,
            sender=self.shop.sender,
            recipient=to.addr_spec,
            language=language,
            raw=msg.as_bytes(policy=SMTP),
        )
