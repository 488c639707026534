"""`etawatch up`: which service processes it starts, and with what configuration."""

from dataclasses import replace
from pathlib import Path

from pydantic import SecretStr

from etawatch.allinone.up import UpOptions, children

AMQP = "amqp://etawatch:amqp-secret@mq.internal:5672/"
DATABASE = "postgresql://etawatch:db-secret@db.internal:5432/etawatch"
SMTP = "smtp://mailer:smtp-secret@mail.internal:587"


BASE = UpOptions(
    amqp_url=SecretStr(AMQP),
    database_url=SecretStr(DATABASE),
    data_dir=Path("/srv/etawatch"),
    api_port=8080,
)


def test_without_a_profile_three_services_and_no_scraper() -> None:
    kids = {kid.name: kid for kid in children(BASE, base_env={"PATH": "/usr/bin"})}
    assert list(kids) == ["ledger", "notifier", "query-api"]
    assert kids["notifier"].env["ETAWATCH_DELIVERY"] == "outbox"
    assert kids["notifier"].env["ETAWATCH_OUTBOX_DIR"] == "/srv/etawatch/outbox"
    api = kids["query-api"].env
    assert (api["ETAWATCH_PORT"], api["ETAWATCH_VIEWS_URL"]) == ("8080", DATABASE)
    for kid in kids.values():
        assert kid.env["ETAWATCH_AMQP_URL"] == AMQP
        assert kid.env["ETAWATCH_DATABASE_URL"] == DATABASE
        assert kid.env["PATH"] == "/usr/bin"


def test_a_profile_adds_the_scraper_on_a_schedule_and_smtp_sends_the_emails() -> None:
    chosen = replace(
        BASE, profile="simulated-server", every="15m", jitter="1m", smtp_url=SecretStr(SMTP)
    )
    kids = {kid.name: kid for kid in children(chosen, base_env={})}
    scraper = kids["scraper"]
    assert scraper.argv[1:] == (
        "schedule",
        "--profile",
        "simulated-server",
        "--every",
        "15m",
        "--jitter",
        "1m",
    )
    assert scraper.env["ETAWATCH_DATA_DIR"] == "/srv/etawatch/scraper"
    assert kids["notifier"].env["ETAWATCH_DELIVERY"] == "smtp"
    assert kids["notifier"].env["ETAWATCH_SMTP_URL"] == SMTP
    for kid in kids.values():  # secrets go by environment only, never on a command line
        assert not any("secret" in arg for arg in kid.argv), kid.argv
