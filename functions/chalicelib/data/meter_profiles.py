"""A company's own meter profiles (docs/meters.md, "Profiles as configuration").

Access patterns (docs/data-model.md): one profile by name (GetItem), the profiles a bus
needs (BatchGetItem, at most 64), a company's profiles (Query on its partition, sort key
prefix ``PROFILE#``). A profile changes only with a higher ``version``: the version is
what telemetry's ``pv`` reports, so one version means one map.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import keys
from .conditions import conditional_check_failed
from .errors import ConditionFailedError
from .lazy import lazy_module

if TYPE_CHECKING:
    from pynamodb import exceptions as pynamo_errors

    from . import models
else:  # loaded when first used: data/lazy.py
    models = lazy_module("chalicelib.data.models")
    pynamo_errors = lazy_module("pynamodb.exceptions")

MAX_BATCH = 64  # the gateway accepts at most 64 configured profiles


class MeterProfileStore:
    def put(
        self,
        company_id: str,
        name: str,
        version: int,
        document: dict[str, Any],
        summary: dict[str, Any],
        now: datetime,
    ) -> bool:
        """Store ``name`` at ``version``: True if stored, False if exactly this was there
        (a replay). ConditionFailedError if the stored version is as high with another
        document, or higher."""
        record = models.MeterProfileRecord(
            keys.company_pk(company_id),
            keys.meter_profile_sk(name),
            company_id=company_id,
            name=name,
            version=version,
            document=document,
            summary=summary,
            updated_at=now,
        )
        newer = models.MeterProfileRecord.pk.does_not_exist() | (
            models.MeterProfileRecord.version < version
        )
        try:
            record.save(condition=newer)
        except pynamo_errors.PutError as exc:
            if not conditional_check_failed(exc):
                raise
            stored = self.get_many(company_id, [name]).get(name)
            if stored is not None and stored.version == version and stored.document == document:
                return False
            held = stored.version if stored is not None else "?"
            raise ConditionFailedError(
                f"profile {name} is stored at version {held}: a change needs a higher version"
            ) from exc
        return True

    @staticmethod
    def get_many(company_id: str, names: Iterable[str]) -> dict[str, models.MeterProfileRecord]:
        wanted = sorted(set(names))[:MAX_BATCH]
        item_keys = [(keys.company_pk(company_id), keys.meter_profile_sk(n)) for n in wanted]
        if not item_keys:
            return {}
        return {r.name: r for r in models.MeterProfileRecord.batch_get(item_keys)}

    @staticmethod
    def list(company_id: str) -> list[models.MeterProfileRecord]:
        return list(
            models.MeterProfileRecord.query(
                keys.company_pk(company_id),
                models.MeterProfileRecord.sk.startswith(keys.METER_PROFILE_PREFIX),
                limit=MAX_BATCH,
            )
        )
