"""Schedules that visit every gateway of every company: the relay-retry sweep
(``confirmation.py``) and the offline sweep (``presence.py``). Each counts what it did
in named counters; ``sweep_company`` lets a test or a fan-out run one company."""

from __future__ import annotations

from datetime import UTC, datetime

from ..data.catalogue import Catalogue
from ..data.models import Gateway


class GatewaySweep:
    COUNTERS: tuple[str, ...] = ()
    _catalogue: Catalogue

    def sweep(self, now: datetime | None = None) -> dict[str, int]:
        now = now or datetime.now(UTC)
        counts = dict.fromkeys(self.COUNTERS, 0)
        for company in self._catalogue.list_companies():
            self.sweep_company(company.company_id, now, counts)
        return counts

    def sweep_company(
        self, company_id: str, now: datetime, counts: dict[str, int] | None = None
    ) -> dict[str, int]:
        counts = counts if counts is not None else dict.fromkeys(self.COUNTERS, 0)
        for gateway in self._catalogue.list_gateways(company_id):
            self._sweep_gateway(company_id, gateway, now, counts)
        return counts

    def _sweep_gateway(
        self, company_id: str, gateway: Gateway, now: datetime, counts: dict[str, int]
    ) -> None:
        raise NotImplementedError
