"""Keys: built in one place, always company-scoped, never forgeable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.data import keys
from chalicelib.data.errors import InvalidIdentifierError

ids = st.from_regex(r"[A-Za-z0-9_.:@+=/-]{1,128}", fullmatch=True)
meter_ids = st.from_regex(r"[A-Za-z0-9_-]{1,17}", fullmatch=True)


@given(company=ids, other=ids, meter=meter_ids)
def test_company_scoped_keys_start_with_their_company(company: str, other: str, meter: str) -> None:
    built = [
        keys.company_pk(company),
        keys.account_pk(company, other),
        keys.meter_data_pk(company, meter),
        keys.notifications_pk(company),
        keys.audit_pk(company),
        keys.units_of_property_gsi1pk(company, other),
        keys.tenancies_of_tenant_gsi2pk(company, other),
    ]
    for key in built:
        assert key.split("#")[:2] == ["CO", company]


@pytest.mark.parametrize("bad", ["", "a#b", "x" * 129, "a b", "ünï", "a?b", "a\nb"])
def test_ids_that_could_forge_or_break_a_key_are_refused(bad: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        keys.company_pk(bad)
    with pytest.raises(InvalidIdentifierError):
        keys.account_pk("co", bad)


def test_timestamps_in_keys_sort_as_time_and_refuse_naive() -> None:
    t0 = datetime(2026, 11, 28, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    t1 = datetime(2026, 11, 28, 1, 0, 0, 1000, tzinfo=UTC)  # same instant as t0, +1 ms
    assert keys.cycle_bound_sk(t0) < keys.cycle_bound_sk(t1)
    assert keys.cycle_bound_sk(t0) == "CYC#2026-11-28T01:00:00.000Z"
    with pytest.raises(InvalidIdentifierError):
        keys.cycle_bound_sk(datetime(2026, 11, 28))


def test_ledger_entry_key_depends_on_the_entry_id_only() -> None:
    """A replay must land on the same key, whatever else it carries."""
    assert keys.ledger_entry_sk("topup-123") == "E#topup-123"


def test_meter_ids_fit_the_telemetry_contract() -> None:
    """The telemetry schema caps meter ids at 17 characters; the store agrees."""
    import json
    from pathlib import Path

    schema = json.loads(
        (Path(__file__).resolve().parents[3] / "iot_rules/schemas/telemetry.v1.json").read_text()
    )
    pattern = schema["$defs"]["meter"]["properties"]["i"]["pattern"]
    assert pattern == keys._METER_ID.pattern
    assert keys.meter_sk("m-khh-office-2") == "MTR#m-khh-office-2"
    with pytest.raises(InvalidIdentifierError):
        keys.meter_sk("m" * 18)


def test_key_prefixes_are_written_in_keys_py_only() -> None:
    """A prefix typed by hand elsewhere (``"GW#"``) drifts from the builder: every key
    and key prefix of the table is spelled in data/keys.py alone."""
    import re
    from pathlib import Path

    import chalicelib

    root = Path(chalicelib.__file__).parent
    literal = re.compile(r"""["'][A-Z][A-Z0-9]{0,15}#""")
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for path in root.rglob("*.py")
        if path.name != "keys.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if literal.search(line)
    ]
    assert not offenders, f"key prefixes written outside data/keys.py: {offenders}"


@given(reseller=ids, other=ids)
def test_idempotency_records_are_partitioned_by_their_reseller(reseller: str, other: str) -> None:
    """One reseller's idempotency key can never reach another's record."""
    assert keys.idempotency_pk(reseller) == f"{keys.reseller_pk(reseller)}#IDEM"
    assert (keys.idempotency_pk(reseller) == keys.idempotency_pk(other)) == (reseller == other)
    with pytest.raises(InvalidIdentifierError):
        keys.idempotency_pk(f"{reseller}#IDEM")
