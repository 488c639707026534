"""Configuration of the notifier, from ``ETAWATCH_*`` environment variables."""

import datetime as dt
from pathlib import Path
from typing import Literal, Self

from pydantic import EmailStr, Field, SecretStr, model_validator

from etawatch.notifier.domain.policy import NotificationPolicy
from etawatch.notifier.rendering.compose import ShopProfile
from etawatch.runtime.settings import ProbedServiceSettings


class NotifierSettings(ProbedServiceSettings):
    amqp_url: SecretStr = Field(
        SecretStr("amqp://guest:guest@127.0.0.1:5672/"),
        description="RabbitMQ URL (distributed mode).",
    )
    database_url: SecretStr = Field(
        SecretStr("sqlite:///var/notifier/notifier.db"),
        description="Send log and pending changes: sqlite:///path or postgresql://user@host/db.",
    )
    delivery: Literal["auto", "smtp", "outbox"] = Field(
        "auto",
        description="How emails leave: 'smtp', 'outbox' (.eml files), or 'auto' (SMTP when "
        "ETAWATCH_SMTP_URL is set, else the outbox).",
    )
    smtp_url: SecretStr | None = Field(
        None,
        description="smtp://user:password@host:587 (STARTTLS when offered) or smtps://... (TLS).",
    )
    smtp_require_starttls: bool = Field(
        False, description="Refuse to send over smtp:// when the server does not offer STARTTLS."
    )
    smtp_validate_certs: bool = Field(True, description="Check the mail server's certificate.")
    smtp_ca_file: Path | None = Field(
        None, description="CA certificates (PEM) to trust for the mail server, if not public."
    )
    smtp_timeout_seconds: float = Field(30.0, gt=0, description="Timeout of each SMTP command.")
    smtp_attempts: int = Field(
        3, ge=1, le=10, description="Tries per message within one flush on a 4xx or lost link."
    )
    smtp_retry_wait_seconds: float = Field(
        1.0, ge=0, description="First wait between those tries; doubles each time."
    )
    outbox_dir: Path = Field(Path("var/outbox"), description="Folder of the .eml outbox.")
    shop_name: str = Field("etawatch shop", description="The shop's name, in emails.")
    mail_from: EmailStr = Field("orders@shop.example", description="Sender address of emails.")
    reply_to: EmailStr | None = Field(None, description="Reply-To address of customer emails.")
    contact_email: EmailStr | None = Field(None, description="Customer support address.")
    contact_url: str | None = Field(None, description="Customer support page.")
    cancel_url_template: str | None = Field(
        None,
        description="Link to cancel an order for a refund; {shop_order_id} is replaced.",
    )
    footer: str = Field("", description="Footer line of every email.")
    default_locale: Literal["cs", "en"] = Field(
        "cs", description="Language of emails to customers whose locale is not supported."
    )
    operator_email: EmailStr | None = Field(
        None, description="Who is told when reading a supplier's portal keeps failing."
    )
    later_threshold_days: int = Field(
        7, ge=1, description="Always tell when the latest date moves later by this many days."
    )
    tell_earlier: bool = Field(True, description="Tell when a date moves earlier.")
    tell_small_slips: bool = Field(
        False, description="Tell slips below the threshold at once (else they add up)."
    )
    tell_eta_known: bool = Field(True, description="Tell when an unknown date becomes known.")
    tell_eta_unknown: bool = Field(True, description="Tell when a known date becomes unknown.")
    tell_availability_changed: bool = Field(
        False, description="Tell other availability changes with unchanged dates."
    )
    debounce_minutes: float = Field(
        30.0, ge=0, description="How long changes wait, so reverts vanish and items combine."
    )
    flush_interval_seconds: float = Field(
        15.0, gt=0, description="How often the service sends what is due."
    )
    retry_backoff_seconds: float = Field(
        60.0, gt=0, description="First wait before a message that failed temporarily is retried."
    )
    retry_backoff_max_seconds: float = Field(3600.0, gt=0, description="Longest such wait.")
    give_up_after_hours: float = Field(
        24.0, gt=0, description="A message still not accepted after this long has failed."
    )
    send_lease_seconds: float = Field(
        300.0,
        gt=0,
        description="How long a message being sent is reserved; after a crash it is resent then.",
    )
    retention_days: float = Field(
        400.0,
        ge=30,
        description="Finished send-log rows, consumed changes and idle baselines older than this "
        "are deleted by `prune`. At least 30: a change redelivered or replayed after its row was "
        "deleted is told again, so keep it far longer than any redelivery, DLQ requeue or replay.",
    )
    prune_interval_hours: float = Field(
        24.0, ge=0, description="How often `run` prunes after the retention; 0: never."
    )
    prefetch: int = Field(
        100,
        ge=1,
        description="Unacknowledged changes RabbitMQ hands the consumer; also how many are "
        "stored at the same time.",
    )
    metrics_port: int = Field(
        9103, description="Port of /metrics and of the probes /healthz and /readyz."
    )

    @model_validator(mode="after")
    def _cancel_template_is_usable(self) -> Self:
        if self.cancel_url_template:
            try:
                self.cancel_url_template.format(shop_order_id="X")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    "cancel_url_template may use only {shop_order_id}: " + repr(exc)
                ) from exc
        return self

    @model_validator(mode="after")
    def _retention_outlives_sending(self) -> Self:
        if dt.timedelta(days=self.retention_days) <= dt.timedelta(
            hours=self.give_up_after_hours, minutes=self.debounce_minutes
        ):
            raise ValueError("retention_days must be longer than give_up_after_hours + debounce")
        return self

    def retention(self) -> dt.timedelta:
        return dt.timedelta(days=self.retention_days)

    def policy(self) -> NotificationPolicy:
        return NotificationPolicy(
            later_threshold_days=self.later_threshold_days,
            tell_earlier=self.tell_earlier,
            tell_small_slips=self.tell_small_slips,
            tell_eta_known=self.tell_eta_known,
            tell_eta_unknown=self.tell_eta_unknown,
            tell_availability_changed=self.tell_availability_changed,
            debounce=dt.timedelta(minutes=self.debounce_minutes),
        )

    def shop(self) -> ShopProfile:
        return ShopProfile(
            name=self.shop_name,
            sender=str(self.mail_from),
            reply_to=self.reply_to,
            contact_email=self.contact_email,
            contact_url=self.contact_url,
            cancel_url_template=self.cancel_url_template,
            footer=self.footer,
        )

    def uses_smtp(self) -> bool:
        return self.delivery == "smtp" or (self.delivery == "auto" and self.smtp_url is not None)
