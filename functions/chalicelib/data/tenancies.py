"""Tenancies over time: a unit's history, the move-in that opens one and the move-out
plan that closes it. Every write that changes who occupies a unit is conditional, so
a double submit or a concurrent move cannot leave two tenancies on one unit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from . import keys
from .conditions import conditional_check_failed
from .errors import ConditionFailedError
from .models import Account, Membership, Tenancy, Unit

MAX_TENANCIES_READ = 50


def _ref(tenancy: Tenancy) -> Tenancy:
    return Tenancy(keys.company_pk(str(tenancy.company_id)), keys.tenancy_sk(tenancy.tenancy_id))


class TenancyStore:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def of_unit(
        self, company_id: str, unit_id: str, limit: int = MAX_TENANCIES_READ
    ) -> list[Tenancy]:
        """The unit's tenancies, newest start first (gsi1 ``CO#<co>#UNIT#<u>``)."""
        return [
            t
            for t in Tenancy.gsi1.query(
                keys.tenancies_of_unit_gsi1pk(company_id, unit_id),
                scan_index_forward=False,
                limit=min(limit, MAX_TENANCIES_READ),
            )
            if isinstance(t, Tenancy)
        ]

    def latest_of_unit(self, company_id: str, unit_id: str) -> Tenancy | None:
        found = self.of_unit(company_id, unit_id, limit=1)
        return found[0] if found else None

    def open(
        self,
        company_id: str,
        unit_id: str,
        tenancy: Tenancy,
        account: Account,
        membership: Membership | None,
    ) -> None:
        """Tenancy, account (and a first membership) and the unit's pointers, all or
        nothing: ConditionFailedError if the tenancy or account exists or the unit is
        occupied (or gone)."""
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.save(tenancy, condition=Tenancy.pk.does_not_exist())
                tx.save(account, condition=Account.pk.does_not_exist())
                if membership is not None:
                    tx.save(membership)
                tx.update(
                    Unit(keys.company_pk(company_id), keys.unit_sk(unit_id)),
                    actions=[
                        Unit.tenancy_id.set(tenancy.tenancy_id),
                        Unit.account_id.set(tenancy.account_id),
                    ],
                    condition=Unit.pk.exists() & Unit.tenancy_id.does_not_exist(),
                )
        except TransactWriteError as exc:
            raise ConditionFailedError(f"move-in of unit {unit_id} refused: {exc}") from exc

    # --- the move-out plan, recorded on the tenancy before any money moves ---

    def record_move_out(self, tenancy: Tenancy, plan: dict[str, Any]) -> bool:
        """False if another plan was recorded first (or the tenancy already ended)."""
        try:
            _ref(tenancy).update(
                actions=[Tenancy.move_out.set(plan)],
                condition=Tenancy.move_out.does_not_exist() & Tenancy.ends_on.does_not_exist(),
            )
        except UpdateError as exc:
            if conditional_check_failed(exc):
                return False
            raise
        return True

    def drop_move_out(self, tenancy: Tenancy) -> None:
        _ref(tenancy).update(
            actions=[Tenancy.move_out.remove()], condition=Tenancy.ends_on.does_not_exist()
        )

    def advance_move_out(self, tenancy: Tenancy, plan: dict[str, Any]) -> None:
        _ref(tenancy).update(actions=[Tenancy.move_out.set(plan)])

    def close(
        self,
        company_id: str,
        tenancy: Tenancy,
        ends_on: str,
        closing_kwh: str,
        ends_at: datetime | None = None,
    ) -> None:
        """End the tenancy and let its unit go (unless an earlier attempt already did);
        ``ends_at``: the instant it ends, when the move-out recorded one."""
        actions: list[Any] = [Tenancy.ends_on.set(ends_on), Tenancy.closing_kwh.set(closing_kwh)]
        if ends_at is not None:
            actions.append(Tenancy.ends_at.set(ends_at))
        _ref(tenancy).update(actions=actions)
        try:
            Unit(keys.company_pk(company_id), keys.unit_sk(tenancy.unit_id)).update(
                actions=[Unit.tenancy_id.remove(), Unit.account_id.remove()],
                condition=Unit.tenancy_id == tenancy.tenancy_id,
            )
        except UpdateError as exc:
            if not conditional_check_failed(exc):
                raise
