"""Write a company's, a property's or a unit's settings on condition that nobody
else did first.

Each item carries ``settings_version``. An editor reads it, sends it back with
the change, and the write is one ``TransactWriteItems``: update the item on
condition that the version is still the one read (then add one), and put the
audit event of who changed what. Two people saving at once: one wins, the
other gets ``SettingsVersionConflictError``; neither change is lost silently,
and no audit event exists for a change that did not happen.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from . import keys
from .audit import MAX_TRAIL, AuditLog, audit_event
from .conditions import failed_at
from .errors import DataError
from .models import AuditEvent, Company, Gateway, Property, Unit


class SettingsVersionConflictError(DataError):
    """The item's settings changed since the editor read them (or the item is gone)."""

    @classmethod
    def of(cls, what: str) -> SettingsVersionConflictError:
        return cls(f"the settings of {what} were changed by someone else since you opened them")


def expect_version(expected: int, found: int, what: str) -> None:
    """Refuse a stale editor before any work is done on its behalf (the conditional write
    checks again, for an edit that lands in between)."""
    if expected != found:
        raise SettingsVersionConflictError.of(what)


def _version_is(attribute: Any, expected: int) -> Condition:
    # Items written before the editor existed have no version: they count as 0.
    if expected == 0:
        return attribute.does_not_exist() | (attribute == 0)
    return attribute == expected


def _set_or_remove(attribute: Any, value: Any) -> Any:
    return attribute.remove() if value is None else attribute.set(value)


class SettingsStore:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def update_property(
        self,
        company_id: str,
        property_id: str,
        expected_version: int,
        *,
        friendly_hours: dict[str, Any],
        emergency_credit_minor: int,
        low_credit_thresholds_minor: list[int] | None,
        actor: str,
        detail: dict[str, Any],
        at: datetime,
    ) -> int:
        """Apply the change and its audit event together; the new version."""
        item = Property(keys.company_pk(company_id), keys.property_sk(property_id))
        actions = [
            Property.friendly_hours.set(friendly_hours),
            Property.emergency_credit_minor.set(emergency_credit_minor),
            _set_or_remove(Property.low_credit_thresholds_minor, low_credit_thresholds_minor),
        ]
        return self._versioned(
            item,
            Property,
            expected_version,
            actions,
            self._audit(
                company_id,
                actor,
                "property_settings_changed",
                f"property:{property_id}",
                detail,
                at,
            ),
            what=f"property {property_id}",
        )

    def set_main_meter(
        self,
        company_id: str,
        property_id: str,
        meter_id: str | None,
        loss_percent: str | None,
        *,
        actor: str,
        at: datetime,
    ) -> None:
        """Declare (or, with None, drop) the property's main meter, audited in the same
        transaction. The caller has checked the meter is one of the property's."""
        item = Property(keys.company_pk(company_id), keys.property_sk(property_id))
        target = ("property", property_id)
        self._main_meter(company_id, item, Property, target, meter_id, loss_percent, actor, at)

    def set_bus_main_meter(
        self,
        company_id: str,
        gateway_id: str,
        meter_id: str | None,
        loss_percent: str | None,
        *,
        actor: str,
        at: datetime,
    ) -> None:
        """Declare (or, with None, drop) one bus's main meter, audited in the same
        transaction. The caller has checked the meter is on that bus."""
        item = Gateway(keys.company_pk(company_id), keys.gateway_sk(gateway_id))
        target = ("gateway", gateway_id)
        self._main_meter(company_id, item, Gateway, target, meter_id, loss_percent, actor, at)

    def _main_meter(
        self,
        company_id: str,
        item: Property | Gateway,
        model: type[Property] | type[Gateway],
        target: tuple[str, str],
        meter_id: str | None,
        loss_percent: str | None,
        actor: str,
        at: datetime,
    ) -> None:
        """A property's or a bus's main meter (the same two attributes on either item)."""
        actions = [
            _set_or_remove(model.main_meter_id, meter_id),
            _set_or_remove(model.main_meter_loss_percent, loss_percent),
        ]
        kind, item_id = target
        audit = self._audit(
            company_id,
            actor,
            "main_meter_changed",
            f"{kind}:{item_id}",
            {"main_meter_id": meter_id, "loss_percent": loss_percent},
            at,
        )
        self._write(item, actions, model.pk.exists(), audit, f"{kind} {item_id}")

    def update_unit(
        self,
        company_id: str,
        unit_id: str,
        expected_version: int,
        *,
        tariff: dict[str, Any],
        low_credit_thresholds_minor: list[int] | None,
        actor: str,
        detail: dict[str, Any],
        at: datetime,
    ) -> int:
        item = Unit(keys.company_pk(company_id), keys.unit_sk(unit_id))
        actions = [
            Unit.tariff.set(tariff),
            _set_or_remove(Unit.low_credit_thresholds_minor, low_credit_thresholds_minor),
        ]
        return self._versioned(
            item,
            Unit,
            expected_version,
            actions,
            self._audit(company_id, actor, "unit_tariff_changed", f"unit:{unit_id}", detail, at),
            what=f"unit {unit_id}",
        )

    def update_property_utility_tariff(
        self,
        company_id: str,
        property_id: str,
        expected_version: int,
        *,
        utility_tariff: dict[str, Any] | None,
        actor: str,
        detail: dict[str, Any],
        at: datetime,
    ) -> int:
        """The utility tariff the landlord pays (the resale check's reference)."""
        item = Property(keys.company_pk(company_id), keys.property_sk(property_id))
        return self._versioned(
            item,
            Property,
            expected_version,
            [_set_or_remove(Property.utility_tariff, utility_tariff)],
            self._audit(
                company_id, actor, "utility_tariff_changed", f"property:{property_id}", detail, at
            ),
            what=f"property {property_id}",
        )

    def update_unit_cycle(
        self,
        company_id: str,
        unit_id: str,
        expected_version: int,
        *,
        billing_cycle: dict[str, Any],
        actor: str,
        detail: dict[str, Any],
        at: datetime,
    ) -> int:
        """The unit's billing cycle with its scheduled change (domain/cycles.py)."""
        item = Unit(keys.company_pk(company_id), keys.unit_sk(unit_id))
        return self._versioned(
            item,
            Unit,
            expected_version,
            [Unit.billing_cycle.set(billing_cycle)],
            self._audit(company_id, actor, "unit_cycle_changed", f"unit:{unit_id}", detail, at),
            what=f"unit {unit_id}",
        )

    def update_company_thresholds(
        self,
        company_id: str,
        expected_version: int,
        low_credit_thresholds_minor: list[int],
        *,
        actor: str,
        detail: dict[str, Any],
        at: datetime,
    ) -> int:
        """The company's low-credit thresholds (what a property or unit without its own
        inherits) and the audit event, together; the new version."""
        item = Company(keys.company_pk(company_id), keys.COMPANY_SK)
        return self._versioned(
            item,
            Company,
            expected_version,
            [_set_or_remove(Company.low_credit_thresholds_minor, low_credit_thresholds_minor)],
            self._audit(
                company_id, actor, "company_settings_changed", f"company:{company_id}", detail, at
            ),
            what="the company",
        )

    def _versioned(
        self,
        item: Any,
        model: Any,
        expected_version: int,
        actions: list[Any],
        audit: AuditEvent,
        what: str,
    ) -> int:
        """Write ``actions`` and the audit event if the item is still at
        ``expected_version``; the new version (also recorded in the audit detail)."""
        version = expected_version + 1
        audit.detail = {**audit.detail, "version": version}
        condition = model.pk.exists() & _version_is(model.settings_version, expected_version)
        self._write(item, [*actions, model.settings_version.set(version)], condition, audit, what)
        return version

    def _write(
        self, item: Any, actions: list[Any], condition: Condition, audit: AuditEvent, what: str
    ) -> None:
        try:
            with TransactWrite(connection=self._connection) as tx:
                tx.update(item, actions=actions, condition=condition)
                tx.save(audit, condition=AuditEvent.pk.does_not_exist())
        except TransactWriteError as exc:
            # PynamoDB sends puts before updates: the audit put is first, the item update last.
            if failed_at(exc, 1):
                raise SettingsVersionConflictError.of(what) from exc
            raise

    @staticmethod
    def _audit(
        company_id: str, actor: str, action: str, target: str, detail: dict[str, Any], at: datetime
    ) -> AuditEvent:
        event_id = f"set-{secrets.token_hex(6)}"
        return audit_event(company_id, event_id, actor, action, target, detail, at)

    @staticmethod
    def audit_trail(company_id: str, limit: int = MAX_TRAIL) -> list[AuditEvent]:
        """The company's newest audit events (pattern 24)."""
        return AuditLog().trail(company_id, limit)
