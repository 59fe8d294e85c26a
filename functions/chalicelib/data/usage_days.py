"""A bus's usage per local day: the roll-up of its 15-minute buckets.

Charts of a month or a year would otherwise read 2,900 or 35,000 bucket items
per meter; a day item turns that into 31 or 366 (docs/data-model.md #50-#51).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from . import keys
from .lazy import lazy_module

if TYPE_CHECKING:
    from . import models
else:  # loaded when first used: data/lazy.py
    models = lazy_module("chalicelib.data.models")

MAX_DAYS_PER_QUERY = 800  # a year and the year before it, with room
MAX_BUCKETS_PER_QUERY = 300  # two local days of 25 hours is 200


class UsageDayStore:
    def put_day(
        self,
        company_id: str,
        gateway_id: str,
        day: date,
        time_zone: str,
        energy: dict[str, str],
        buckets: int,
    ) -> None:
        """Overwrite: a day is a pure function of its buckets."""
        models.GatewayUsageDay(
            keys.gateway_data_pk(company_id, gateway_id),
            keys.gateway_usage_day_sk(day),
            gateway_id=gateway_id,
            day=day.isoformat(),
            time_zone=time_zone,
            energy=energy,
            buckets=buckets,
        ).save()

    def days_between(
        self, company_id: str, gateway_id: str, first: date, last: date
    ) -> Iterator[models.GatewayUsageDay]:
        """Day items with first <= day <= last, oldest first."""
        if last < first:
            return
        yield from models.GatewayUsageDay.query(
            keys.gateway_data_pk(company_id, gateway_id),
            models.GatewayUsageDay.sk.between(
                keys.gateway_usage_day_sk(first), keys.gateway_usage_day_sk(last)
            ),
            limit=MAX_DAYS_PER_QUERY,
        )

    def buckets_between(
        self,
        company_id: str,
        gateway_id: str,
        start: datetime,
        end: datetime,
        consistent: bool = False,
    ) -> Iterator[models.GatewayUsage]:
        """15-minute items with start <= bucket start < end (``end`` excluded, unlike
        ``TelemetryStore.usage_between``), at most two days' worth."""
        if end <= start:
            return
        last_start = datetime.fromtimestamp(end.timestamp() - 1, UTC)
        yield from models.GatewayUsage.query(
            keys.gateway_data_pk(company_id, gateway_id),
            models.GatewayUsage.sk.between(
                keys.gateway_usage_sk(start), keys.gateway_usage_sk(last_start)
            ),
            consistent_read=consistent,
            limit=MAX_BUCKETS_PER_QUERY,
        )
