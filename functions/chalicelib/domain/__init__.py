"""Powerlet's pure domain core: money, energy, readings, tariffs, ledger, policy, bills.

Imports only the standard library and pydantic (a test enforces it).

The public names below load their module on first use (PEP 562's module ``__getattr__``),
not when the package is imported: importing ``chalicelib.domain.errors`` runs this file
first, and an eager import of every name pulled the pydantic tariff models and the bill
calculators onto ingest's cold start, which needs neither on its steady path (issue 19,
docs/deploy.md "Cold start"). The names are listed three times: for the type checker
(``TYPE_CHECKING``), for the loader (``_MODULE_OF``) and as the public API (``__all__``);
tests/unit/domain/test_domain_imports.py checks they agree.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.domain.allocation import allocate_units
    from chalicelib.domain.billing import Bill, BillLine, postpaid_bill
    from chalicelib.domain.calendar import FriendlyHours, WeeklyWindow
    from chalicelib.domain.consumption import (
        Interval,
        IntervalFlag,
        Reading,
        consumption_intervals,
        total_energy_kwh,
    )
    from chalicelib.domain.cycles import MONTHLY, BillingCycle, parse_cycle
    from chalicelib.domain.energy import KWH_QUANTUM, MAX_KWH, format_kwh, kwh, non_negative_kwh
    from chalicelib.domain.errors import (
        AllocationError,
        AmbiguousSegmentError,
        AmountTextError,
        AmountTooLargeError,
        CurrencyMismatchError,
        DomainError,
        EmptyAmountError,
        FloatRefusedError,
        InvalidAmountError,
        InvalidBillError,
        InvalidCalendarError,
        InvalidEnergyError,
        InvalidLedgerEntryError,
        InvalidPeriodError,
        InvalidPolicyInputError,
        InvalidReadingError,
        InvalidTariffError,
        LedgerEntryConflictError,
        LedgerEntrySignError,
        LedgerLimitError,
        MalformedAmountError,
        NegativeAmountError,
        NegativeIncrementError,
        SettlementError,
        TooManyDecimalsError,
        UnknownBandError,
        UnknownCurrencyError,
    )
    from chalicelib.domain.estimation import (
        Closing,
        ClosingKind,
        daily_usage_kwh,
        estimate,
        interpolate,
    )
    from chalicelib.domain.ledger import (
        SIGN_RULES,
        EntryKind,
        Ledger,
        LedgerEntry,
        Sign,
        check_sign,
    )
    from chalicelib.domain.money import (
        CURRENCY_EXPONENTS,
        Currency,
        Money,
        Rounding,
        allocate,
        currency_exponent,
        sum_money,
        to_major,
    )
    from chalicelib.domain.money_text import format_major, parse_decimal, parse_major
    from chalicelib.domain.periods import BillingPeriod, month_fraction
    from chalicelib.domain.prepaid import (
        REASONS,
        PowerDecision,
        TariffPosition,
        decide_power,
        low_credit_alerts,
        offline_cutoff_kwh,
    )
    from chalicelib.domain.prepaid_cycle import CyclePosition, Tenure, settle_cycles
    from chalicelib.domain.pricing import (
        PricingSegment,
        allocate_energy,
        charge_for_increment,
        pricing_segments,
        segment_energies,
        tier_usage,
    )
    from chalicelib.domain.settlement import (
        FinalCharge,
        MoveOutSettlement,
        settle_move_out,
        settlement_prefix,
    )
    from chalicelib.domain.tariff_versions import TariffTimeline, TariffVersion, parse_timeline
    from chalicelib.domain.tariffs import (
        Band,
        FixedCharge,
        FlatTariff,
        Season,
        Tariff,
        Tier,
        TieredTariff,
        TouTariff,
        TouWindow,
        parse_tariff,
    )
    from chalicelib.domain.tou import band_at, tou_band_energy
    from chalicelib.domain.true_up import EstimatedBill, energy_charge_minor, over_estimate_credit

# Each public name's module, by module.
_NAMES_BY_MODULE: dict[str, tuple[str, ...]] = {
    "allocation": ("allocate_units",),
    "billing": ("Bill", "BillLine", "postpaid_bill"),
    "calendar": ("FriendlyHours", "WeeklyWindow"),
    "consumption": (
        "Interval",
        "IntervalFlag",
        "Reading",
        "consumption_intervals",
        "total_energy_kwh",
    ),
    "cycles": ("MONTHLY", "BillingCycle", "parse_cycle"),
    "energy": ("KWH_QUANTUM", "MAX_KWH", "format_kwh", "kwh", "non_negative_kwh"),
    "errors": (
        "AllocationError",
        "AmbiguousSegmentError",
        "AmountTextError",
        "AmountTooLargeError",
        "CurrencyMismatchError",
        "DomainError",
        "EmptyAmountError",
        "FloatRefusedError",
        "InvalidAmountError",
        "InvalidBillError",
        "InvalidCalendarError",
        "InvalidEnergyError",
        "InvalidLedgerEntryError",
        "InvalidPeriodError",
        "InvalidPolicyInputError",
        "InvalidReadingError",
        "InvalidTariffError",
        "LedgerEntryConflictError",
        "LedgerEntrySignError",
        "LedgerLimitError",
        "MalformedAmountError",
        "NegativeAmountError",
        "NegativeIncrementError",
        "SettlementError",
        "TooManyDecimalsError",
        "UnknownBandError",
        "UnknownCurrencyError",
    ),
    "estimation": ("Closing", "ClosingKind", "daily_usage_kwh", "estimate", "interpolate"),
    "ledger": ("SIGN_RULES", "EntryKind", "Ledger", "LedgerEntry", "Sign", "check_sign"),
    "money": (
        "CURRENCY_EXPONENTS",
        "Currency",
        "Money",
        "Rounding",
        "allocate",
        "currency_exponent",
        "sum_money",
        "to_major",
    ),
    "money_text": ("format_major", "parse_decimal", "parse_major"),
    "periods": ("BillingPeriod", "month_fraction"),
    "prepaid": (
        "REASONS",
        "PowerDecision",
        "TariffPosition",
        "decide_power",
        "low_credit_alerts",
        "offline_cutoff_kwh",
    ),
    "prepaid_cycle": ("CyclePosition", "Tenure", "settle_cycles"),
    "pricing": (
        "PricingSegment",
        "allocate_energy",
        "charge_for_increment",
        "pricing_segments",
        "segment_energies",
        "tier_usage",
    ),
    "settlement": ("FinalCharge", "MoveOutSettlement", "settle_move_out", "settlement_prefix"),
    "tariff_versions": ("TariffTimeline", "TariffVersion", "parse_timeline"),
    "tariffs": (
        "Band",
        "FixedCharge",
        "FlatTariff",
        "Season",
        "Tariff",
        "Tier",
        "TieredTariff",
        "TouTariff",
        "TouWindow",
        "parse_tariff",
    ),
    "tou": ("band_at", "tou_band_energy"),
    "true_up": ("EstimatedBill", "energy_charge_minor", "over_estimate_credit"),
}
_MODULE_OF = {name: module for module, names in _NAMES_BY_MODULE.items() for name in names}


def __getattr__(name: str) -> Any:
    """A public name, imported from its module when first asked for, then kept here."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "CURRENCY_EXPONENTS",
    "KWH_QUANTUM",
    "MAX_KWH",
    "MONTHLY",
    "REASONS",
    "SIGN_RULES",
    "AllocationError",
    "AmbiguousSegmentError",
    "AmountTextError",
    "AmountTooLargeError",
    "Band",
    "Bill",
    "BillLine",
    "BillingCycle",
    "BillingPeriod",
    "Closing",
    "ClosingKind",
    "Currency",
    "CurrencyMismatchError",
    "CyclePosition",
    "DomainError",
    "EmptyAmountError",
    "EntryKind",
    "EstimatedBill",
    "FinalCharge",
    "FixedCharge",
    "FlatTariff",
    "FloatRefusedError",
    "FriendlyHours",
    "Interval",
    "IntervalFlag",
    "InvalidAmountError",
    "InvalidBillError",
    "InvalidCalendarError",
    "InvalidEnergyError",
    "InvalidLedgerEntryError",
    "InvalidPeriodError",
    "InvalidPolicyInputError",
    "InvalidReadingError",
    "InvalidTariffError",
    "Ledger",
    "LedgerEntry",
    "LedgerEntryConflictError",
    "LedgerEntrySignError",
    "LedgerLimitError",
    "MalformedAmountError",
    "Money",
    "MoveOutSettlement",
    "NegativeAmountError",
    "NegativeIncrementError",
    "PowerDecision",
    "PricingSegment",
    "Reading",
    "Rounding",
    "Season",
    "SettlementError",
    "Sign",
    "Tariff",
    "TariffPosition",
    "TariffTimeline",
    "TariffVersion",
    "Tenure",
    "Tier",
    "TieredTariff",
    "TooManyDecimalsError",
    "TouTariff",
    "TouWindow",
    "UnknownBandError",
    "UnknownCurrencyError",
    "WeeklyWindow",
    "allocate",
    "allocate_energy",
    "allocate_units",
    "band_at",
    "charge_for_increment",
    "check_sign",
    "consumption_intervals",
    "currency_exponent",
    "daily_usage_kwh",
    "decide_power",
    "energy_charge_minor",
    "estimate",
    "format_kwh",
    "format_major",
    "interpolate",
    "kwh",
    "low_credit_alerts",
    "month_fraction",
    "non_negative_kwh",
    "offline_cutoff_kwh",
    "over_estimate_credit",
    "parse_cycle",
    "parse_decimal",
    "parse_major",
    "parse_tariff",
    "parse_timeline",
    "postpaid_bill",
    "pricing_segments",
    "segment_energies",
    "settle_cycles",
    "settle_move_out",
    "settlement_prefix",
    "sum_money",
    "tier_usage",
    "to_major",
    "total_energy_kwh",
    "tou_band_energy",
]
