"""The one place that puts a portal together: its scenario, switches, sessions and login lock."""

import time
from dataclasses import dataclass

from etawatch.demo.application.metrics import PortalMetrics
from etawatch.demo.application.sessions import Clock, LoginGuard, SessionStore
from etawatch.demo.config import PortalConfig
from etawatch.demo.domain.faults import Faults
from etawatch.demo.domain.scenario import Scenario


@dataclass(frozen=True)
class Portal:
    """Everything a running portal holds, with or without a web server in front of it."""

    config: PortalConfig
    scenario: Scenario
    faults: Faults
    sessions: SessionStore
    guard: LoginGuard
    metrics: PortalMetrics


def build_portal(config: PortalConfig, clock: Clock = time.monotonic) -> Portal:
    """A portal from its configuration; ``clock`` (seconds, monotonic) drives idle expiry and
    the login lock, so tests may pass a fake one."""
    scenario = Scenario(config.items, config.seed, config.start_date)
    return Portal(
        config=config,
        scenario=scenario,
        faults=Faults(),
        sessions=SessionStore(config.session_idle_seconds, clock),
        guard=LoginGuard(config.lockout_attempts, config.lockout_seconds, clock),
        metrics=PortalMetrics(scenario),
    )
