"""``/admin``: move the scenario clock, read the ground truth, flip the fault switches.

Every route needs ``Authorization: Bearer <admin_token>``; without it the answer is 401.
"""

import datetime as dt
import hmac
import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from etawatch.demo.application.advance import advance_scenario
from etawatch.demo.domain.faults import FaultSwitches
from etawatch.demo.domain.ground_truth import GroundTruthChange
from etawatch.demo.domain.items import PortalItem
from etawatch.demo.entrypoints.deps import PortalDep
from etawatch.runtime.log import get_logger


def require_admin(request: Request, portal: PortalDep) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    expected = portal.config.admin_token.get_secret_value()
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(
            status_code=401,
            detail="admin token required: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )


router = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])
log = get_logger(__name__)


class AdvanceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(1, ge=0, le=3650, description="Days to move the scenario clock on.")


class ItemView(BaseModel):
    sku: str
    name: str
    manufacturer: str
    availability: str
    availability_text: str
    eta_text: str
    eta_earliest: dt.date | None
    eta_latest: dt.date | None
    eta_precision: str
    allocated: int
    as_of: dt.date

    @classmethod
    def of(cls, item: PortalItem) -> "ItemView":
        eta = item.eta
        return cls(
            sku=item.sku,
            name=item.name,
            manufacturer=item.manufacturer,
            availability=item.availability.value,
            availability_text=item.availability_text,
            eta_text=item.eta_text,
            eta_earliest=eta.earliest,
            eta_latest=eta.latest,
            eta_precision=eta.precision.value,
            allocated=item.allocated,
            as_of=item.as_of,
        )


class ScenarioView(BaseModel):
    today: dt.date
    day: int
    items: int
    changes: int


@router.post("/advance")
async def advance(request: AdvanceRequest, portal: PortalDep) -> list[GroundTruthChange]:
    """Move the scenario on; answers the changes made."""
    return advance_scenario(portal, request.days)


@router.get("/ground-truth")
async def ground_truth(
    portal: PortalDep, since: dt.date | None = None, sku: str | None = None
) -> list[GroundTruthChange]:
    """Every change so far (after ``since``, of ``sku`` when given), oldest first."""
    changes = portal.scenario.ground_truth(since)
    return changes if sku is None else [c for c in changes if c.sku == sku]


@router.get("/scenario")
async def scenario(portal: PortalDep) -> ScenarioView:
    return ScenarioView(
        today=portal.scenario.today,
        day=portal.scenario.day,
        items=portal.scenario.count(),
        changes=len(portal.scenario.ground_truth()),
    )


@router.get("/items/{sku}")
async def item(sku: str, portal: PortalDep) -> ItemView:
    """One item's state now, as the portal shows it without faults."""
    found = portal.scenario.item(sku)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no item {sku!r} in the portal now")
    return ItemView.of(found)


@router.get("/faults")
async def get_faults(portal: PortalDep) -> FaultSwitches:
    return portal.faults.current


@router.put("/faults")
async def put_faults(
    switches: Annotated[dict[str, Any], Body(description="Any of the fault switches.")],
    portal: PortalDep,
) -> FaultSwitches:
    """Set the switches given; the others keep their state. Invalid ones change nothing."""
    try:
        current = portal.faults.set(**switches)
    except ValidationError as exc:
        raise HTTPException(
            status_code=422, detail=json.loads(exc.json(include_url=False))
        ) from exc
    log.info("portal.faults_set", switches=sorted(switches))
    return current


@router.delete("/faults")
async def clear_faults(portal: PortalDep) -> FaultSwitches:
    log.info("portal.faults_cleared")
    return portal.faults.clear()
