"""``assemble`` builds each meter's context without the dataclass constructor (issue 19,
CPU): what it builds must be what ``MeterContext(...)`` builds, the plain copies too."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from chalicelib.data import builders
from chalicelib.data.bus_item import CatalogueParts, pack, unpack
from chalicelib.pipeline.context import MeterContext, assemble

CO = "co-asm"
FLAT = {"kind": "flat", "tariff_id": "flat", "currency": "TWD", "price_per_kwh": "5.00"}


def parts() -> CatalogueParts:
    units, tenancies, meters = {}, {}, []
    modes = ["prepaid", "postpaid", "prepaid", "prepaid"]
    for n, mode in enumerate(modes):
        meters.append(builders.meter(CO, f"m{n}", "gw1", n + 1, unit_id=f"u{n}", profile="x"))
        units[f"u{n}"] = builders.unit(
            CO,
            f"u{n}",
            "p1",
            name=f"u{n}",
            unit_type="flat",
            billing_mode=mode,
            tariff=dict(FLAT),
            **({"tenancy_id": f"t{n}"} if n != 2 else {}),  # u2: vacant
        )
        tenancies[f"t{n}"] = builders.tenancy(
            CO,
            f"t{n}",
            f"u{n}",
            f"sub{n}",
            "2026-11-01",
            account_id=f"a{n}",
            **({"ends_on": "2026-11-10"} if n == 3 else {}),  # t3: moved out
        )
    meters.append(builders.meter(CO, "m-spare", "gw1", 9, profile="x"))  # no unit
    return CatalogueParts(
        gateway=builders.gateway(CO, "gw1", "thing-1", property_id="p1"),
        premises=builders.property_(CO, "p1", name="P", time_zone="Asia/Taipei"),
        company=builders.company(CO, "Co", datetime(2026, 11, 1, tzinfo=UTC)),
        meters=meters,
        units=units,
        tenancies=tenancies,
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
