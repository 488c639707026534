"""Plain values stored inside events: ETAs as JSON objects, stable ids of ledger things."""

import uuid
from typing import Any

from etawatch.contracts.eta import ETA
from etawatch.contracts.ids import NAMESPACE

EtaDict = dict[str, Any]
"""An ``ETA`` as stored in an event: ``{"raw", "earliest", "latest", "precision"}`` (ISO dates)."""


def eta_to_dict(eta: ETA) -> EtaDict:
    return eta.model_dump(mode="json")


def eta_from_dict(data: EtaDict) -> ETA:
    return ETA.model_validate(data)


def supplier_health_id(supplier: str) -> uuid.UUID:
    """Identity of the ``SupplierHealth`` aggregate of one supplier."""
    return uuid.uuid5(NAMESPACE, f"ledger-supplier-health\x1f{supplier}")


def run_log_id(supplier: str, partition: int, partitions: int) -> uuid.UUID:
    """Identity of the ``RunLog`` aggregate of one supplier's observation partition."""
    return uuid.uuid5(NAMESPACE, f"ledger-run-log\x1f{supplier}\x1f{partition}/{partitions}")


def stored_event_id(originator_id: uuid.UUID | str, originator_version: int) -> uuid.UUID:
    """The message id the relay gives a stored event: the same event always gets the same id."""
    return uuid.uuid5(NAMESPACE, f"ledger-event\x1f{originator_id}\x1f{originator_version}")
