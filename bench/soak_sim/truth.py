"""What really happened, from the soak's own knowledge, and what it must cost.

The soak knows every reading it produced, which ones it corrupted (misreads), which
meters it swapped or reset and when the landlord recorded each exchange. From that alone,
never from the product's validation, it says which readings must be held and which
chain of true readings the tenant pays for:

- a misread is held (a zero goes backwards; a glitch or a flipped bit exceeds the rating);
- a changed meter's new register is held until the exchange is recorded: its readings
  whose cycle was first sent before the landlord recorded it;
- the chain a tenant pays for is every other reading, with the exchange's old final and
  new opening readings at the instant of the change (the step between them is free).

The money is then the domain's cycle pricing over that chain in one pass
(``settle_cycles`` from no position: each interval split by time over the cycles, the
tariff versions and the components it touches, each cycle priced whole). The product
settles the same chain in hundreds of steps from its stored cursor and position, or bills
it at the cycle's end; by the telescoping rule (docs/tariffs.md) both come to the same
minor unit, so any step that lost, repeated or mispriced energy shows. A held reading
charges nothing and the interval around it runs from the last good reading to the next one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib.domain import Reading, consumption_intervals
from chalicelib.domain.prepaid_cycle import Tenure, settle_cycles

from .field_faults import FieldFaults
from .landlord import ExchangeRecord
from .load_model import as_kwh
from .portfolio import TENANCY_DAY, TZ, SimMeter
from .traffic import Produced

NO_GAP_LIMIT = timedelta(days=400)


class Truth:
    def __init__(
        self, produced: Produced, faults: FieldFaults, exchanges: dict[str, ExchangeRecord]
    ) -> None:
        self.produced = produced
        self.faults = faults
        self.exchanges = exchanges
        self._held: dict[str, dict[datetime, str]] = {}
        self._chains: dict[str, list[Reading]] = {}

    def held(self, meter_id: str) -> dict[datetime, str]:
        """The meter's readings that must be held (read time -> why)."""
        if meter_id not in self._held:
            held = {
                at: misread.hold_reason
                for at, misread in self.produced.misreads.get(meter_id, {}).items()
            }
            change = self.faults.changes.get(meter_id)
            if change is not None:
                record = self.exchanges.get(meter_id)
                for at, sent in self.produced.first_sent.get(meter_id, {}).items():
                    if at >= change.at and (record is None or sent < record.recorded_at):
                        held[at] = change.hold_reason
            self._held[meter_id] = held
        return self._held[meter_id]

    def released(self, meter_id: str, at: datetime) -> bool:
        """A held reading of a new register that the recorded exchange resolved."""
        change = self.faults.changes.get(meter_id)
        return change is not None and meter_id in self.exchanges and at >= change.at

    def chain(self, meter_id: str) -> list[Reading]:
        """The readings the tenant pays for, in time order: the good ones, and a recorded
        exchange's old final and new opening readings at the change."""
        if meter_id in self._chains:
            return self._chains[meter_id]
        held = self.held(meter_id)
        change = self.faults.changes.get(meter_id)
        exchange: list[Reading] = []
        if change is not None and meter_id in self.exchanges:
            exchange = [
                Reading(change.at, as_kwh(change.old_final_wh)),
                Reading(change.at, as_kwh(change.opening_wh), new_register=True),
            ]
        chain: list[Reading] = []
        for at, wh in sorted(self.produced.readings.get(meter_id, [])):
            if exchange and change is not None and at >= change.at:
                chain += exchange
                exchange = []
            if at not in held:
                chain.append(Reading(at, as_kwh(wh)))
        self._chains[meter_id] = chain + exchange
        return self._chains[meter_id]


def independent_charge_minor(meter: SimMeter, opening: Reading, readings: list[Reading]) -> int:
    """Price the true readings after the opening one on the unit's cycles and versions."""
    intervals = [i for i in consumption_intervals([opening, *readings], NO_GAP_LIMIT) if i.charges]
    if not readings:
        return 0
    tenure = Tenure(meter.timeline, meter.billing_cycle, TZ, move_in=TENANCY_DAY)
    return settle_cycles(tenure, None, intervals, readings[-1].at).amount_minor
