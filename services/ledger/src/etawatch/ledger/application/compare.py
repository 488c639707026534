"""Comparing one complete scrape run (one partition of it) with the items the ledger knows."""

import datetime as dt
import uuid
from dataclasses import dataclass

from etawatch.contracts.ids import item_id, observation_id
from etawatch.contracts.messages import ScrapeRunCompleted
from etawatch.ledger.application.staging import StagedRun
from etawatch.ledger.application.work import Work
from etawatch.ledger.domain import rules
from etawatch.ledger.domain.item import AvailabilityChanged, Returned, SupplierItem, WentMissing
from etawatch.ledger.domain.order import line_key
from etawatch.ledger.domain.runs import RunCompared
from etawatch.ledger.domain.state import EtaKey, ItemState, Row, eta_dict


@dataclass(frozen=True)
class RunRules:
    missing_after_runs: int
    degraded_after_failures: int


def compare_run(
    work: Work,
    completed: ScrapeRunCompleted,
    staged: StagedRun,
    partition: int,
    *,
    rules_: RunRules,
    limit: int,
) -> bool:
    """Record what the run changed, what went missing, and that the run was compared.

    Stops early, returning False, once ``limit`` events are planned: that part is saved, and
    the comparison is planned again (what was saved is then no longer a change).
    """
    supplier, run_id = completed.supplier, completed.run_id
    group = work.index.groups.get((supplier, partition), {})
    for row in staged.rows.values():
        known = group.get(row.sku)
        if known is not None:
            if rules.is_late(known, row):
                continue
            if not known.missing and not rules.compare(known, row).changed:
                continue  # the common case: decided without a copy or an id
        if len(work.events) >= limit:
            return False
        iid = item_id(supplier, row.sku)
        obs_id = observation_id(run_id, supplier, row.sku)
        state = work.item(iid)
        if state is None:
            work.first_seen(
                iid,
                supplier=supplier,
                sku=row.sku,
                name=row.name,
                availability=row.availability,
                availability_raw=row.availability_raw,
                eta=eta_dict(row.eta),
                observed_at=row.observed_datetime,
                run_id=run_id,
                observation_id=obs_id,
            )
            continue
        _observe_known(work, iid, state, row, run_id=run_id, obs_id=obs_id)

    unseen: list[str] = []
    for known in group.values():
        if known.sku in staged.rows:
            continue
        unseen.append(known.sku)
        if rules.missing_now(known, known.unseen_runs + 1, rules_.missing_after_runs):
            iid = item_id(supplier, known.sku)
            state = work.item(iid)
            if state is None:  # pragma: no cover - the index holds it
                continue
            work.record_item(
                iid,
                state,
                WentMissing,
                supplier=supplier,
                sku=known.sku,
                item_name=known.name,
                run_id=run_id,
                complete_runs_without=known.unseen_runs + 1,
                last_seen_at=_datetime(known.observed_at),
            )
    log = work.run_log(supplier, partition)
    work.record_run(
        log,
        RunCompared,
        run_id=run_id,
        started_at=completed.started_at,
        finished_at=completed.finished_at,
        observations=len(staged.rows),
        unseen=sorted(unseen),
    )
    return True


def _observe_known(
    work: Work, iid: uuid.UUID, state: ItemState, row: Row, *, run_id: uuid.UUID, obs_id: uuid.UUID
) -> None:
    if state.missing:
        work.record_item(
            iid,
            state,
            Returned,
            supplier=state.supplier,
            sku=state.sku,
            item_name=row.name,
            run_id=run_id,
            returned_at=row.observed_datetime,
            availability=row.availability,
            availability_raw=row.availability_raw,
            eta=eta_dict(row.eta),
        )
    change = rules.compare(state, row)
    if not change.changed:
        return
    previous_availability, previous_eta = state.availability, state.eta
    if change.eta is not None:
        work.record_item(
            iid,
            state,
            SupplierItem.EtaChanged,
            previous_eta=eta_dict(previous_eta),
            eta=eta_dict(row.eta),
            shift=change.eta.shift.value,
            shift_days=change.eta.days,
            observed_at=row.observed_datetime,
            run_id=run_id,
            observation_id=obs_id,
        )
    if change.availability:
        work.record_item(
            iid,
            state,
            AvailabilityChanged,
            previous_availability=previous_availability,
            availability=row.availability,
            availability_raw=row.availability_raw,
            observed_at=row.observed_datetime,
            run_id=run_id,
            observation_id=obs_id,
        )
    _tell_open_orders(
        work,
        iid,
        row,
        previous_availability=previous_availability,
        previous_eta=previous_eta,
        change=change,
        run_id=run_id,
        obs_id=obs_id,
    )


def _tell_open_orders(
    work: Work,
    iid: uuid.UUID,
    row: Row,
    *,
    previous_availability: str,
    previous_eta: EtaKey,
    change: rules.ItemChange,
    run_id: uuid.UUID,
    obs_id: uuid.UUID,
) -> None:
    """Each open order line holding the item records the change (one ETAChanged each)."""
    order_ids = work.index.open_orders_by_item.get(iid)
    if not order_ids:
        return
    state = work.items[iid]
    kind = rules.change_kind(row.availability, change)
    shift_days = change.eta.days if change.eta is not None else _same_eta_days(previous_eta)
    for oid in sorted(order_ids):
        order = work.order(oid)
        if order is None or not order.is_open:
            continue
        line = order.lines.get(line_key(state.supplier, state.sku))
        if line is None:
            continue
        order.record_item_change(
            shop_order_id=order.shop_order_id,
            customer_id=order.customer_id,
            email=order.email,
            customer_name=order.customer_name,
            locale=order.locale,
            supplier=state.supplier,
            sku=state.sku,
            item_name=row.name,
            quantity=line["quantity"],
            previous_availability=previous_availability,
            new_availability=row.availability,
            previous_eta=eta_dict(previous_eta),
            new_eta=eta_dict(row.eta),
            change_kind=kind.value,
            shift_days=shift_days,
            observation_id=obs_id,
            run_id=run_id,
            observed_at=row.observed_datetime,
        )


def _same_eta_days(eta: EtaKey) -> int | None:
    """The ETA did not move: 0 days if it is known, nothing to say if it is not."""
    return 0 if eta[3] != "unknown" else None


def _datetime(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC)
