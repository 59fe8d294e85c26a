"""Every relay command: who or what, why, when, and the outcome (meter partition)."""

from __future__ import annotations

from datetime import datetime

from pynamodb.expressions.update import Action

from . import keys
from .models import RelayCommand


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
    ) -> RelayCommand:
        item = RelayCommand(
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
        item = RelayCommand(
            keys.meter_data_pk(company_id, meter_id), keys.relay_command_sk(issued_at, command_id)
        )
        actions: list[Action] = [RelayCommand.outcome.set(outcome)]
        if outcome == "confirmed":
            actions.append(RelayCommand.confirmed_at.set(at))
        if attempts is not None:
            actions.append(RelayCommand.attempts.set(attempts))
        item.update(actions=actions)

    def history(self, company_id: str, meter_id: str, limit: int = 50) -> list[RelayCommand]:
        return list(
            RelayCommand.query(
                keys.meter_data_pk(company_id, meter_id),
                RelayCommand.sk.startswith(keys.RELAY_COMMAND_PREFIX),
                scan_index_forward=False,
                limit=limit,
            )
        )
