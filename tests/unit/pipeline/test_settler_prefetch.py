"""Settler.begin: a bus's first message reads the accounts its states lack in one batch,
each taken once, an unreadable record left to its own meter, a lone one read alone."""

from __future__ import annotations

from typing import Any
from unittest import mock

from chalicelib.data.control_state import MeterControlState
from chalicelib.data.errors import InvalidControlStateError
from chalicelib.pipeline.settler import Settler


def _meter(account_id: str) -> Any:
    tenancy = mock.Mock(starts_on="2026-11-01", opening_kwh="100.000")
    return mock.Mock(prepaid=True, account_id=account_id, tenancy=tenancy)


def _account(balance: int) -> Any:
    return mock.Mock(balance_minor=balance, closed_at=None, settled_at=None)


class Known(dict[str, MeterControlState]):
    """States as read: m3's record is unreadable (raises when decoded)."""

    def get(self, meter_id: str, default: Any = None) -> Any:
        if meter_id == "m3":
            raise InvalidControlStateError("m3: unreadable")
        return super().get(meter_id, default)


def _bus(meters: dict[str, Any]) -> Any:
    return mock.Mock(company_id="co", tz="Asia/Taipei", meters=meters)


def test_the_accounts_a_first_message_lacks_are_read_once_in_one_batch() -> None:
    # GIVEN a bus whose states hold no cursor (m3's record unreadable)
    bus = _bus({"m1": _meter("a1"), "m2": _meter("a2"), "m3": _meter("a3")})
    ledger, settlements = mock.Mock(), mock.Mock()
    settlements.accounts.return_value = {"a1": _account(100), "a2": _account(200)}
    ledger.get_account.return_value = _account(90)
    settler = Settler(ledger, settlements, 6)
    settler.begin(bus, Known())
    # WHEN the message's meters need their cursors
    one = settler.ensure_cursor(bus, bus.meters["m1"], MeterControlState())
    two = settler.ensure_cursor(bus, bus.meters["m2"], MeterControlState())
    # THEN both came from one batch of the readable states' accounts, no read alone
    settlements.accounts.assert_called_once_with("co", ["a1", "a2"])
    ledger.get_account.assert_not_called()
    assert (one.account_id, one.balance_minor, two.balance_minor) == ("a1", 100, 200)
    # AND a later reload (a moved cursor) reads the account again: a batch is used once
    settler.ensure_cursor(bus, bus.meters["m1"], MeterControlState())
    ledger.get_account.assert_called_once_with("co", "a1")


def test_a_lone_account_is_read_alone_and_no_begin_reads_no_batch() -> None:
    bus = _bus({"m1": _meter("a1"), "m2": _meter("a2")})
    ledger, settlements = mock.Mock(), mock.Mock()
    ledger.get_account.return_value = _account(7)
    settler = Settler(ledger, settlements, 6)
    # GIVEN only m1's state lacks its account's cursor (m2's is its account's)
    settler.begin(bus, {"m2": mock.Mock(account_id="a2", has_cursor=True)})
    assert settler.ensure_cursor(bus, bus.meters["m1"], MeterControlState()).balance_minor == 7
    # THEN it is read alone (no batch of one)
    settlements.accounts.assert_not_called()
    # AND a message planned without begin reads alone too
    Settler(ledger, settlements, 6).ensure_cursor(bus, bus.meters["m2"], MeterControlState())
    settlements.accounts.assert_not_called()
    assert ledger.get_account.call_count == 2
