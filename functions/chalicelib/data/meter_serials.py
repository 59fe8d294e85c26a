"""The serial number a meter was last seen with, and the exchange a changed one proposes
(``Meter.serial``, ``Meter.serial_proposal``; docs/metering-data.md, "Serial numbers").

Written only on first sight and on a change, each conditionally, so a replayed message
or a second container writes nothing twice: a steady meter costs no write. Read fresh
(one consistent GetItem) only when a message gives a reason to doubt the cached copy.
"""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from . import keys
from .conditions import conditional_check_failed
from .errors import NotFoundError
from .models import Meter


class MeterSerials:
    def fresh(self, company_id: str, meter_id: str) -> Meter:
        try:
            return Meter.get(
                keys.company_pk(company_id), keys.meter_sk(meter_id), consistent_read=True
            )
        except DoesNotExist as exc:
            raise NotFoundError("meter not found") from exc

    def first_seen(self, company_id: str, meter_id: str, serial: str) -> bool:
        """Record the first serial read; False if one is recorded already."""
        meter = Meter(keys.company_pk(company_id), keys.meter_sk(meter_id))
        return _update(
            meter, [Meter.serial.set(serial)], Meter.pk.exists() & Meter.serial.does_not_exist()
        )

    def propose(
        self, company_id: str, meter_id: str, known_serial: str, proposal: dict[str, Any]
    ) -> bool:
        """Put an exchange proposal on the meter, once: False if one is pending already or
        the known serial changed meanwhile (an exchange was recorded)."""
        meter = Meter(keys.company_pk(company_id), keys.meter_sk(meter_id))
        return _update(
            meter,
            [Meter.serial_proposal.set(proposal)],
            Meter.pk.exists()
            & Meter.serial_proposal.does_not_exist()
            & (Meter.serial == known_serial),
        )

    def same_meter(self, company_id: str, meter_id: str, proposal: dict[str, Any]) -> bool:
        """A proposal staff say was no exchange (the same meter, its serial now reads the
        new way): the new serial is kept, the proposal cleared; False if it changed."""
        meter = Meter(keys.company_pk(company_id), keys.meter_sk(meter_id))
        return _update(
            meter,
            [Meter.serial.set(str(proposal["new_serial"])), Meter.serial_proposal.remove()],
            Meter.serial_proposal == proposal,
        )


def _update(meter: Meter, actions: list[Any], condition: Any) -> bool:
    try:
        meter.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if conditional_check_failed(exc):
            return False
        raise
    return True
