"""Settings with mounted secret files, and the command line's answers to bad input."""

from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from etawatch.scraper.config import ScraperSettings
from etawatch.scraper.domain.credentials import Credentials
from etawatch.scraper.entrypoints.cli import app


def test_credentials_come_from_mounted_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "user").write_text("eshop\n", encoding="utf-8")
    (tmp_path / "pass").write_text("s3cret-from-file\n", encoding="utf-8")
    monkeypatch.setenv("ETAWATCH_PORTAL_USERNAME_FILE", str(tmp_path / "user"))
    monkeypatch.setenv("ETAWATCH_PORTAL_PASSWORD_FILE", str(tmp_path / "pass"))
    monkeypatch.setenv("ETAWATCH_PORTAL_PASSWORD", "from-the-variable")
    credentials = ScraperSettings().credentials()
    assert credentials.username == "eshop"
    assert credentials.password.get_secret_value() == "s3cret-from-file"
    assert "s3cret" not in repr(credentials)


def test_a_missing_secret_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETAWATCH_PORTAL_PASSWORD_FILE", str(tmp_path / "nope"))
    with pytest.raises(ValueError, match="portal_password_file: cannot read"):
        ScraperSettings()


def test_production_refuses_the_default_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETAWATCH_ENVIRONMENT", "production")
    monkeypatch.setenv("ETAWATCH_AMQP_URL", "amqp://u:p@rabbit:5672/")
    with pytest.raises(ValueError, match="ETAWATCH_PORTAL_PASSWORD"):
        ScraperSettings()


@pytest.mark.parametrize(
    "url", ["http://[::1", "http://gateway:port", "https://", "http://ops:pw@gateway:9091"]
)
def test_a_pushgateway_url_that_cannot_be_pushed_to_is_refused_at_start(url: str) -> None:
    """Not after the run: a URL that urllib cannot open (or one with a user and password, which
    the push does not send) would end a complete run with a traceback or a silent warning."""
    with pytest.raises(ValueError, match="pushgateway_url") as error:
        ScraperSettings(pushgateway_url=url)
    assert "pw" not in str(error.value)


@pytest.mark.parametrize("url", ["http://pushgateway:9091", "https://gw.example", "gw:9091"])
def test_a_pushgateway_url_is_kept_as_given(url: str) -> None:
    assert ScraperSettings(pushgateway_url=url).pushgateway_url == url


def test_credentials_repr_hides_the_password() -> None:
    assert "hunter22" not in repr(Credentials("shop", SecretStr("hunter22")))


runner = CliRunner()


def test_once_with_a_bad_profile_exits_2_and_says_why(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\npassword = "hunter22"\n', encoding="utf-8")
    result = runner.invoke(app, ["once", "--profile", str(bad)])
    assert result.exit_code == 2
    assert "credentials never go in a profile" in result.output
    assert "hunter22" not in result.output


def test_schedule_refuses_a_bad_interval() -> None:
    result = runner.invoke(app, ["schedule", "--profile", "simulated-server", "--every", "soon"])
    assert result.exit_code == 2
    assert "not a duration" in result.output


def test_profiles_and_check_profile() -> None:
    listed = runner.invoke(app, ["profiles"])
    assert listed.exit_code == 0
    assert "simulated-csv\texport" in listed.output
    assert "simulated-xlsx\texport" in listed.output
    checked = runner.invoke(app, ["check-profile", "--profile", "simulated-script"])
    assert checked.exit_code == 0
    assert "column availability: Dostupnost" in checked.output
    xlsx = runner.invoke(app, ["check-profile", "--profile", "simulated-xlsx"])
    assert xlsx.exit_code == 0
    assert "export: xlsx from /export.xlsx" in xlsx.output
