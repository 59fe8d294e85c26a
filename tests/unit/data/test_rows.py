"""The rows a bus context holds (data/rows.py) declare what data/models.py stores: a model
attribute added, renamed or retyped without its row fails here. A row reads and writes
its values as a PynamoDB item does, and importing the rows loads nothing of PynamoDB."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)

import chalicelib
from chalicelib.data import builders
from chalicelib.data.models import (
    Company,
    CompressedJSONAttribute,
    Gateway,
    GatewayCycle,
    GatewayState,
    GatewayUsage,
    Meter,
    PowerletItem,
    Property,
    Tenancy,
    Unit,
    UsageMonth,
)
from chalicelib.data.rows import (
    CONTEXT_ROWS,
    WIRE_ROWS,
    CompanyRow,
    GatewayCycleRow,
    GatewayRow,
    GatewayStateRow,
    GatewayUsageRow,
    MeterRow,
    PropertyRow,
    Row,
    TenancyRow,
    UnitRow,
    UsageMonthRow,
    row_of,
)

MODEL_OF: dict[type[Row], type[PowerletItem]] = {
    CompanyRow: Company,
    PropertyRow: Property,
    UnitRow: Unit,
    GatewayRow: Gateway,
    MeterRow: Meter,
    TenancyRow: Tenancy,
    GatewayCycleRow: GatewayCycle,
    GatewayUsageRow: GatewayUsage,
    GatewayStateRow: GatewayState,
    UsageMonthRow: UsageMonth,
}
# The python value each attribute type reads as (JSON: any document).
PYTHON_TYPE = {
    UnicodeAttribute: "str",
    NumberAttribute: "int",
    BooleanAttribute: "bool",
    UTCDateTimeAttribute: "datetime",
    UnicodeSetAttribute: "set[str]",
}


def declared(attribute: Attribute[Any]) -> str:
    """The annotation a row declares for a model attribute."""
    if isinstance(attribute, JSONAttribute | CompressedJSONAttribute):
        return "Any"  # a document of any shape (None included)
    if isinstance(attribute, ListAttribute):
        of = attribute.element_type
        assert of is not None
        text = f"list[{PYTHON_TYPE[of]}]"
    else:
        text = PYTHON_TYPE[type(attribute)]
    return f"{text} | None" if attribute.null else text


def test_every_kind_a_context_holds_or_the_wire_carries_has_its_row() -> None:
    assert {*CONTEXT_ROWS, *WIRE_ROWS} == set(MODEL_OF)


@pytest.mark.parametrize("row", [*CONTEXT_ROWS, *WIRE_ROWS], ids=lambda r: r.__name__)
def test_a_row_declares_every_stored_attribute_of_its_model_with_its_type(
    row: type[Row],
) -> None:
    # GIVEN the model the row stands for  WHEN its attributes are read from PynamoDB
    model = MODEL_OF[row]
    stored = {
        name: declared(attribute)
        for name, attribute in model.get_attributes().items()
        if name != "kind"  # the model class itself: a row's class says it
    }
    # THEN the row declares the same names with the same types, and the same kind
    assert stored == row.FIELDS
    assert model._get_discriminator_attribute().serialize(model) == row.KIND  # type: ignore[union-attr]
    # and each attribute's stored name, and which documents are compressed
    attributes = model.get_attributes()
    assert {n: row.STORED.get(n, n) for n in stored} == {n: attributes[n].attr_name for n in stored}
    compressed = {n for n in stored if isinstance(attributes[n], CompressedJSONAttribute)}
    assert compressed == row.COMPRESSED


def test_the_check_fails_for_a_renamed_or_retyped_attribute() -> None:
    # GIVEN a model whose attribute was renamed and another retyped (the check must bite)
    renamed = {**MeterRow.FIELDS, "meter_no": MeterRow.FIELDS["meter_id"]}
    del renamed["meter_id"]
    assert renamed != {n: declared(a) for n, a in Meter.get_attributes().items() if n != "kind"}
    assert declared(NumberAttribute(null=True)) != MeterRow.FIELDS["meter_id"]


def test_a_row_reads_and_writes_as_the_model_does() -> None:
    # GIVEN a meter read by PynamoDB and its row
    meter = Meter.from_raw_data(
        builders.meter("co", "m1", "gw1", 3, unit_id="u1", profile="dds238").serialize()
    )
    row = row_of(MeterRow, meter)
    # THEN an absent attribute reads None on both, a present one the same value
    assert row.last_error is None and meter.last_error is None
    assert row.bus_address == meter.bus_address == 3
    assert "kind" not in row.attribute_values
    # WHEN both are written the same way
    at = datetime(2026, 12, 1, tzinfo=UTC)
    for item in (meter, row):
        item.online = True
        item.last_error = None
        item.profile_versions_at = at
    # THEN they hold the same values, and the model did not change with the row (a copy)
    assert {k: v for k, v in meter.attribute_values.items() if k != "kind"} == (
        row.attribute_values
    )
    row.serial = "SN-9"
    assert meter.serial is None
    # and, as models, rows are equal and hashed by identity
    again = MeterRow(dict(row.attribute_values))
    assert again != row and again.attribute_values == row.attribute_values
    assert len({row, again}) == 2


def test_importing_the_rows_loads_nothing_of_pynamodb_or_botocore() -> None:
    code = (
        "import sys, chalicelib.data.rows; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pynamodb', 'botocore', 'urllib3')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(Path(chalicelib.__file__).parents[1])},
    )
    assert done.stdout.strip() == "[]"
