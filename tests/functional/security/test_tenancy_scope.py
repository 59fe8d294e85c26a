"""A tenant sees their own tenancy only: not the previous tenant's relay commands and their
notes, not the days before their move-in (issue 16: the next tenant saw them). The reason
staff give for switching during the tenant's own tenancy is theirs to read."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from chalicelib.auth.principal import Principal, Role
from chalicelib.data.relay_log import RelayLog
from chalicelib.data.telemetry_store import TelemetryStore
from chalicelib.wiring.container import Container
from tests.functional.pipeline.rig import FLAT_TWD, MeterSpec, make_bus

pytestmark = pytest.mark.functional

# The rig's tenancies start on 2026-11-01 in Taipei (UTC+8): 2026-10-31T16:00Z.
BEFORE = datetime(2026, 10, 31, 2, 0, tzinfo=UTC)  # 10:00 on 31 Oct in Taipei
AFTER = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)  # 10:00 on 1 Nov in Taipei
NOW = datetime(2026, 11, 3, 4, 0, tzinfo=UTC)


def test_a_tenant_sees_nothing_from_before_the_tenancy(
    services: Container,
) -> None:
    # GIVEN a unit whose tenancy began on 1 Nov, a staff cut with a note on 31 Oct
    # (the previous tenant's), a restore with a note after the move-in, and usage either side
    bus = make_bus(services.ledger, [MeterSpec("m-s", "u-s", FLAT_TWD)])
    log = RelayLog()
    log.record(bus.company_id, "m-s", "c-old", "off", "manual", "user:staff", "rent owed", BEFORE)
    log.record(bus.company_id, "m-s", "c-new", "on", "manual", "user:staff", "checked", AFTER)
    store = TelemetryStore()
    store.put_usage(bus.company_id, bus.gateway_id, BEFORE, {"m-s": "5.000"})
    store.put_usage(bus.company_id, bus.gateway_id, AFTER, {"m-s": "1.250"})
    tenant = Principal(bus.company_id, bus.tenant_subs["u-s"], "t@example.com", Role.TENANT)
    admin = Principal(bus.company_id, "admin", "a@example.com", Role.COMPANY_ADMIN)
    # WHEN the tenant and staff read the unit
    mine = services.views.unit_detail(tenant, "u-s", NOW)
    staff = services.views.unit_detail(admin, "u-s", NOW)
    # THEN the tenant sees only the command of their tenancy, with its reason
    assert [c.command_id for c in mine.commands] == ["c-new"]
    assert mine.commands[0].note == "checked"
    # and usage from the move-in day on, none of the previous tenant's energy
    assert mine.usage[0].day.date().isoformat() == "2026-11-01"
    assert sum(d.energy_kwh for d in mine.usage) == Decimal("1.250")
    # while staff see the unit's whole history, notes included
    assert [c.command_id for c in staff.commands] == ["c-new", "c-old"]
    assert {c.note for c in staff.commands} == {"rent owed", "checked"}
    assert sum(d.energy_kwh for d in staff.usage) == Decimal("6.250")
