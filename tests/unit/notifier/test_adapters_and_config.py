"""Settings, the outbox writer, SMTP error classification, the CLI preview, and logs without
message bodies."""

import asyncio
import contextlib
import datetime as dt
import email
import email.policy
from pathlib import Path

import aiosmtplib
import pytest
from etawatch_testing.notifier import NOW, PRE, FakeClock, change, notifier
from pydantic import ValidationError
from structlog.testing import capture_logs
from typer.testing import CliRunner

from etawatch.contracts.messages import NotificationFailureReason
from etawatch.notifier.adapters.outbox import OutboxTransport
from etawatch.notifier.adapters.smtp import SmtpConfig, classify
from etawatch.notifier.adapters.sql.database import open_database
from etawatch.notifier.adapters.sql.store import SqlNotifierStore
from etawatch.notifier.application.ports import DeliveryError
from etawatch.notifier.config import NotifierSettings
from etawatch.notifier.entrypoints.cli import app
from etawatch.notifier.entrypoints.stream import prune_forever


def test_settings_build_the_policy_and_refuse_a_bad_cancel_template() -> None:
    settings = NotifierSettings(later_threshold_days=3, debounce_minutes=5, tell_earlier=False)
    policy = settings.policy()
    assert policy.later_threshold_days == 3
    assert policy.debounce.total_seconds() == 300
    assert not policy.tell_earlier
    with pytest.raises(ValidationError, match="shop_order_id"):
        NotifierSettings(cancel_url_template="https://shop.example/{order}/cancel")


def test_delivery_is_smtp_only_when_a_url_is_given_or_asked_for() -> None:
    assert not NotifierSettings().uses_smtp()
    assert NotifierSettings(smtp_url="smtp://mail.example:25").uses_smtp()  # type: ignore[arg-type]
    assert not NotifierSettings(
        smtp_url="smtp://mail.example:25",  # type: ignore[arg-type]
        delivery="outbox",
    ).uses_smtp()


def test_production_refuses_the_default_database_and_broker_secrets() -> None:
    with pytest.raises(ValidationError, match="ETAWATCH_DATABASE_URL"):
        NotifierSettings(environment="production")


def test_smtp_urls_are_read_with_tls_and_credentials() -> None:
    plain = SmtpConfig.from_url("smtp://shop%40x:p%3Ass@mail.example")
    assert (plain.hostname, plain.port, plain.implicit_tls) == ("mail.example", 25, False)
    assert (plain.username, plain.password) == ("shop@x", "p:ss")
    tls = SmtpConfig.from_url("smtps://mail.example")
    assert (tls.port, tls.implicit_tls) == (465, True)
    with pytest.raises(ValueError, match="smtp://"):
        SmtpConfig.from_url("http://mail.example")


def test_database_urls_are_checked() -> None:
    with pytest.raises(ValueError, match="sqlite:///"):
        open_database("mysql://x")


@pytest.mark.parametrize(
    ("error", "permanent", "reason"),
    [
        (aiosmtplib.SMTPResponseException(451, "later"), False, None),
        (
            aiosmtplib.SMTPResponseException(554, "no"),
            True,
            NotificationFailureReason.PERMANENT_REJECTION,
        ),
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(550, "unknown", "x@example.com")]
            ),
            True,
            NotificationFailureReason.INVALID_ADDRESS,
        ),
        (
            aiosmtplib.SMTPRecipientsRefused(
                [aiosmtplib.SMTPRecipientRefused(450, "busy", "x@example.com")]
            ),
            False,
            None,
        ),
        (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), False, None),
        (aiosmtplib.SMTPServerDisconnected("gone"), False, None),
        (ConnectionRefusedError("refused"), False, None),
    ],
)
def test_smtp_errors_are_temporary_or_permanent(
    error: Exception, permanent: bool, reason: NotificationFailureReason | None
) -> None:
    classified = classify(error)
    assert classified.permanent is permanent
    if reason is not None:
        assert classified.reason is reason


async def test_outbox_writes_one_complete_file_per_notification(tmp_path: Path) -> None:
    service = await notifier(transport=OutboxTransport(tmp_path / "outbox"))
    envelope = change(after=(PRE, "01/2028"))
    await service.handle(envelope)
    [delivery] = await service.flush_due(NOW + service.policy.debounce)
    files = list((tmp_path / "outbox").iterdir())
    assert [f.name for f in files] == [f"{delivery.notification_id}.eml"]
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["Message-ID"] == delivery.message_id
    assert parsed["To"].addresses[0].addr_spec == "jana@example.com"


async def test_outbox_refuses_a_message_without_message_id(tmp_path: Path) -> None:
    async with OutboxTransport(tmp_path).session() as session:
        with pytest.raises(DeliveryError, match="Message-ID"):
            await session.send(b"Subject: x\r\n\r\nbody", "a@example.com", ["b@example.com"])


async def test_logs_never_contain_the_message_body() -> None:
    service = await notifier()
    secret_name = "Zdeňka Tajná"
    with capture_logs() as logs:
        await service.handle(
            change(customer_name=secret_name, item_name="Tajná figurka", after=(PRE, "01/2028"))
        )
        deliveries = await service.flush_due(NOW + service.policy.debounce)
    assert deliveries[0].outcome == "sent"
    assert logs
    flat = repr(logs)
    for private in (secret_name, "Tajná figurka", "Dobrý den", "Termín dodání", "Subject"):
        assert private not in flat


def test_preview_renders_a_sample_in_each_language(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "sample.eml"
    english = runner.invoke(
        app, ["preview", "--locale", "en", "--kind", "eta_later", "--eml", str(out)]
    )
    assert english.exit_code == 0, english.output
    assert "was 15 March 2027, now in Q2 2027" in english.output
    assert out.read_bytes().startswith(b"Subject:")
    czech = runner.invoke(app, ["preview", "--kind", "sold_out", "--kind", "in_stock", "--html"])
    assert czech.exit_code == 0, czech.output
    assert "vyprodal" in czech.output
    assert "<html" in czech.output
    bad = runner.invoke(app, ["preview", "--kind", "exploded"])
    assert bad.exit_code != 0


@pytest.mark.parametrize("days", [0, -1, 29])
def test_settings_refuse_a_retention_too_short_for_telling_once(days: int) -> None:
    with pytest.raises(ValidationError, match="retention_days"):
        NotifierSettings(retention_days=days)


def test_settings_refuse_a_retention_shorter_than_sending_lasts() -> None:
    with pytest.raises(ValidationError, match="give_up_after_hours"):
        NotifierSettings(retention_days=30, give_up_after_hours=24 * 31)
    assert NotifierSettings().retention().days == 400


def test_prune_prints_what_it_would_delete_and_deletes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/notifier.db"
    asyncio.run(told_long_ago(url))
    monkeypatch.setenv("ETAWATCH_DATABASE_URL", url)
    runner = CliRunner()
    every = ("notifier_send_log", "notifier_pending_changes", "notifier_baselines")
    dry = runner.invoke(app, ["prune", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert [f"{table}: would delete 1" for table in every] == dry.output.splitlines()[-3:]
    real = runner.invoke(app, ["prune"])
    assert real.exit_code == 0, real.output
    assert [f"{table}: deleted 1" for table in every] == real.output.splitlines()[-3:]
    again = runner.invoke(app, ["prune"])
    assert [f"{table}: deleted 0" for table in every] == again.output.splitlines()[-3:]


async def told_long_ago(url: str) -> None:
    """One change told and its outcome published 500 days ago, in the database at ``url``."""
    store = SqlNotifierStore(open_database(url))
    await store.create_tables()
    clock = FakeClock(dt.datetime.now(dt.UTC) - dt.timedelta(days=500))
    service = await notifier(store=store, clock=clock)
    await service.handle(change(after=(PRE, "01/2028"), observed_at=clock.now()))
    [delivery] = await service.flush_due(clock.advance(minutes=31))
    assert delivery.outcome == "sent"
    await store.close()


async def test_the_prune_loop_prunes_at_once_and_counts() -> None:
    service = await notifier()
    task = asyncio.create_task(
        prune_forever(service, dt.timedelta(days=400), dt.timedelta(hours=24))
    )
    await asyncio.sleep(0.05)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    samples = {
        s.labels["table"]
        for metric in service.metrics.registry.collect()
        if metric.name == "etawatch_notifier_pruned_rows"
        for s in metric.samples
    }
    assert samples == {"notifier_send_log", "notifier_pending_changes", "notifier_baselines"}
