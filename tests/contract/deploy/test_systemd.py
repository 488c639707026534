"""The systemd units: hardened, verified by systemd itself, and in step with the services."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from etawatch_testing.deploy import (
    LONG_RUNNING,
    ROOT,
    SERVICES,
    Service,
    check_arguments,
    env_name,
    env_names,
    load_settings,
    required_in_production,
    secret_env_names,
    settings_class,
    until_built,
)

SYSTEMD = ROOT / "deploy" / "systemd"
INSTALLED_BIN = "/opt/etawatch/bin/"
Unit = dict[str, list[tuple[str, str]]]


def parse_unit(text: str) -> Unit:
    """Sections -> (key, value) in order; a key may repeat, as systemd allows."""
    unit: Unit = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            unit.setdefault(section, [])
            continue
        key, _, value = line.partition("=")
        unit[section].append((key.strip(), value.strip()))
    return unit


def values(unit: Unit, section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def unit_file(service: Service) -> Path:
    suffix = "@.service" if service.name == "scraper" else ".service"
    return SYSTEMD / f"etawatch-{service.name}{suffix}"


def unit_of(service: Service) -> Unit:
    return parse_unit(unit_file(service).read_text(encoding="utf-8"))


def read_env_file(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def service_env(service: Service) -> dict[str, str]:
    """What the unit's EnvironmentFile= examples and Environment= lines give the service."""
    unit = unit_of(service)
    env: dict[str, str] = {}
    for path in values(unit, "Service", "EnvironmentFile"):
        name = Path(path.lstrip("-")).name.replace("%i", "PROFILE")
        example = SYSTEMD / "env" / name
        assert example.is_file(), f"no example for {path} in {SYSTEMD / 'env'}"
        env |= read_env_file(example)
    for assignment in values(unit, "Service", "Environment"):
        key, _, value = assignment.partition("=")
        env[key] = value
    return env


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_unit_is_hardened(service: Service) -> None:
    unit = unit_of(service)

    def one(key: str) -> str:
        (value,) = values(unit, "Service", key)
        return value

    assert one("User") == "etawatch" and one("Group") == "etawatch"
    assert one("NoNewPrivileges") == "yes"
    assert one("ProtectSystem") == "strict"
    assert one("ProtectHome") == "yes"
    assert one("PrivateTmp") == "yes"
    assert one("CapabilityBoundingSet") == ""
    state = one("StateDirectory")
    assert one("ReadWritePaths") == f"/var/lib/{state}", "writes only to its state directory"
    assert values(unit, "Service", "EnvironmentFile"), "configuration comes from a file"
    if service.name == "scraper":
        assert one("Type") == "oneshot" and one("TimeoutStartSec")
    else:
        assert one("Restart") == "on-failure" and one("RestartSec")
        assert values(unit, "Install", "WantedBy") == ["multi-user.target"]


def test_scraper_timer_starts_its_service_regularly() -> None:
    timer = parse_unit((SYSTEMD / "etawatch-scraper@.timer").read_text(encoding="utf-8"))
    assert values(timer, "Timer", "OnCalendar")
    assert values(timer, "Timer", "Persistent") == ["true"]
    assert values(timer, "Install", "WantedBy") == ["timers.target"]
    assert values(timer, "Timer", "Unit") in ([], ["etawatch-scraper@%i.service"])


@pytest.mark.parametrize(
    "service",
    [pytest.param(s, id=s.name, marks=until_built(s, strict=False)) for s in SERVICES],
)
def test_environment_files_name_only_settings_and_all_that_production_needs(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_class(service)
    env = service_env(service)
    etawatch = {k for k in env if k.startswith("ETAWATCH_")}
    assert etawatch <= set(env_names(settings)), (
        f"not settings: {etawatch - set(env_names(settings))}"
    )
    missing = required_in_production(settings) - set(env)
    assert not missing, f"{service.name} needs {sorted(missing)}"
    for name in secret_env_names(settings) & set(env):
        assert "CHANGE-ME" in env[name], f"{name}: only a placeholder belongs in git"
    loaded = load_settings(settings, {k: v for k, v in env.items() if k in etawatch}, monkeypatch)
    assert loaded.environment == "production"


def test_the_notifier_has_an_operator_to_alert() -> None:
    """As in Kubernetes: scrape health alerts go to an address, not only to a counter."""
    notifier = next(s for s in SERVICES if s.name == "notifier")
    name = env_name(settings_class(notifier), "operator_email")
    assert service_env(notifier).get(name), f"{name} is not in the notifier's environment file"


def exec_start(service: Service) -> list[str]:
    (line,) = values(unit_of(service), "Service", "ExecStart")
    program, *args = line.split()
    assert program == INSTALLED_BIN + service.script
    return [a.replace("%i", "example") for a in args]


@pytest.mark.parametrize(
    "service",
    [pytest.param(s, id=s.name, marks=until_built(s, strict=True)) for s in SERVICES],
)
def test_exec_start_runs_a_real_subcommand(service: Service) -> None:
    check_arguments(service, exec_start(service))


# --- systemd's own checks -----------------------------------------------------------------------


def systemd_analyze() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        pytest.fail(
            "systemd-analyze is not on PATH: the units are checked with `systemd-analyze "
            "verify`. Install it: apt-get install systemd",
            pytrace=False,
        )
    return path


def staged_units(directory: Path, edit: str | None = None) -> list[Path]:
    """The units as installed, with the template instantiated as @example, and ExecStart
    pointing at stub programs (verify checks that the program exists)."""
    stubs = directory / "bin"
    stubs.mkdir()
    for service in SERVICES:
        stub = stubs / service.script
        stub.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
        stub.chmod(0o755)
    staged = []
    for source in sorted(SYSTEMD.glob("etawatch-*")):
        text = source.read_text(encoding="utf-8").replace(INSTALLED_BIN, f"{stubs}/")
        if edit is not None:
            text = re.sub(r"^ProtectSystem=", edit, text, flags=re.M)
        target = directory / source.name.replace("@.", "@example.")
        target.write_text(text, encoding="utf-8")
        staged.append(target)
    return staged


def verify(units: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [systemd_analyze(), "verify", "--man=no", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=units[0].parent,
    )


def test_systemd_analyze_verify_accepts_every_unit(tmp_path: Path) -> None:
    units = staged_units(tmp_path)
    assert len(units) == 5  # three services, the scraper's template service and timer
    result = verify(units)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_systemd_analyze_verify_catches_a_misspelt_directive(tmp_path: Path) -> None:
    result = verify(staged_units(tmp_path, edit="ProtectSystm="))
    assert "Unknown key 'ProtectSystm'" in result.stderr


@pytest.mark.parametrize(
    ("unit", "limit"),
    [(f"etawatch-{s.name}.service", 2.0) for s in LONG_RUNNING]
    + [("etawatch-scraper@example.service", 4.5)],
)
def test_exposure_level_is_low(tmp_path: Path, unit: str, limit: float) -> None:
    """systemd's own rating of the hardening (0 = locked down, 10 = fully exposed)."""
    staged_units(tmp_path)
    result = subprocess.run(
        [systemd_analyze(), "security", "--offline=yes", "--no-pager", str(tmp_path / unit)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout + result.stderr)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= limit


def test_sysusers_file_creates_the_units_user(tmp_path: Path) -> None:
    """systemd-sysusers accepts the file and creates the user every unit runs as."""
    sysusers = shutil.which("systemd-sysusers")
    if sysusers is None:
        pytest.fail("systemd-sysusers is not on PATH: apt-get install systemd", pytrace=False)
    (tmp_path / "etc").mkdir()
    for name in ("passwd", "group"):
        (tmp_path / "etc" / name).write_text("", encoding="utf-8")
    result = subprocess.run(
        [sysusers, f"--root={tmp_path}", "--dry-run", str(SYSTEMD / "etawatch.sysusers")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Creating user 'etawatch'" in result.stdout + result.stderr
