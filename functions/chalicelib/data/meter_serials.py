"""The serial number a meter was last seen with, and the exchange a changed one proposes
(``Meter.serial``, ``Meter.serial_proposal``; docs/metering-data.md, "Serial numbers").

Written only on first sight and on a change, each conditionally, so a replayed message
or a second container writes nothing twice: a steady meter costs no write. Read fresh
(one consistent GetItem) only when a message gives a reason to doubt the cached copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import keys
from .conditions import conditional_check_failed
from .errors import NotFoundError
from .lazy import lazy_module

if TYPE_CHECKING:
    from pynamodb import exceptions as pynamo_errors

    from . import models
else:  # loaded when first used: data/lazy.py
    models = lazy_module("chalicelib.data.models")
    pynamo_errors = lazy_module("pynamodb.exceptions")


class MeterSerials:
    def fresh(self, company_id: str, meter_id: str) -> models.Meter:
        try:
            return models.Meter.get(
                keys.company_pk(company_id), keys.meter_sk(meter_id), consistent_read=True
            )
        except pynamo_errors.DoesNotExist as exc:
            raise NotFoundError("meter not found") from exc

    def first_seen(self, company_id: str, meter_id: str, serial: str) -> bool:
        """Record the first serial read; False if one is recorded already."""
        meter = models.Meter(keys.company_pk(company_id), keys.meter_sk(meter_id))
        return _update(
            meter,
            [models.Meter.serial.set(serial)],
            models.Meter.pk.exists() & models.Meter.serial.does_not_exist(),
        )

    def propose(
        self, company_id: str, meter_id: str, known_serial: str, proposal: dict[str, Any]
    ) -> bool:
        """Put an exchange proposal on the meter, once: False if one is pending already or
        the known serial changed meanwhile (an exchange was recorded)."""
        meter = models.Meter(keys.company_pk(company_id), keys.meter_sk(meter_id))
        return _update(
            meter,
            [models.Meter.serial_proposal.set(proposal)],
            models.Meter.pk.exists()
            & models.Meter.serial_proposal.does_not_exist()
            & (models.Meter.serial == known_serial),
        )

    def same_meter(self, company_id: str, meter_id: str, proposal: dict[str, Any]) -> bool:
        """A proposal staff say was no exchange (the same meter, its serial now reads the
        new way): the new serial is kept, the proposal cleared; False if it changed."""
        meter = models.Meter(keys.company_pk(company_id), keys.meter_sk(meter_id))
        return _update(
            meter,
            [
                models.Meter.serial.set(str(proposal["new_serial"])),
                models.Meter.serial_proposal.remove(),
            ],
            models.Meter.serial_proposal == proposal,
        )


def _update(meter: models.Meter, actions: list[Any], condition: Any) -> bool:
    try:
        meter.update(actions=actions, condition=condition)
    except pynamo_errors.UpdateError as exc:
        if conditional_check_failed(exc):
            return False
        raise
    return True
