"""A bill's lines and their totals: shared by the domain's bill and every view of a stored one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Protocol

TAX_CODE = "tax"
ROUNDING_CODE = "rounding"


class PricedLine(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def amount_minor(self) -> int: ...


class LineTotals:
    """Totals of a bill's lines, for the domain's bill and every view of a stored one:
    what the lines come to before tax, the tax, and the total."""

    lines: Sequence[PricedLine]

    @property
    def subtotal_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines if line.code != TAX_CODE)

    @property
    def tax_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines if line.code == TAX_CODE)

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor + self.tax_minor


@dataclass(frozen=True)
class BillLine:
    """One figure of a bill: amount_minor and what it was computed from.

    code: energy | fixed | tax | rounding | credit. For energy, quantity is kWh and unit_price
    the tariff's price per kWh; for fixed, quantity is billed days and unit_price the charge in
    major units; for tax, quantity is the taxable base in major units and unit_price the rate;
    for rounding (the tariff rounds its total, e.g. to whole dollars), quantity is 1 and
    amount_minor what the rounding added or took; for credit (an earlier estimate corrected,
    ``domain/true_up.py``), quantity is the kWh taken back, unit_price their average price and
    amount_minor negative.
    """

    code: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount_minor: int
    refs: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "refs", MappingProxyType(dict(self.refs)))
