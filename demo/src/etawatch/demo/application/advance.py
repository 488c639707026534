"""Moving the scenario clock on from the admin endpoint, logged."""

from etawatch.demo.bootstrap import Portal
from etawatch.demo.domain.ground_truth import GroundTruthChange
from etawatch.runtime.log import get_logger

log = get_logger(__name__)


def advance_scenario(portal: Portal, days: int) -> list[GroundTruthChange]:
    changes = portal.scenario.advance(days)
    log.info(
        "portal.advanced",
        days=days,
        today=portal.scenario.today.isoformat(),
        changes=len(changes),
        real=sum(c.is_real for c in changes),
    )
    return changes
