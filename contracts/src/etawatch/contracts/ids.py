"""Deterministic identifiers: the same fact always gets the same id, so consumers deduplicate."""

import uuid
from collections.abc import Iterable

NAMESPACE = uuid.UUID("6f1d3c52-8a8e-4f57-9d3e-3b7f0e0c2a41")


def _derive(*parts: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "\x1f".join(parts))


def item_id(supplier: str, sku: str) -> uuid.UUID:
    """Identity of a supplier item (the ledger's aggregate id)."""
    return _derive("item", supplier, sku)


def order_id(shop_order_id: str) -> uuid.UUID:
    """Identity of a shop order (the ledger's aggregate id)."""
    return _derive("order", shop_order_id)


def observation_id(run_id: uuid.UUID, supplier: str, sku: str) -> uuid.UUID:
    """One row of one scrape run: redelivery or a re-publish carries the same id."""
    return _derive("observation", str(run_id), supplier, sku)


def run_event_id(run_id: uuid.UUID, kind: str) -> uuid.UUID:
    """``ScrapeRunStarted``/``Completed``/``Failed`` of one run."""
    return _derive("run", str(run_id), kind)


def order_command_id(shop_order_id: str, command: str) -> uuid.UUID:
    """``OrderPlaced`` or ``OrderClosed`` for one shop order: sending it twice is one command."""
    return _derive("order-command", shop_order_id, command)


def notification_id(change_ids: Iterable[str]) -> uuid.UUID:
    """One notification covers a set of changes; the same set is the same notification."""
    return _derive("notification", *sorted(set(change_ids)))
