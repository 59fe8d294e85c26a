"""``assemble`` builds each meter's context without the dataclass constructor (issue 19,
CPU): what it builds must be what ``MeterContext(...)`` builds, the plain copies too."""

from __future__ import annotations

import json
from datetime import date

from chalicelib.data.bus_item import CatalogueParts, pack, unpack
from chalicelib.pipeline.context import MeterContext, assemble
from tests.bus_parts import VACANT, bus_parts

CO = "co-asm"
FLAT = {"kind": "flat", "tariff_id": "flat", "currency": "TWD", "price_per_kwh": "5.00"}


def parts() -> CatalogueParts:
    """Prepaid and postpaid units; u2 vacant, t3 moved out before the day assembled."""
    return bus_parts(
        CO,
        [
            {"billing_mode": "prepaid", "tariff": dict(FLAT)},
            {"billing_mode": "postpaid", "tariff": dict(FLAT)},
            {"billing_mode": "prepaid", "tariff": dict(FLAT), "tenancy": VACANT},
            {"billing_mode": "prepaid", "tariff": dict(FLAT), "tenancy": {"ends_on": "2026-11-10"}},
        ],
    )


def test_each_meter_context_is_the_one_the_constructor_builds() -> None:
    today = date(2026, 11, 20)
    for source in (parts(), unpack(json.loads(json.dumps(pack(parts()))))):
        bus = assemble(source, today)
        for meter_id, built in bus.meters.items():
            expected = MeterContext(
                built.meter,
                built.unit,
                built.tenancy,
                built.tariff,
                built.timeline,
                built.cycle,
                built.tariff_digest,
            )
            assert built == expected
            assert (built.account_id, built.prepaid) == (expected.account_id, expected.prepaid)
            assert vars(built) == vars(expected), meter_id
        # and the facts the plain copies hold
        assert [(m.account_id, m.prepaid) for m in bus.meters.values()] == [
            ("a0", True),
            ("a1", False),  # postpaid
            (None, False),  # vacant
            (None, False),  # the tenancy ended
            (None, False),  # no unit
        ]
        assert bus.meters["m0"].tariff is bus.meters["m1"].tariff  # one document, parsed once
