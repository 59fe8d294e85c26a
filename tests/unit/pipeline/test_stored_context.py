"""A steady message's bus context is built from the bus item's steady record
(``assemble_stored``), not assembled from every catalogue item: GIVEN any bus (tenancies
ending, tariffs with versions to come, thresholds of unit, property or company) and any
day, WHEN its record is read on a day it is valid, THEN every meter's context is the one
``assemble`` builds from the same parts that day (account, prepaid, priced, the due mark's
digest, and the tenancy, tariff and cycle loaded on first access); on a day it is not
valid, no context is built from it and the caller assembles (issue 19)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.data import builders
from chalicelib.data.bus_item import CatalogueParts, StoredParts, pack
from chalicelib.pipeline.context import (
    StoredBusContext,
    assemble,
    assemble_stored,
    steady_record,
)
from chalicelib.pipeline.settle_due import meter_digest
from tests.bus_parts import bus_parts

CO = "co-rec"
FLAT = {"kind": "flat", "tariff_id": "flat", "currency": "TWD", "price_per_kwh": "5.00"}
DEARER = {"kind": "flat", "tariff_id": "dearer", "currency": "TWD", "price_per_kwh": "6.00"}
DAY0 = date(2026, 11, 20)


def versioned(change_on: date) -> dict[str, Any]:
    """A tariff whose price changes on ``change_on``."""
    return {
        "versions": [
            {"effective_from": "2026-01-01", "tariff": FLAT},
            {"effective_from": change_on.isoformat(), "tariff": DEARER},
        ]
    }


def parts(
    modes: list[str], ends: list[int | None], tariffs: list[str], unit_levels: list[bool]
) -> CatalogueParts:
    documents = {
        "flat": lambda: dict(FLAT),
        "none": dict,
        "versioned": lambda: versioned(DAY0 + timedelta(days=2)),
    }
    return bus_parts(
        CO,
        [
            {
                "billing_mode": mode,
                "tariff": documents[tariffs[n]](),
                "tenancy": {} if end is None else {"ends_on": str(DAY0 + timedelta(days=end))},
                **({"low_credit_thresholds_minor": [700, 300]} if unit_levels[n] else {}),
            }
            for n, (mode, end) in enumerate(zip(modes, ends, strict=True))
        ],
        premises=builders.taipei_property(CO, emergency_credit_minor=500),
        owner=builders.company(
            CO, "Co", datetime(2026, 11, 1, tzinfo=UTC), low_credit_thresholds_minor=[5000]
        ),
    )


def stored(original: CatalogueParts, on: date) -> StoredParts:
    """The parts as a message reads them, their record worked out on ``on``."""
    record = steady_record(assemble(original, on), original, on)
    return StoredParts(json.loads(json.dumps(pack(original, record))))


@settings(max_examples=80, deadline=None)
@given(
    meters=st.lists(
        st.tuples(
            st.sampled_from(["prepaid", "postpaid"]),
            st.one_of(st.none(), st.integers(-2, 4)),
            st.sampled_from(["flat", "none", "versioned"]),
            st.booleans(),
        ),
        min_size=1,
        max_size=5,
    ),
    stored_on=st.integers(0, 1),
    read_after=st.integers(-1, 4),
    period_h=st.sampled_from([6, 6.0, 1]),
)
def test_a_context_built_from_the_record_is_the_assembled_one(
    meters: list[tuple[str, int | None, str, bool]],
    stored_on: int,
    read_after: int,
    period_h: float,
) -> None:
    modes, ends, tariffs, levels = (list(x) for x in zip(*meters, strict=True))
    original = parts(modes, ends, tariffs, levels)
    on = DAY0 + timedelta(days=stored_on)
    today = on + timedelta(days=read_after)
    read = stored(original, on)
    assert read.steady is not None
    expected = assemble(read.whole(), today)

    built = assemble_stored(read, today, read.whole)

    changes = [DAY0 + timedelta(days=e) for e in ends if e is not None]
    changes += [DAY0 + timedelta(days=2)] * tariffs.count("versioned")
    valid = today >= on and all(not on < change <= today for change in changes)
    if not valid:
        assert built is None  # the caller assembles every part
        return
    assert isinstance(built, StoredBusContext)
    assert list(built.meters) == list(expected.meters)
    for meter_id, context in built.meters.items():
        full = expected.meters[meter_id]
        assert context.meter is full.meter and context.unit is full.unit
        assert (context.account_id, context.prepaid, context.has_tariff) == (
            full.account_id,
            full.prepaid,
            full.tariff is not None,
        )
        # the digest the steady check compares a mark's basis with, without assembling
        assert meter_digest(built, context, period_h) == meter_digest(expected, full, period_h)
    assert built.company_id == expected.company_id and built.tz == expected.tz
    # the rest is loaded on first access, and is the assembled context's
    for meter_id, context in built.meters.items():
        full = expected.meters[meter_id]
        assert context.tenancy is full.tenancy
        assert context.tariff == full.tariff and context.timeline == full.timeline
        assert (context.cycle, context.tariff_digest) == (full.cycle, full.tariff_digest)
    assert built.company is read.whole().company


def test_a_steady_message_decodes_neither_company_nor_tenancies() -> None:
    # GIVEN a bus stored with its record
    original = parts(["prepaid", "postpaid"], [None, 3], ["flat", "versioned"], [False, True])
    read = stored(original, DAY0)
    loaded: list[str] = []

    def whole() -> CatalogueParts:
        loaded.append("whole")
        return read.whole()

    # WHEN its context is built and the steady path reads what it reads
    bus = assemble_stored(read, DAY0, whole)
    assert bus is not None
    seen = [
        (
            context.meter.attribute_values,
            context.unit,
            context.account_id,
            context.prepaid,
            context.has_tariff,
            meter_digest(bus, context, 6),
            bus.tz,
            bus.company_id,
        )
        for context in bus.meters.values()
    ]
    assert len(seen) == 3
    # THEN nothing else was decoded
    assert loaded == [] and read._whole is None
    # AND the first tenancy asked for loads every part, once
    assert bus.meters["m0"].tenancy is read.whole().tenancies["t0"]
    assert bus.meters["m1"].tariff is not None and loaded == ["whole"]


def test_a_record_missing_a_meter_or_of_another_shape_is_not_used() -> None:
    original = parts(["prepaid"], [None], ["flat"], [False])
    read = stored(original, DAY0)
    assert read.steady is not None
    del read.steady["meters"]["m-spare"]
    assert assemble_stored(read, DAY0, read.whole) is None
    read = stored(original, DAY0)
    assert read.steady is not None
    read.steady["meters"]["m0"] = ["a0", True, True]  # an older record's shape
    assert assemble_stored(read, DAY0, read.whole) is None
    read.steady = None  # stored without one (a pack of store_context without a record)
    assert assemble_stored(read, DAY0, read.whole) is None
