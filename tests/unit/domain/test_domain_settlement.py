from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from chalicelib.domain import (
    BillingPeriod,
    EntryKind,
    FinalCharge,
    Ledger,
    LedgerEntry,
    Money,
    Reading,
    SettlementError,
    TariffPosition,
    settle_move_out,
)
from tests.unit.domain.samples import flat_tariff, tou_tariff

D = Decimal
JULY = BillingPeriod(date(2026, 7, 1), date(2026, 8, 1))
OUT_AT = datetime(2026, 7, 20, 10, tzinfo=UTC)
LAST = Reading(datetime(2026, 7, 20, 9, tzinfo=UTC), D("1000"), "r-9")
FINAL = Reading(OUT_AT, D("1010"), "r-final")


def twd(minor):
    return Money(minor, "TWD")


def funded_ledger(minor=10000):
    ledger = Ledger()
    ledger.append(
        LedgerEntry(
            "topup-1", "acc-1", EntryKind.TOP_UP, twd(minor), datetime(2026, 7, 1, tzinfo=UTC)
        )
    )
    return ledger


def settle(ledger, **kw):
    args = dict(
        tenancy_id="ten-7",
        account_id="acc-1",
        account_entries=list(ledger.entries("acc-1")),
        position=TariffPosition(flat_tariff(), JULY, date(2026, 7, 20), D("50")),
        last_settled=LAST,
        final_reading=FINAL,
        moved_out_at=OUT_AT,
        disposition="refund",
    )
    args.update(kw)
    return settle_move_out(**args)


def test_refund_after_final_charges_leaves_zero_and_replay_is_a_no_op():
    # GIVEN 100.00 TWD credit, 10 kWh unsettled at 5.50 and a 20.00 cleaning charge
    ledger = funded_ledger()
    result = settle(ledger, final_charges=[FinalCharge("cleaning", twd(2000))])
    # THEN: consumption 55.00, fixed 20.00, refund of the 25.00 left
    assert [(e.entry_id, e.kind, e.amount.amount_minor) for e in result.entries] == [
        ("settle:ten-7:consumption", EntryKind.CONSUMPTION_CHARGE, -5500),
        ("settle:ten-7:fixed:cleaning", EntryKind.FIXED_CHARGE, -2000),
        ("settle:ten-7:refund", EntryKind.REFUND, -2500),
    ]
    assert result.entries[0].refs["final_reading"] == "r-final"
    for entry in result.entries:
        ledger.append(entry)
    assert ledger.balance("acc-1", "TWD") == twd(0)
    # WHEN the settlement runs again on the updated ledger THEN identical entries: no-op
    again = settle(ledger, final_charges=[FinalCharge("cleaning", twd(2000))])
    assert [ledger.append(e) for e in again.entries] == [False, False, False]
    assert ledger.balance("acc-1", "TWD") == twd(0)


def test_transfer_moves_the_credit_to_the_target_account():
    ledger = funded_ledger()
    result = settle(ledger, disposition="transfer", transfer_to_account_id="acc-2")
    for entry in result.entries:
        ledger.append(entry)
    assert ledger.balance("acc-1", "TWD") == twd(0)
    assert ledger.balance("acc-2", "TWD") == twd(4500)
    kinds = [(e.kind, e.account_id) for e in result.entries]
    assert kinds[1:] == [(EntryKind.TRANSFER_OUT, "acc-1"), (EntryKind.TRANSFER_IN, "acc-2")]


def test_debt_is_left_on_the_account_without_a_refund():
    ledger = funded_ledger(3000)
    result = settle(ledger)
    assert result.remaining == twd(-2500)
    assert [e.kind for e in result.entries] == [EntryKind.CONSUMPTION_CHARGE]


def test_backwards_final_reading_is_flagged_and_not_charged():
    result = settle(funded_ledger(), final_reading=Reading(OUT_AT, D("3"), "r-new-meter"))
    assert result.flags == {"backwards"}
    assert result.final_energy_kwh == 0
    assert [e.kind for e in result.entries] == [EntryKind.REFUND]
    assert result.entries[0].amount == twd(-10000)


def test_settlement_inputs_are_checked():
    ledger = funded_ledger()
    with pytest.raises(SettlementError):
        settle(ledger, disposition="transfer")
    with pytest.raises(SettlementError):
        settle(ledger, disposition="transfer", transfer_to_account_id="acc-1")
    with pytest.raises(SettlementError):
        settle(ledger, final_charges=[FinalCharge("x", twd(-1))])
    with pytest.raises(SettlementError):
        settle(ledger, position=TariffPosition(tou_tariff(), JULY, date(2026, 7, 20)))
    with pytest.raises(SettlementError):
        settle(ledger, account_id="acc-2")
