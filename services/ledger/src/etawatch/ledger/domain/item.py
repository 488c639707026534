"""A supplier item: what the supplier's table said about one SKU, change by change."""

# ruff: noqa: ARG002, PLR0917 - an @event method's parameters are its event's fields

import datetime as dt
import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

from etawatch.contracts.ids import item_id
from etawatch.ledger.domain.values import EtaDict


class SupplierItem(Aggregate):
    """One row of one supplier's table over time. Its id is ``ids.item_id(supplier, sku)``."""

    class FirstSeen(Aggregate.Created):
        """The first sighting: a baseline, never a change to tell anyone about."""

        supplier: str
        sku: str
        name: str
        availability: str
        availability_raw: str
        eta: EtaDict
        observed_at: dt.datetime
        run_id: uuid.UUID
        observation_id: uuid.UUID

    class EtaChanged(Aggregate.Event):
        """The ETA window moved (a new wording of the same window is not a change).

        Version 2 added ``shift`` and ``shift_days``; version 1 events read as ``shift=None``.
        """

        class_version = 2

        previous_eta: EtaDict
        eta: EtaDict
        shift: str | None
        shift_days: int | None
        observed_at: dt.datetime
        run_id: uuid.UUID
        observation_id: uuid.UUID

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["shift"] = None
            state["shift_days"] = None

    @staticmethod
    def create_id(supplier: str, sku: str, **_: Any) -> uuid.UUID:
        return item_id(supplier, sku)

    @event(FirstSeen)
    def __init__(
        self,
        supplier: str,
        sku: str,
        name: str,
        availability: str,
        availability_raw: str,
        eta: EtaDict,
        observed_at: dt.datetime,
        run_id: uuid.UUID,
        observation_id: uuid.UUID,
    ) -> None:
        self.supplier = supplier
        self.sku = sku
        self.name = name
        self.availability = availability
        self.availability_raw = availability_raw
        self.eta = eta
        self.last_observed_at = observed_at
        self.missing = False

    @event(EtaChanged)
    def change_eta(
        self,
        previous_eta: EtaDict,
        eta: EtaDict,
        shift: str | None,
        shift_days: int | None,
        observed_at: dt.datetime,
        run_id: uuid.UUID,
        observation_id: uuid.UUID,
    ) -> None:
        self.eta = eta
        self.last_observed_at = observed_at

    @event("AvailabilityChanged")
    def change_availability(
        self,
        previous_availability: str,
        availability: str,
        availability_raw: str,
        observed_at: dt.datetime,
        run_id: uuid.UUID,
        observation_id: uuid.UUID,
    ) -> None:
        self.availability = availability
        self.availability_raw = availability_raw
        self.last_observed_at = observed_at

    @event("WentMissing")
    def go_missing(
        self,
        supplier: str,
        sku: str,
        item_name: str,
        run_id: uuid.UUID,
        complete_runs_without: int,
        last_seen_at: dt.datetime,
    ) -> None:
        self.missing = True

    @event("Returned")
    def come_back(
        self,
        supplier: str,
        sku: str,
        item_name: str,
        run_id: uuid.UUID,
        returned_at: dt.datetime,
        availability: str,
        availability_raw: str,
        eta: EtaDict,
    ) -> None:
        self.missing = False
        self.last_observed_at = returned_at


# The event classes the @event decorator made, named for type checkers and readers.
AvailabilityChanged: type[Any] = vars(SupplierItem)["AvailabilityChanged"]
WentMissing: type[Any] = vars(SupplierItem)["WentMissing"]
Returned: type[Any] = vars(SupplierItem)["Returned"]
