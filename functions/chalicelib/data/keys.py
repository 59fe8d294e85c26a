"""The one place that builds DynamoDB keys.

Every item lives in one table (``pk``/``sk`` plus two generic GSIs). Every
partition key that holds company data starts with ``CO#<company_id>``, so a key
built from the verified identity's company can only ever reach that company's
items. Identifiers are validated here: a ``#`` smuggled into an id could
otherwise forge another key's prefix.

The access patterns these keys serve are listed in ``docs/data-model.md``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from .errors import InvalidIdentifierError

_ID = re.compile(r"^[A-Za-z0-9_.:@+=/-]{1,128}$")

SEP = "#"


# A meter id travels in every telemetry message; 17 characters is the longest
# that keeps 32 meters under 5 KB (iot_rules/schemas/telemetry.v1.json, "i").
_METER_ID = re.compile(r"^[A-Za-z0-9_-]{1,17}$")


def check_meter_id(value: str) -> str:
    if not isinstance(value, str) or not _METER_ID.fullmatch(value):
        raise InvalidIdentifierError(f"meter_id {value!r} must match {_METER_ID.pattern}")
    return value


def check_id(value: str, what: str = "id") -> str:
    """Refuse an identifier that is empty, too long or could forge a key."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidIdentifierError(f"{what} {value!r} must match {_ID.pattern}")
    return value


def _join(*parts: str) -> str:
    return SEP.join(parts)


# --- company-level partition: the company's catalogue (small, mostly reads) ---


COMPANY_PREFIX = "CO"


def company_pk(company_id: str) -> str:
    return _join(COMPANY_PREFIX, check_id(company_id, "company_id"))


def company_id_of_pk(pk: str) -> str:
    """The company id a company partition key names; InvalidIdentifierError if ``pk``
    is not exactly such a key (a hand-made cursor, say)."""
    prefix = COMPANY_PREFIX + SEP
    company_id = pk[len(prefix) :] if pk.startswith(prefix) else ""
    if company_pk(company_id) != pk:
        raise InvalidIdentifierError(f"{pk!r} is not a company key")
    return company_id


COMPANY_SK = "COMPANY"
BRAND_SK = "BRAND"


def host_pk(host: str) -> str:
    """Brand resolution by request host happens before sign-in, so it is the one
    lookup keyed by something other than the company; the item's sort key names
    the company it points to."""
    return _join("HOST", host.lower())


def reseller_pk(reseller_id: str) -> str:
    return _join("RS", check_id(reseller_id, "reseller_id"))


RESELLER_SK = "RESELLER"


MEMBER_PREFIX = "MEMBER" + SEP
PROPERTY_PREFIX = "PROP" + SEP
GATEWAY_PREFIX = "GW" + SEP


def member_sk(user_sub: str) -> str:
    return MEMBER_PREFIX + check_id(user_sub, "user_sub")


def property_sk(property_id: str) -> str:
    return PROPERTY_PREFIX + check_id(property_id, "property_id")


UNIT_PREFIX = "UNIT" + SEP


def unit_sk(unit_id: str) -> str:
    return UNIT_PREFIX + check_id(unit_id, "unit_id")


def gateway_sk(gateway_id: str) -> str:
    return GATEWAY_PREFIX + check_id(gateway_id, "gateway_id")


def meter_sk(meter_id: str) -> str:
    return _join("MTR", check_meter_id(meter_id))


METER_PROFILE_PREFIX = "PROFILE#"


def meter_profile_sk(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
        raise InvalidIdentifierError(f"profile name: {name[:40]!r} is not [a-z0-9_]{{1,32}}")
    return METER_PROFILE_PREFIX + name


def tenancy_sk(tenancy_id: str) -> str:
    return _join("TEN", check_id(tenancy_id, "tenancy_id"))


# --- GSI1: "children of" lookups within a company ---


def units_of_property_gsi1pk(company_id: str, property_id: str) -> str:
    return _join(company_pk(company_id), "PROP", check_id(property_id, "property_id"))


def meters_of_gateway_gsi1pk(company_id: str, gateway_id: str) -> str:
    return _join(company_pk(company_id), "GW", check_id(gateway_id, "gateway_id"))


def tenancies_of_unit_gsi1pk(company_id: str, unit_id: str) -> str:
    return _join(company_pk(company_id), "UNIT", check_id(unit_id, "unit_id"))


def meter_address_gsi1sk(bus_address: int) -> str:
    return _join("ADDR", f"{int(bus_address):03d}")


def tenancy_start_gsi1sk(
    starts_on_iso: str, tenancy_id: str, starts_at_ms: int | None = None
) -> str:
    """Newest start first on the unit's tenancies: the date, then (for tenancies that
    carry a start instant) the instant's UTC milliseconds, so two tenancies of one day
    sort by when they began. A date-only key (``START#<day>#<id>``) sorts before every
    instant of its day ('#' < 'T'), as its start of day does."""
    day = starts_on_iso if starts_at_ms is None else f"{starts_on_iso}T{starts_at_ms:015d}"
    return _join("START", day, check_id(tenancy_id, "tenancy_id"))


def thing_gsi1pk(thing_name: str) -> str:
    """Ingest knows only the thing name (from the topic); this resolves it to
    the gateway item, which carries its company."""
    return _join("THING", check_id(thing_name, "thing_name"))


def companies_of_reseller_gsi1pk(reseller_id: str) -> str:
    return _join(reseller_pk(reseller_id), "COMPANIES")


def memberships_of_user_gsi1pk(user_sub: str) -> str:
    return _join("USER", check_id(user_sub, "user_sub"))


# --- GSI2: a tenant's tenancies ---


def tenancies_of_tenant_gsi2pk(company_id: str, tenant_sub: str) -> str:
    return _join(company_pk(company_id), "TENANT", check_id(tenant_sub, "tenant_sub"))


# --- account partition: one per account; holds the balance and its ledger ---


def account_pk(company_id: str, account_id: str) -> str:
    return _join(company_pk(company_id), "ACC", check_id(account_id, "account_id"))


ACCOUNT_SK = "ACCOUNT"


def ledger_entry_sk(entry_id: str) -> str:
    """Keyed by the producer's entry id alone, so a replay lands on the same key
    and the conditional put turns it into a no-op, forever."""
    return _join("E", check_id(entry_id, "entry_id"))


LEDGER_ENTRY_PREFIX = "E#"


LEDGER_TIME_PREFIX = "T" + SEP


def ledger_time_gsi2sk(occurred_at: datetime, entry_id: str) -> str:
    return LEDGER_TIME_PREFIX + _join(_ts(occurred_at), entry_id)


def ledger_time_bound_gsi2sk(at: datetime) -> str:
    """A sort-key bound: every entry that occurred at or after ``at`` sorts after it."""
    return LEDGER_TIME_PREFIX + _ts(at)


def bill_sk(period_start_iso: str) -> str:
    return _join("BILL", period_start_iso)


BILL_PREFIX = "BILL#"


# --- meter partition: relay commands ---


def meter_data_pk(company_id: str, meter_id: str) -> str:
    return _join(company_pk(company_id), "MTR", check_meter_id(meter_id))


def interval_sk(bucket_start: datetime) -> str:
    return _join("U15", _ts(bucket_start))


RELAY_COMMAND_PREFIX = "CMD" + SEP
HELD_READING_PREFIX = "HOLD" + SEP


def held_reading_sk(read_at: datetime) -> str:
    """A reading validation held back, in time order in the meter's partition."""
    return HELD_READING_PREFIX + _ts(read_at)


def relay_command_sk(issued_at: datetime, command_id: str) -> str:
    return RELAY_COMMAND_PREFIX + _join(_ts(issued_at), check_id(command_id, "command_id"))


# --- company event streams: outbox and audit trail ---


def notifications_pk(company_id: str) -> str:
    return _join(company_pk(company_id), "NTF")


def open_alerts_pk(company_id: str) -> str:
    """The company's open conditions, one item per alert id (a few dozen at most)."""
    return _join(company_pk(company_id), "ALERTS")


def open_alert_sk(alert_id: str) -> str:
    return check_id(alert_id, "alert_id")


def notifications_of_tenant_gsi1pk(company_id: str, tenant_sub: str) -> str:
    """A tenant's own alerts, newest first by the outbox item's event sk."""
    return _join(company_pk(company_id), "NTF", "TENANT", check_id(tenant_sub, "tenant_sub"))


def audit_pk(company_id: str) -> str:
    return _join(company_pk(company_id), "AUDIT")


def event_sk(at: datetime, event_id: str) -> str:
    return _join(_ts(at), check_id(event_id, "event_id"))


# --- gateway data partition: telemetry cycles, 15-minute usage, control state ---


def gateway_data_pk(company_id: str, gateway_id: str) -> str:
    """One partition per gateway holds its telemetry: a bus is written once per
    cycle for all its meters (see docs/pipeline.md for the write budget)."""
    return _join(company_pk(company_id), "GWD", check_id(gateway_id, "gateway_id"))


CYCLE_PREFIX = "CYC#"
GATEWAY_USAGE_PREFIX = "U15#"
# "~" sorts after "#": the bus item comes right after the newest cycle, so one Query
# (descending, limit 2) reads both (data/bus_item.py).
GATEWAY_STATE_SK = "CYC~STATE"


def cycle_sk(cycle_at: datetime, spool_id: str, seq: int) -> str:
    """Time first so cycles sort by the gateway's clock; (spool id, sequence)
    after it so the message id alone decides the key and a replay meets the
    same item."""
    return _join("CYC", _ts(cycle_at), check_id(spool_id, "spool_id"), f"{int(seq):012d}")


def cycle_bound_sk(at: datetime) -> str:
    """A sort-key bound: every cycle at or after ``at`` sorts after it."""
    return _join("CYC", _ts(at))


def gateway_usage_sk(bucket_start: datetime) -> str:
    return _join("U15", _ts(bucket_start))


GATEWAY_USAGE_DAY_PREFIX = "UD#"


def gateway_usage_day_sk(local_day: date) -> str:
    """A bus's energy per meter in one local day of its property (charts, docs/portal.md)."""
    if not isinstance(local_day, date) or isinstance(local_day, datetime):
        raise InvalidIdentifierError("a usage day is a date")
    return _join("UD", local_day.isoformat())


# --- indexes for the schedules (never Scan) ---

ALL_COMPANIES_GSI2PK = "COMPANIES"


def accounts_of_company_gsi1pk(company_id: str) -> str:
    return _join(company_pk(company_id), "ACCOUNTS")


def account_gsi1sk(account_id: str) -> str:
    return _join("ACC", check_id(account_id, "account_id"))


def _ts(at: datetime) -> str:
    """Sortable UTC timestamp with milliseconds; naive datetimes are refused."""
    if at.tzinfo is None:
        raise InvalidIdentifierError("timestamps in keys must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


# --- portal: browser sessions and sign-in throttling (own partitions, TTL'd) ---


def web_session_pk(session_digest: str) -> str:
    """Keyed by the sha256 of the cookie's session id, so the table never holds
    a usable session id."""
    return _join("WEBSESSION", check_id(session_digest, "session_digest"))


WEB_SESSION_SK = "SESSION"


def sign_in_throttle_pk(scope: str, subject_digest: str) -> str:
    """``scope`` is ``account`` or ``client``; the subject (email, client
    address) is hashed so neither is stored in the clear."""
    return _join("THROTTLE", check_id(scope, "scope"), check_id(subject_digest, "subject"))


def sign_in_window_sk(window_index: int) -> str:
    return _join("W", f"{int(window_index):012d}")


def trusted_device_pk(token_digest: str) -> str:
    """A browser that signed in before, keyed by the sha256 of its device cookie."""
    return _join("DEVICE", check_id(token_digest, "device_digest"))


TRUSTED_DEVICE_SK = "DEVICE"


# --- brands and the reseller API (see docs/brands.md) ---


def brand_slug_pk(slug: str) -> str:
    """The ``/b/<slug>/`` fallback resolves a brand before sign-in, like a host."""
    return _join("SLUG", check_id(slug, "slug"))


SLUG_SK = "SLUG"


def api_key_pk(key_id: str) -> str:
    """Looked up by the key's non-secret id (the part after ``plr_``): one GetItem."""
    return _join("APIKEY", check_id(key_id, "key_id"))


API_KEY_SK = "APIKEY"


def keys_of_reseller_gsi1pk(reseller_id: str) -> str:
    return _join(reseller_pk(reseller_id), "KEYS")


def api_rate_pk(key_id: str) -> str:
    return _join("APIRATE", check_id(key_id, "key_id"))


def idempotency_pk(reseller_id: str) -> str:
    """One partition per reseller holds the idempotency records of its creates
    (Powertools Idempotency's ``static_pk_value``), so the reseller is part of
    every record's key and one reseller's key can never meet another's record."""
    return _join(reseller_pk(reseller_id), "IDEM")


# Powertools writes the sort key itself as ``<prefix>#<sha256 of the client's key>``:
# any string the client picks becomes a safe key part.
IDEMPOTENCY_SK_PREFIX = "IDEM"


def usage_pk(company_id: str) -> str:
    """Per-month usage counters of one company, maintained at write time."""
    return _join(company_pk(company_id), "USAGE")


RECEIPT_COUNTER_SK = "RECEIPTS"  # under company_pk: the company's last receipt number


def _month(month: str) -> str:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise InvalidIdentifierError(f"month {month!r} must be YYYY-MM")
    return month


def usage_month_sk(month: str) -> str:
    return _join("M", _month(month))


def usage_gateway_month_prefix(month: str) -> str:
    """The month's per-gateway message counters. "MG" sorts after every "M#<month>", so
    a Query of the months up to one (``sk <= M#<month>``) never meets them."""
    return _join("MG", _month(month), "")


def usage_gateway_month_sk(month: str, gateway_id: str) -> str:
    """One gateway's stored messages in a month: its bucket closes ADD here, in the
    transaction that writes the bucket, so no two gateways' transactions share an item
    (docs/brands.md, "Usage report")."""
    return usage_gateway_month_prefix(month) + check_id(gateway_id, "gateway_id")


# One binding item per host under a fixed sort key, so a conditional put makes
# a custom domain belong to exactly one company.
HOST_BINDING_SK = "HOST"


def host_claim_sk(company_id: str) -> str:
    """One company's pending claim of a host, beside the host's binding: several
    companies may claim a domain; the one that proves its DNS gets the binding."""
    return _join("CLAIM", check_id(company_id, "company_id"))


# A dropped custom domain whose AWS resources (certificate, custom domain, mapping) are
# still to be deleted: under the company, so its retries find them with one Query.
DOMAIN_RELEASE_PREFIX = "RELEASE"


def domain_release_sk(host: str) -> str:
    return _join(DOMAIN_RELEASE_PREFIX, host.lower())


# --- deadlines (the sparse ``due`` index, data/deadlines.py) ---

DUE_PREFIX = "DUE" + SEP
DUE_KINDS = frozenset({"relay", "silence", "meter"})


def due_pk(kind: str, due_at: datetime, shard: int) -> str:
    """One partition per kind, UTC day and shard: a day's deadlines spread over the
    shards, so a burst of commands (friendly hours ending at 09:00 for a whole city) is
    not one hot index partition."""
    if kind not in DUE_KINDS:
        raise InvalidIdentifierError(f"deadline kind {kind!r} is not one of {sorted(DUE_KINDS)}")
    return DUE_PREFIX + _join(kind, due_at.astimezone(UTC).strftime("%Y%m%d"), str(shard))


def due_sk(due_at: datetime, company_id: str, gateway_id: str, meter_id: str = "-") -> str:
    """Sorted by time (ms, fixed width), then what it concerns: the index holds keys
    only, so the sweep learns company, gateway and meter from here."""
    when = f"{int(due_at.timestamp() * 1000):013d}"
    meter = meter_id if meter_id == "-" else check_meter_id(meter_id)
    return _join(
        when, check_id(company_id, "company_id"), check_id(gateway_id, "gateway_id"), meter
    )


def due_until_sk(at: datetime) -> str:
    """The upper bound of a due query: every deadline at or before ``at``."""
    return f"{int(at.timestamp() * 1000):013d}" + SEP + "~"
