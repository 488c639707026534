"""Folding the ground truth into what a reader who looked earlier sees changed now."""

import datetime as dt

from etawatch.contracts.availability import Availability
from etawatch.contracts.eta import Shift
from etawatch.demo.domain.ground_truth import (
    ChangeKind,
    FieldName,
    GroundTruthChange,
    classify_eta,
    net_changes,
)

D1, D2, D3 = dt.date(2026, 12, 2), dt.date(2026, 12, 3), dt.date(2026, 12, 4)


def change(
    at: dt.date, sku: str, field: FieldName, before: str | None, after: str | None
) -> GroundTruthChange:
    if field == "item":
        kind = ChangeKind.APPEARED if before is None else ChangeKind.VANISHED
        shift = None
    elif field == "eta":
        kind, shift = classify_eta(before or "", after or "", at)
    else:
        kind, shift = ChangeKind.AVAILABILITY, None
    return GroundTruthChange(
        at=at, sku=sku, field=field, before=before, after=after, kind=kind, shift=shift
    )


def test_rewording_is_not_a_change_and_a_new_window_is() -> None:
    assert classify_eta("03/2027", "březen 2027", D1) == (ChangeKind.REWORDED, None)
    assert classify_eta("15. 3. 2027", "2027-03-15", D1) == (ChangeKind.REWORDED, None)
    assert classify_eta("TBA", "", D1) == (ChangeKind.REWORDED, None)
    assert classify_eta("Q1 2027", "Q2 2027", D1) == (ChangeKind.ETA, Shift.LATER)
    assert classify_eta("03/2027", "15. 3. 2027", D1) == (ChangeKind.ETA, Shift.REFINED)
    assert classify_eta("TBA", "Q2 2027", D1) == (ChangeKind.ETA, Shift.BECAME_KNOWN)


def test_a_flap_back_and_forth_is_no_net_change() -> None:
    log = [
        change(D1, "FK-1", "availability", "Skladem", "Vyprodáno"),
        change(D2, "FK-1", "availability", "Vyprodáno", "Skladem"),
        change(D1, "FK-2", "eta", "03/2027", "04/2027"),
        change(D2, "FK-2", "eta", "04/2027", "březen 2027"),
    ]
    assert net_changes(log) == []
    assert [c.sku for c in net_changes(log, since=D1)] == ["FK-1", "FK-2"]


def test_several_moves_fold_into_one_from_the_first_before_to_the_last_after() -> None:
    log = [
        change(D1, "FK-1", "eta", "Q1 2027", "Q2 2027"),
        change(D2, "FK-1", "eta", "Q2 2027", "2. čtvrtletí 2027"),
        change(D3, "FK-1", "eta", "2. čtvrtletí 2027", "Q3 2027"),
        change(D3, "FK-1", "availability", "Předobjednávka", "Zpožděno"),
    ]
    eta, availability = net_changes(log)[1], net_changes(log)[0]
    assert (eta.before, eta.after, eta.kind, eta.shift, eta.at) == (
        "Q1 2027",
        "Q3 2027",
        ChangeKind.ETA,
        Shift.LATER,
        D3,
    )
    assert availability.before_availability is Availability.PRE_ORDER
    assert availability.after_availability is Availability.DELAYED
    only_rewording = net_changes([change(D2, "FK-1", "eta", "Q2 2027", "2. čtvrtletí 2027")])
    assert only_rewording == []


def test_new_rows_are_a_baseline_and_vanished_rows_one_entry() -> None:
    log = [
        change(D1, "FK-9", "item", None, "figma Link"),
        change(D2, "FK-9", "eta", "Q1 2027", "Q2 2027"),
        change(D1, "FK-3", "eta", "Q1 2027", "Q2 2027"),
        change(D2, "FK-3", "item", "Nendoroid Rem", None),
        change(D1, "FK-7", "item", None, "Q posket Nami"),
        change(D2, "FK-7", "item", "Q posket Nami", None),
    ]
    net = net_changes(log)
    assert [(c.sku, c.kind) for c in net] == [
        ("FK-3", ChangeKind.VANISHED),
        ("FK-9", ChangeKind.APPEARED),
    ]
    assert not any(c.is_real for c in net)


def test_texts_read_back_as_windows_and_states() -> None:
    entry = change(D1, "FK-1", "eta", "03/2027", "Q2 2027")
    assert entry.before_eta is not None and entry.before_eta.latest == dt.date(2027, 3, 31)
    assert entry.after_eta is not None and entry.after_eta.earliest == dt.date(2027, 4, 1)
    assert entry.before_availability is None
    odd = change(D1, "FK-1", "availability", "Skladem", "Na dotaz")
    assert odd.after_availability is Availability.UNKNOWN
