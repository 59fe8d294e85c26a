"""Tenancies over time: a unit's history, the move-in that opens one and the move-out
plan that closes it. Every write that changes who occupies a unit is conditional, so
a double submit or a concurrent move cannot leave two tenancies on one unit."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import keys
from .conditions import conditional_check_failed
from .errors import ConditionFailedError
from .lazy import lazy_module

if TYPE_CHECKING:
    from pynamodb import exceptions as pynamo_errors
    from pynamodb import transactions as pynamo_transactions
    from pynamodb.connection import Connection

    from . import models
else:  # loaded when first used: data/lazy.py
    models = lazy_module("chalicelib.data.models")
    pynamo_errors = lazy_module("pynamodb.exceptions")
    pynamo_transactions = lazy_module("pynamodb.transactions")

MAX_TENANCIES_READ = 50


def _ref(tenancy: models.Tenancy) -> models.Tenancy:
    return models.Tenancy(
        keys.company_pk(str(tenancy.company_id)), keys.tenancy_sk(tenancy.tenancy_id)
    )


class TenancyStore:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def of_unit(
        self, company_id: str, unit_id: str, limit: int = MAX_TENANCIES_READ
    ) -> list[models.Tenancy]:
        """The unit's tenancies, newest start first (gsi1 ``CO#<co>#UNIT#<u>``)."""
        return [
            t
            for t in models.Tenancy.gsi1.query(
                keys.tenancies_of_unit_gsi1pk(company_id, unit_id),
                scan_index_forward=False,
                limit=min(limit, MAX_TENANCIES_READ),
            )
            if isinstance(t, models.Tenancy)
        ]

    def latest_of_unit(self, company_id: str, unit_id: str) -> models.Tenancy | None:
        found = self.of_unit(company_id, unit_id, limit=1)
        return found[0] if found else None

    def open(
        self,
        company_id: str,
        unit_id: str,
        tenancy: models.Tenancy,
        account: models.Account,
        membership: models.Membership | None,
    ) -> None:
        """Tenancy, account (and a first membership) and the unit's pointers, all or
        nothing: ConditionFailedError if the tenancy or account exists or the unit is
        occupied (or gone)."""
        try:
            with pynamo_transactions.TransactWrite(connection=self._connection) as tx:
                tx.save(tenancy, condition=models.Tenancy.pk.does_not_exist())
                tx.save(account, condition=models.Account.pk.does_not_exist())
                if membership is not None:
                    tx.save(membership)
                tx.update(
                    models.Unit(keys.company_pk(company_id), keys.unit_sk(unit_id)),
                    actions=[
                        models.Unit.tenancy_id.set(tenancy.tenancy_id),
                        models.Unit.account_id.set(tenancy.account_id),
                    ],
                    condition=models.Unit.pk.exists() & models.Unit.tenancy_id.does_not_exist(),
                )
        except pynamo_errors.TransactWriteError as exc:
            raise ConditionFailedError(f"move-in of unit {unit_id} refused: {exc}") from exc

    # --- the move-out plan, recorded on the tenancy before any money moves ---

    def record_move_out(self, tenancy: models.Tenancy, plan: dict[str, Any]) -> bool:
        """False if another plan was recorded first (or the tenancy already ended)."""
        try:
            _ref(tenancy).update(
                actions=[models.Tenancy.move_out.set(plan)],
                condition=models.Tenancy.move_out.does_not_exist()
                & models.Tenancy.ends_on.does_not_exist(),
            )
        except pynamo_errors.UpdateError as exc:
            if conditional_check_failed(exc):
                return False
            raise
        return True

    def drop_move_out(self, tenancy: models.Tenancy) -> None:
        _ref(tenancy).update(
            actions=[models.Tenancy.move_out.remove()],
            condition=models.Tenancy.ends_on.does_not_exist(),
        )

    def advance_move_out(self, tenancy: models.Tenancy, plan: dict[str, Any]) -> None:
        _ref(tenancy).update(actions=[models.Tenancy.move_out.set(plan)])

    def close(
        self,
        company_id: str,
        tenancy: models.Tenancy,
        ends_on: str,
        closing_kwh: str,
        ends_at: datetime | None = None,
    ) -> None:
        """End the tenancy and let its unit go (unless an earlier attempt already did);
        ``ends_at``: the instant it ends, when the move-out recorded one."""
        actions: list[Any] = [
            models.Tenancy.ends_on.set(ends_on),
            models.Tenancy.closing_kwh.set(closing_kwh),
        ]
        if ends_at is not None:
            actions.append(models.Tenancy.ends_at.set(ends_at))
        _ref(tenancy).update(actions=actions)
        try:
            models.Unit(keys.company_pk(company_id), keys.unit_sk(tenancy.unit_id)).update(
                actions=[models.Unit.tenancy_id.remove(), models.Unit.account_id.remove()],
                condition=models.Unit.tenancy_id == tenancy.tenancy_id,
            )
        except pynamo_errors.UpdateError as exc:
            if not conditional_check_failed(exc):
                raise
