"""Every relay command: who or what, why, when, and the outcome (meter partition).

A pending command carries its confirmation deadline on the due index (``deadlines.py``),
written with the command and removed with its outcome, so the retry sweep reads only the
commands whose time is up."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from . import keys
from .deadlines import (
    RELAY_DEADLINE,
    clear_deadline,
    deadline_attributes,
    set_deadline,
    update_existing,
)
from .lazy import lazy_module

if TYPE_CHECKING:
    from pynamodb.expressions import update as pynamo_update

    from . import models
else:  # loaded when first used: data/lazy.py
    models = lazy_module("chalicelib.data.models")
    pynamo_update = lazy_module("pynamodb.expressions.update")


class RelayLog:
    def record(
        self,
        company_id: str,
        meter_id: str,
        command_id: str,
        power: str,
        reason: str,
        actor: str,
        note: str | None,
        at: datetime,
        outcome: str = "pending",
        confirm_by: tuple[str, datetime] | None = None,
    ) -> models.RelayCommand:
        """``confirm_by`` (gateway id, deadline): put a pending command on the due index."""
        waits = confirm_by is not None and outcome == "pending"
        item = models.RelayCommand(
            keys.meter_data_pk(company_id, meter_id),
            keys.relay_command_sk(at, command_id),
            company_id=company_id,
            meter_id=meter_id,
            command_id=command_id,
            power=power,
            reason=reason,
            actor=actor,
            note=note,
            issued_at=at,
            outcome=outcome,
            confirmed_at=at if outcome == "confirmed" else None,
            attempts=1,
        )
        if waits and confirm_by is not None:
            for name, value in deadline_attributes(
                RELAY_DEADLINE, confirm_by[1], company_id, confirm_by[0], meter_id
            ).items():
                setattr(item, name, value)
        item.save()
        return item

    def resolve(
        self,
        company_id: str,
        meter_id: str,
        command_id: str,
        issued_at: datetime,
        outcome: str,
        at: datetime,
        attempts: int | None = None,
    ) -> None:
        item = models.RelayCommand(
            keys.meter_data_pk(company_id, meter_id), keys.relay_command_sk(issued_at, command_id)
        )
        actions: list[pynamo_update.Action] = [
            models.RelayCommand.outcome.set(outcome),
            *clear_deadline(),
        ]
        if outcome == "confirmed":
            actions.append(models.RelayCommand.confirmed_at.set(at))
        if attempts is not None:
            actions.append(models.RelayCommand.attempts.set(attempts))
        item.update(actions=actions)

    def extend_deadline(
        self,
        company_id: str,
        gateway_id: str,
        meter_id: str,
        command_id: str,
        issued_at: datetime,
        confirm_by: datetime,
    ) -> None:
        """A retried command waits again: its deadline moves (same write as the attempt)."""
        item = models.RelayCommand(
            keys.meter_data_pk(company_id, meter_id), keys.relay_command_sk(issued_at, command_id)
        )
        update_existing(
            item, set_deadline(RELAY_DEADLINE, confirm_by, company_id, gateway_id, meter_id)
        )

    @staticmethod
    def drop_deadline(pk: str, sk: str) -> None:
        """A deadline whose command is no longer the meter's pending one (confirmed, or
        replaced by a newer command): nothing to wait for."""
        update_existing(models.RelayCommand(pk, sk), clear_deadline())

    def history(self, company_id: str, meter_id: str, limit: int = 50) -> list[models.RelayCommand]:
        return list(
            models.RelayCommand.query(
                keys.meter_data_pk(company_id, meter_id),
                models.RelayCommand.sk.startswith(keys.RELAY_COMMAND_PREFIX),
                scan_index_forward=False,
                limit=limit,
            )
        )
