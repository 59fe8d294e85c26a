"""The resale check: what a tenant was charged against what the same energy costs at the
utility tariff the landlord pays, and whether the market caps resale (docs/tariffs.md,
"Resale caps per market").

Pure: the caller prices the same readings with the utility's timeline (``postpaid_bill``,
the pricing every bill uses) and hands both amounts here. Money stays integer minor units;
prices per kWh are exact fractions until shown.

The caps found so far, per market:

- ``GB``: Ofgem's Maximum Resale Price. At most what the landlord paid for the energy
  (unit rate, plus the supplier's standing charge pro rata, VAT included). The check
  prices the tenant's energy and days at the supplier tariff, standing charge included,
  so a charge above it exceeds the cap (the standing charge is shared among the units
  supplied at a site, so the real cap can be lower still).
- ``TW``: the Ministry of the Interior's 2024 lease rule. Charged per kWh, at most the
  average price per kWh of the landlord's Taipower bill for the period. The landlord's bill
  covers the whole supply, whose average price is at least that of the unit's energy alone
  on a tariff whose tiers rise; the check uses the unit's own energy, so no warning means
  under the cap, and a warning means: compare with the bill.

A market without a found rule gets the comparison, never a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from chalicelib.domain.periods import BillingPeriod

CapRule = Literal["max_resale_price", "bill_average_price"]


@dataclass(frozen=True)
class ResaleCap:
    market: str
    rule: CapRule
    source: str  # where the rule is published


RESALE_CAPS: dict[str, ResaleCap] = {
    "GB": ResaleCap(
        "GB",
        "max_resale_price",
        "http://www.ofgem.gov.uk/business-consumers/Pages/resale-of-gas-and-electricity.aspx",
    ),
    "TW": ResaleCap(
        "TW", "bill_average_price", "https://www.land.moi.gov.tw/chhtml/content/10?mcid=5098"
    ),
}


def cap_of(market: str) -> ResaleCap | None:
    """The resale cap of a market (ISO 3166 alpha-2), or None where none was found."""
    return RESALE_CAPS.get(market.upper())


@dataclass(frozen=True)
class ResaleComparison:
    """One unit's period: the tenant's charge against the utility's price of the same energy."""

    period: BillingPeriod
    energy_kwh: Decimal
    currency: str
    charged_minor: int
    utility_minor: int
    cap: ResaleCap | None
    utility_versions: tuple[str, ...] = ()  # the template versions that priced it

    @property
    def difference_minor(self) -> int:
        return self.charged_minor - self.utility_minor

    @property
    def charged_per_kwh_minor(self) -> Fraction | None:
        return _per_kwh(self.charged_minor, self.energy_kwh)

    @property
    def utility_per_kwh_minor(self) -> Fraction | None:
        return _per_kwh(self.utility_minor, self.energy_kwh)

    @property
    def markup_percent(self) -> Decimal | None:
        """(charged - utility) / utility in percent to 0.1; None when the utility price is 0."""
        if self.utility_minor <= 0:
            return None
        exact = Fraction(self.difference_minor * 100, self.utility_minor)
        return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.1"))

    @property
    def over_cap(self) -> bool:
        """The market caps resale and the tenant paid more than the utility's price of the
        same energy (and days). Equal is allowed."""
        return self.cap is not None and self.charged_minor > self.utility_minor


def compare(
    period: BillingPeriod,
    energy_kwh: Decimal,
    currency: str,
    charged_minor: int,
    utility_minor: int,
    market: str,
    utility_versions: tuple[str, ...] = (),
) -> ResaleComparison:
    if isinstance(charged_minor, bool) or not isinstance(charged_minor, int):
        raise TypeError("charged_minor must be integer minor units")
    if isinstance(utility_minor, bool) or not isinstance(utility_minor, int):
        raise TypeError("utility_minor must be integer minor units")
    return ResaleComparison(
        period, energy_kwh, currency, charged_minor, utility_minor, cap_of(market), utility_versions
    )


def _per_kwh(amount_minor: int, energy_kwh: Decimal) -> Fraction | None:
    if energy_kwh <= 0:
        return None
    return Fraction(amount_minor) / Fraction(energy_kwh)
