"""Readings validation held back, in the meter's partition (pattern H1-H3 in
docs/data-model.md). Written only when a reading is held: a good reading costs nothing
here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from . import keys
from .conditions import conditional_check_failed
from .errors import NotFoundError
from .lazy import lazy_module

if TYPE_CHECKING:
    from pynamodb import exceptions as pynamo_errors
    from pynamodb.expressions import update as pynamo_update

    from . import models
else:  # loaded when first used: data/lazy.py
    models = lazy_module("chalicelib.data.models")
    pynamo_errors = lazy_module("pynamodb.exceptions")
    pynamo_update = lazy_module("pynamodb.expressions.update")

MAX_HELD_READ = 200
HELD = "held"


class HeldReadings:
    def hold(self, items: Iterable[models.HeldReading]) -> int:
        """Put each held reading; the key is the reading's time, so a replayed message
        writes the same item again instead of a second one."""
        count = 0
        with models.HeldReading.batch_write() as batch:
            for item in items:
                batch.save(item)
                count += 1
        return count

    def newest(self, company_id: str, meter_id: str) -> models.HeldReading | None:
        found = self.of_meter(company_id, meter_id, limit=1)
        return found[0] if found else None

    def of_meter(
        self, company_id: str, meter_id: str, limit: int = 50, before: datetime | None = None
    ) -> list[models.HeldReading]:
        """The meter's held readings, newest first (pattern H2)."""
        pk = keys.meter_data_pk(company_id, meter_id)
        condition = (
            models.HeldReading.sk.startswith(keys.HELD_READING_PREFIX)
            if before is None
            else models.HeldReading.sk.between(
                keys.HELD_READING_PREFIX, keys.held_reading_sk(before)
            )
        )
        return [
            h
            for h in models.HeldReading.query(
                pk, condition, scan_index_forward=False, limit=min(limit, MAX_HELD_READ)
            )
            if isinstance(h, models.HeldReading)
        ]

    def get(self, company_id: str, meter_id: str, read_at: datetime) -> models.HeldReading:
        try:
            return models.HeldReading.get(
                keys.meter_data_pk(company_id, meter_id),
                keys.held_reading_sk(read_at),
                consistent_read=True,
            )
        except pynamo_errors.DoesNotExist as exc:
            raise NotFoundError("held reading not found") from exc

    def decide(
        self,
        item: models.HeldReading,
        status: str,
        by: str,
        at: datetime,
        note: str,
        replacement_kwh: str | None = None,
    ) -> bool:
        """Record a person's decision once: False if someone decided first."""
        actions: list[pynamo_update.Action] = [
            models.HeldReading.status.set(status),
            models.HeldReading.decided_by.set(by),
            models.HeldReading.decided_at.set(at),
            models.HeldReading.decision_note.set(note),
        ]
        if replacement_kwh is not None:
            actions.append(models.HeldReading.replacement_kwh.set(replacement_kwh))
        try:
            item.update(actions=actions, condition=models.HeldReading.status == HELD)
        except pynamo_errors.UpdateError as exc:
            if conditional_check_failed(exc):
                return False
            raise
        return True
