"""The one place where the notifier's real or fake adapters are chosen and wired."""

import datetime as dt

from etawatch.notifier.adapters.outbox import OutboxTransport
from etawatch.notifier.adapters.smtp import SmtpConfig, SmtpTransport
from etawatch.notifier.adapters.sql.database import open_database
from etawatch.notifier.adapters.sql.store import SqlNotifierStore
from etawatch.notifier.application.ports import Clock, MailTransport, NotifierStore, SystemClock
from etawatch.notifier.application.service import DeliveryOptions, NotifierService
from etawatch.notifier.config import NotifierSettings
from etawatch.notifier.metrics import NotifierMetrics
from etawatch.notifier.rendering.compose import EmailComposer
from etawatch.runtime.bus import MessageBus


def build_transport(settings: NotifierSettings) -> MailTransport:
    if not settings.uses_smtp():
        return OutboxTransport(settings.outbox_dir)
    if settings.smtp_url is None:
        raise ValueError("ETAWATCH_DELIVERY=smtp needs ETAWATCH_SMTP_URL")
    return SmtpTransport(
        SmtpConfig.from_url(
            settings.smtp_url.get_secret_value(),
            require_starttls=settings.smtp_require_starttls,
            validate_certs=settings.smtp_validate_certs,
            ca_file=None if settings.smtp_ca_file is None else str(settings.smtp_ca_file),
            timeout=settings.smtp_timeout_seconds,
            attempts=settings.smtp_attempts,
            wait_seconds=settings.smtp_retry_wait_seconds,
        )
    )


async def build_store(settings: NotifierSettings) -> SqlNotifierStore:
    store = SqlNotifierStore(open_database(settings.database_url.get_secret_value()))
    await store.create_tables()
    return store


def delivery_options(settings: NotifierSettings) -> DeliveryOptions:
    return DeliveryOptions(
        operator_email=settings.operator_email,
        lease=dt.timedelta(seconds=settings.send_lease_seconds),
        retry_backoff=dt.timedelta(seconds=settings.retry_backoff_seconds),
        retry_backoff_max=dt.timedelta(seconds=settings.retry_backoff_max_seconds),
        give_up_after=dt.timedelta(hours=settings.give_up_after_hours),
    )


async def build_notifier(
    settings: NotifierSettings,
    bus: MessageBus,
    *,
    clock: Clock | None = None,
    store: NotifierStore | None = None,
    transport: MailTransport | None = None,
    metrics: NotifierMetrics | None = None,
) -> NotifierService:
    """The notifier for either mode: pass the ``InMemoryBus`` (embedded) or a ``RabbitBus``."""
    return NotifierService(
        store=store or await build_store(settings),
        transport=transport or build_transport(settings),
        bus=bus,
        composer=EmailComposer(settings.shop(), settings.default_locale),
        clock=clock or SystemClock(),
        policy=settings.policy(),
        options=delivery_options(settings),
        metrics=metrics or NotifierMetrics(),
    )
