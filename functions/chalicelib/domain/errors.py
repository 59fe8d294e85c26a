"""Every way the domain can refuse its input: one class per failure mode, one base."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error raised by chalicelib.domain."""


class FloatRefusedError(DomainError, TypeError):
    """A float reached a place that handles money or energy."""


class UnknownCurrencyError(DomainError, ValueError):
    """The currency code is not in the ISO 4217 table the domain knows."""


class CurrencyMismatchError(DomainError, ValueError):
    """Two amounts in different currencies were combined or compared."""


class InvalidAmountError(DomainError, ValueError):
    """An amount is not an int of minor units, or is outside the allowed range."""


class AmountTextError(InvalidAmountError):
    """Typed text is not an amount in major units; the subclass says which rule it broke."""


class EmptyAmountError(AmountTextError):
    """Nothing was typed."""


class MalformedAmountError(AmountTextError):
    """Not written as ASCII digits, one optional '.', and ',' only between groups of three."""


class NegativeAmountError(AmountTextError):
    """A '-' sign where the caller accepts only zero or positive amounts."""


class TooManyDecimalsError(AmountTextError):
    """More digits after the '.' than the currency's exponent (or the caller's limit)."""


class AmountTooLargeError(AmountTextError):
    """The amount is above the caller's maximum (at most the domain's MAX_AMOUNT_MINOR)."""


class InvalidEnergyError(DomainError, ValueError):
    """An energy value is not a finite Decimal kWh within the allowed range."""


class AllocationError(DomainError, ValueError):
    """Weights for an exact allocation are empty, negative or all zero."""


class InvalidReadingError(DomainError, ValueError):
    """A meter reading has a naive timestamp or an impossible value."""


class InvalidCalendarError(DomainError, ValueError):
    """A friendly-hours calendar is malformed (zone, window, holiday, limits)."""


class InvalidTariffError(DomainError, ValueError):
    """A tariff document failed validation; the message names the field."""


class InvalidPeriodError(DomainError, ValueError):
    """A billing period is empty, reversed or too long."""


class AmbiguousSegmentError(DomainError, ValueError):
    """A period has several pricing segments and no day was given to pick one."""


class NegativeIncrementError(DomainError, ValueError):
    """Usage after an increment is lower than usage before it."""


class UnknownBandError(DomainError, ValueError):
    """A time-of-use band name that the tariff does not define."""


class InvalidLedgerEntryError(DomainError, ValueError):
    """A ledger entry has a malformed field (id, timestamp, memo, refs)."""


class LedgerEntrySignError(InvalidLedgerEntryError):
    """A ledger entry's amount has the wrong sign for its kind."""


class LedgerEntryConflictError(DomainError):
    """The same entry id was presented again with different content."""


class LedgerLimitError(DomainError):
    """The in-memory ledger reached its size limit."""


class InvalidPolicyInputError(DomainError, ValueError):
    """The prepaid policy was given inconsistent inputs."""


class InvalidBillError(DomainError, ValueError):
    """A bill cannot be produced from the given readings, dates or tariff."""


class SettlementError(DomainError, ValueError):
    """A move-out settlement cannot be produced from the given state."""


class InvalidCycleError(DomainError, ValueError):
    """A billing cycle document is malformed; the message names the field."""


class InvalidTimelineError(InvalidTariffError):
    """A tariff timeline (effective-dated versions) is malformed or has no version for a day."""


class VersionScheduleError(InvalidTimelineError):
    """A tariff version cannot be scheduled or withdrawn; ``field`` names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidTemplateError(InvalidTariffError):
    """A tariff template file is malformed or unknown; the message names the field."""
