"""The simulated supplier portal: the public API for tests and the all-in-one demo.

from etawatch.demo.portal import PortalConfig, PortalServer, RenderMode

with PortalServer(PortalConfig(items=500, seed=7)) as portal:
    portal.url                       # "http://127.0.0.1:PORT"
    portal.scenario.advance(days=3)  # deterministic from the seed
    portal.ground_truth()            # every change made, with its kind
    portal.faults.set(maintenance=True)
"""

from etawatch.demo.bootstrap import Portal, build_portal
from etawatch.demo.config import PortalConfig, RenderMode
from etawatch.demo.domain.columns import HEADERS, Column
from etawatch.demo.domain.faults import Faults, FaultSwitches
from etawatch.demo.domain.ground_truth import ChangeKind, GroundTruthChange, net_changes
from etawatch.demo.domain.items import PortalItem
from etawatch.demo.domain.scenario import Scenario
from etawatch.demo.domain.wording import AVAILABILITY_WORDS, WORD_AVAILABILITY
from etawatch.demo.entrypoints.web import create_app
from etawatch.demo.server import PortalServer

__all__ = [
    "AVAILABILITY_WORDS",
    "HEADERS",
    "WORD_AVAILABILITY",
    "ChangeKind",
    "Column",
    "FaultSwitches",
    "Faults",
    "GroundTruthChange",
    "Portal",
    "PortalConfig",
    "PortalItem",
    "PortalServer",
    "RenderMode",
    "Scenario",
    "build_portal",
    "create_app",
    "net_changes",
]
