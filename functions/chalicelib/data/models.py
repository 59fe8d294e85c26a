"""PynamoDB models of the single Powerlet table.

One table, polymorphic items told apart by the ``kind`` discriminator. Keys are
never built here: every ``pk``/``sk``/``gsi*`` value comes from ``keys.py``.
The indexes are declared next to the attributes so the access patterns are
visible in one place (see ``docs/data-model.md``).

Money attributes are integer minor units (``*_minor``) with the currency beside
them; energy attributes are fixed-scale decimal strings (``*_kwh``) so no float
ever carries a reading.
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    DiscriminatorAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.constants import BINARY
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model


class Gsi1(GlobalSecondaryIndex["PowerletItem"]):
    """Children of a parent within a company; thing name -> gateway;
    reseller -> companies; user -> memberships."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Gsi2(GlobalSecondaryIndex["PowerletItem"]):
    """A tenant's tenancies; an account's ledger in time order."""

    class Meta:
        index_name = "gsi2"
        projection = AllProjection()

    gsi2pk = UnicodeAttribute(hash_key=True)
    gsi2sk = UnicodeAttribute(range_key=True)


class DueIndex(GlobalSecondaryIndex["PowerletItem"]):
    """Deadlines: a sparse index of the items that wait for a time (a relay command's
    confirmation, a gateway's first telemetry, a meter gone silent), by kind, UTC day and
    shard, sorted by when they fall due (``data/deadlines.py``). Keys only: an entry
    costs one write unit whatever the size of the item that carries it, and only items
    with a deadline are in it, so a sweep reads what is due and nothing else."""

    class Meta:
        index_name = "due"
        projection = KeysOnlyProjection()

    duepk = UnicodeAttribute(hash_key=True)
    duesk = UnicodeAttribute(range_key=True)


# The table's DynamoDB TTL attribute (unix seconds). The stack and the stand-in
# enable TTL on it (``local_aws/resources.py``), so every item that should expire
# writes it, PynamoDB models (``attr_name="ttl"``) and Powertools' records alike.
TTL_ATTRIBUTE = "ttl"


class PowerletItem(Model):
    class Meta:
        # Set by ``binding.bind_models`` from Settings before first use.
        table_name = "powerlet-unbound"
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    duepk = UnicodeAttribute(null=True)
    duesk = UnicodeAttribute(null=True)
    gsi1 = Gsi1()
    gsi2 = Gsi2()
    due = DueIndex()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready attributes without the key plumbing, for APIs and logs."""
        data: dict[str, Any] = {}
        for name, value in self.attribute_values.items():
            if name in _PLUMBING:
                continue
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, set | frozenset):
                value = sorted(value)
            data[name] = value
        return data


_PLUMBING = frozenset(
    {"pk", "sk", "kind", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "duepk", "duesk"}
)


# --- tenants of the platform ---


class Reseller(PowerletItem, discriminator="Reseller"):
    reseller_id = UnicodeAttribute()
    name = UnicodeAttribute()
    status = UnicodeAttribute(default="active")


class Company(PowerletItem, discriminator="Company"):
    company_id = UnicodeAttribute()
    name = UnicodeAttribute()
    reseller_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="active")  # active | suspended
    low_credit_thresholds_minor = ListAttribute(of=NumberAttribute, null=True)
    settings_version = NumberAttribute(default=0)  # optimistic concurrency of its thresholds
    created_at = UTCDateTimeAttribute()
    # gsi2: every company under ALL_COMPANIES, so schedules enumerate without a Scan.


class Brand(PowerletItem, discriminator="Brand"):
    company_id = UnicodeAttribute()
    slug = UnicodeAttribute()
    config = JSONAttribute()  # validated by branding's pydantic schema before it is stored


# A custom domain's binding: claimed (pending its DNS proof) or proven.
PENDING = "pending"
VERIFIED = "verified"


class HostBinding(PowerletItem, discriminator="HostBinding"):
    host = UnicodeAttribute()
    company_id = UnicodeAttribute()
    # pending until the DNS TXT challenge is met (branding/domain_challenge.py); only a
    # verified host resolves to its brand. None: claimed before challenges existed.
    status = UnicodeAttribute(null=True)
    challenge_token = UnicodeAttribute(null=True)
    verified_at = UTCDateTimeAttribute(null=True)
    # The ACM certificate requested for it once verified (application/custom_domains.py).
    certificate_arn = UnicodeAttribute(null=True)


class DomainRelease(PowerletItem, discriminator="DomainRelease"):
    """A custom domain the brand dropped while it was served: its certificate (and the
    custom domain made with it) are still to be deleted (application/custom_domains.py).
    Written in the transaction that drops the binding, deleted once the cleanup is done,
    so a cleanup that stopped half-way is found and retried."""

    host = UnicodeAttribute()
    company_id = UnicodeAttribute()
    certificate_arn = UnicodeAttribute()
    released_at = UTCDateTimeAttribute()


class HostClaim(PowerletItem, discriminator="HostClaim"):
    """One company's claim of a custom domain, pending its DNS challenge; it lapses
    ``CLAIM_DAYS`` after ``claimed_at`` (checked on read; TTL clears it later). Several
    companies may claim one domain: the one whose TXT record carries its token gets the
    host's binding (docs/security.md, "Domain claims")."""

    host = UnicodeAttribute()
    company_id = UnicodeAttribute()
    challenge_token = UnicodeAttribute()
    claimed_at = UTCDateTimeAttribute()
    expires_at = NumberAttribute(attr_name="ttl", null=True)  # DynamoDB TTL, unix seconds


class SlugBinding(PowerletItem, discriminator="SlugBinding"):
    """One per ``/b/<slug>/`` prefix: a slug belongs to one company at a time."""

    slug = UnicodeAttribute()
    company_id = UnicodeAttribute()


class Membership(PowerletItem, discriminator="Membership"):
    """A user's role in one company; ``property_ids`` scopes managers and landlords."""

    company_id = UnicodeAttribute()
    user_sub = UnicodeAttribute()
    email = UnicodeAttribute()
    display_name = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)  # E.164, for SMS alerts
    locale = UnicodeAttribute(null=True)  # en | zh_TW: the language of the user's e-mails
    # The channels a tenant chose for their alerts (email, sms); null: both (sms needs a phone).
    alert_channels = UnicodeSetAttribute(null=True)
    role = UnicodeAttribute()  # company_admin | property_manager | landlord | tenant
    property_ids = UnicodeSetAttribute(null=True)
    # The user's session epoch (unix ms): sessions opened and tokens authenticated
    # before it are refused (password change, global sign-out, disabled login).
    sessions_valid_from_ms = NumberAttribute(null=True)


# --- the company's catalogue ---


class Property(PowerletItem, discriminator="Property"):
    company_id = UnicodeAttribute()
    property_id = UnicodeAttribute()
    name = UnicodeAttribute()
    address = UnicodeAttribute()
    city = UnicodeAttribute()
    country = UnicodeAttribute()
    time_zone = UnicodeAttribute()
    currency = UnicodeAttribute()
    locale = UnicodeAttribute(default="en")
    landlord_subs = UnicodeSetAttribute(null=True)
    friendly_hours = JSONAttribute(null=True)  # the shadow's ``friendly`` object shape
    billing_cycle = JSONAttribute(null=True)  # domain BillingCycle; units without one use it
    emergency_credit_minor = NumberAttribute(default=0)
    # Null: the company's thresholds apply. Edited by the settings editor (portal/settings_edit.py).
    low_credit_thresholds_minor = ListAttribute(of=NumberAttribute, null=True)
    settings_version = NumberAttribute(default=0)  # optimistic concurrency of the settings editor
    # The building's main meter (a meter without a unit on one of its gateways) and the
    # daily loss against its unit meters that raises an alert (a decimal string, percent;
    # null: domain/energy_balance.py's default). docs/meters.md, "The building's main meter".
    main_meter_id = UnicodeAttribute(null=True)
    main_meter_loss_percent = UnicodeAttribute(null=True)
    # The utility tariff the landlord pays, for the resale check: {"template_id": ...} of a
    # packaged template (domain/templates.py); null: none entered. docs/tariffs.md.
    utility_tariff = JSONAttribute(null=True)


class Unit(PowerletItem, discriminator="Unit"):
    company_id = UnicodeAttribute()
    unit_id = UnicodeAttribute()
    property_id = UnicodeAttribute()
    name = UnicodeAttribute()
    unit_type = UnicodeAttribute()  # flat | room | shop | office
    billing_mode = UnicodeAttribute()  # prepaid | postpaid
    tariff = JSONAttribute()  # a tariff or a timeline of versions (domain/tariff_versions.py)
    billing_cycle = JSONAttribute(null=True)  # domain BillingCycle; null: the property's
    meter_id = UnicodeAttribute(null=True)
    account_id = UnicodeAttribute(null=True)  # the current tenancy's account
    tenancy_id = UnicodeAttribute(null=True)
    power = UnicodeAttribute(default="on")  # last confirmed relay state
    power_reason = UnicodeAttribute(null=True)
    # Null: the property's (else the company's) thresholds apply.
    low_credit_thresholds_minor = ListAttribute(of=NumberAttribute, null=True)
    settings_version = NumberAttribute(default=0)  # optimistic concurrency of the tariff editor
    # A wider supply than the meter model's own rating (validation's spike limit, in A).
    max_current_a = NumberAttribute(null=True)


class Gateway(PowerletItem, discriminator="Gateway"):
    company_id = UnicodeAttribute()
    gateway_id = UnicodeAttribute()
    thing_name = UnicodeAttribute()
    property_id = UnicodeAttribute()
    serial = JSONAttribute(null=True)  # bus settings for the component deployment
    online = BooleanAttribute(default=False)
    last_seen_at = UTCDateTimeAttribute(null=True)
    last_seq = NumberAttribute(default=-1)
    # Fleet provisioning (docs/deploy.md): SHA-256 of the one-time token the reseller got
    # at registration, until the pre-provisioning hook admits the device and removes it;
    # then when and with which certificate it was provisioned.
    provisioning_token_sha256 = UnicodeAttribute(null=True)
    provisioned_at = UTCDateTimeAttribute(null=True)
    certificate_id = UnicodeAttribute(null=True)
    # The bus's own main meter (docs/meters.md, "The building's main meter"): a meter on
    # this gateway with no unit, compared each day with the bus's other meters.
    main_meter_id = UnicodeAttribute(null=True)
    main_meter_loss_percent = UnicodeAttribute(null=True)
    # The company's own meter profiles its last deployment carried, summarised
    # (domain/meter_models.summarise): {name: summary}. Ingest rates readings of a meter
    # whose profile exists only as configuration from these (docs/meters.md).
    profiles = JSONAttribute(null=True)


class Meter(PowerletItem, discriminator="Meter"):
    company_id = UnicodeAttribute()
    meter_id = UnicodeAttribute()
    gateway_id = UnicodeAttribute()
    unit_id = UnicodeAttribute(null=True)
    profile = UnicodeAttribute()  # sdm120 | dds238 | ...
    bus_address = NumberAttribute()
    relay = JSONAttribute(null=True)  # {"address", "profile", "channel"} or null
    last_kwh = UnicodeAttribute(null=True)
    last_read_at = UTCDateTimeAttribute(null=True)
    online = BooleanAttribute(default=False)
    # Readings a person vouched for or a meter exchange began (docs/metering-data.md):
    # validation checks the next readings against the newest of these and the last good
    # reading. [{"at", "kwh", "kind": exchange | accepted | estimate, ...}], newest last.
    anchors = JSONAttribute(null=True)
    # Presence, written by ingest only when it changes (docs/metering-data.md): offline
    # after OFFLINE_AFTER failed cycles in a row, with the last error; online again at the
    # first answer.
    last_error = UnicodeAttribute(null=True)
    presence_at = UTCDateTimeAttribute(null=True)
    # The serial number of the meter fitted, as the gateway read it (`sn`): written on
    # first sight and when a meter exchange adopts a new one, never per reading.
    serial = UnicodeAttribute(null=True)
    # A changed serial proposes a meter exchange (docs/metering-data.md, "Serial numbers"):
    # {"old_serial", "new_serial", "last_good": {"at", "kwh"} | null,
    #  "first_new": {"at", "kwh"}, "proposed_at"}; readings from first_new on are held
    # until staff record the exchange, which clears it.
    serial_proposal = JSONAttribute(null=True)
    # The profiles the gateway reads this meter (and its relay) with, from telemetry ``pv``:
    # {profile: "<version>.<hash>"}, written by ingest only when it changes, and since when.
    profile_versions = JSONAttribute(null=True)
    profile_versions_at = UTCDateTimeAttribute(null=True)


class MeterProfileRecord(PowerletItem, discriminator="MeterProfile"):
    """A company's own meter profile (the gateway's profile format), sent in the
    deployments of its gateways whose meters use it (docs/meters.md)."""

    company_id = UnicodeAttribute()
    name = UnicodeAttribute()
    version = NumberAttribute()
    document = JSONAttribute()  # validated against meter_profile.schema.json
    summary = JSONAttribute()  # domain/meter_models.summarise
    updated_at = UTCDateTimeAttribute()


class Tenancy(PowerletItem, discriminator="Tenancy"):
    company_id = UnicodeAttribute()
    tenancy_id = UnicodeAttribute()
    unit_id = UnicodeAttribute()
    tenant_sub = UnicodeAttribute()
    account_id = UnicodeAttribute()
    starts_on = UnicodeAttribute()  # ISO date, property's zone
    ends_on = UnicodeAttribute(null=True)
    # The instants the tenancy starts and ends (the move-in and move-out readings'
    # timestamps, or when staff recorded a typed one): a same-day changeover splits the
    # day there (domain/tenancy_window.py). Absent on tenancies stored before: their
    # dates count from local midnight, as before.
    starts_at = UTCDateTimeAttribute(null=True)
    ends_at = UTCDateTimeAttribute(null=True)
    opening_kwh = UnicodeAttribute()
    closing_kwh = UnicodeAttribute(null=True)
    never_disconnect = BooleanAttribute(default=False)
    # Move-in and move-out (portal/move_in.py, portal/move_out.py): the opening credit
    # asked for, and the move-out plan (inputs and the settlement's entries), recorded
    # before any money moves so a retry posts exactly the same entries.
    opening_credit_minor = NumberAttribute(null=True)
    move_out = JSONAttribute(null=True)


# --- money ---


class Account(PowerletItem, discriminator="Account"):
    """Stored balance is a cache of the sum of the entries; reconciliation
    re-derives it. ``entry_count`` lets that check detect a lost entry too."""

    company_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    balance_minor = NumberAttribute(default=0)
    entry_count = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    # Settlement cursor: consumption up to this reading is in the ledger. Moved in
    # the same transaction as the charge, on condition that nobody moved it first.
    settled_kwh = UnicodeAttribute(null=True)
    settled_at = UTCDateTimeAttribute(null=True)
    usage = JSONAttribute(null=True)  # position in the tariff (segment or band usage)
    # Set by the move-out's final charge: nothing is settled into the account after it.
    closed_at = UTCDateTimeAttribute(null=True)


class LedgerEntryItem(PowerletItem, discriminator="LedgerEntry"):
    company_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    entry_id = UnicodeAttribute()
    entry_kind = UnicodeAttribute()
    amount_minor = NumberAttribute()
    currency = UnicodeAttribute()
    occurred_at = UTCDateTimeAttribute()
    memo = UnicodeAttribute(default="")
    refs = JSONAttribute(default=dict)
    fingerprint = UnicodeAttribute()


class Bill(PowerletItem, discriminator="Bill"):
    company_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    period_start = UnicodeAttribute()
    period_end = UnicodeAttribute()
    total_minor = NumberAttribute()
    currency = UnicodeAttribute()
    lines = JSONAttribute()  # each line traceable to readings and tariff
    status = UnicodeAttribute(default="issued")
    # Written with the charge and the cursor move in one transaction (data/settlement_store.py).
    # Bills issued before that carry none of the attributes below.
    estimated = BooleanAttribute(null=True)  # the closing reading is an estimate
    closing_kind = UnicodeAttribute(null=True)  # actual | interpolated | estimated
    opening_kwh = UnicodeAttribute(null=True)
    opening_at = UTCDateTimeAttribute(null=True)
    closing_kwh = UnicodeAttribute(null=True)
    closing_at = UTCDateTimeAttribute(null=True)
    billed_start = UnicodeAttribute(null=True)  # first occupied day of the period (move-in)
    energy_kwh = UnicodeAttribute(null=True)
    band_kwh = JSONAttribute(null=True)  # time-of-use: energy per band
    # The tariff as charged: a later correction of an estimate is priced with it.
    tariff = JSONAttribute(null=True)
    tariff_versions = ListAttribute(of=UnicodeAttribute, null=True)  # "<id>@<date>" that priced it
    # An estimate: the priced interval it made up (from -> closing) and its daily rate.
    estimated_from_kwh = UnicodeAttribute(null=True)
    estimated_from_at = UTCDateTimeAttribute(null=True)
    estimate_daily_kwh = UnicodeAttribute(null=True)
    entry_ids = UnicodeSetAttribute(null=True)  # the ledger entries of this bill


# --- readings and relay ---


class RelayCommand(PowerletItem, discriminator="RelayCommand"):
    company_id = UnicodeAttribute()
    meter_id = UnicodeAttribute()
    command_id = UnicodeAttribute()
    power = UnicodeAttribute()  # on | off
    reason = UnicodeAttribute()
    actor = UnicodeAttribute()  # policy | user:<sub> | top-up | gateway
    note = UnicodeAttribute(null=True)  # why, in words (a manual reason, the top-up id)
    issued_at = UTCDateTimeAttribute()
    outcome = UnicodeAttribute(default="pending")  # pending | confirmed | failed | unconfirmed
    confirmed_at = UTCDateTimeAttribute(null=True)
    attempts = NumberAttribute(default=0)


class HeldReading(PowerletItem, discriminator="HeldReading"):
    """A reading validation held back (docs/metering-data.md): kept with its evidence
    until a person decides; never moved a cursor, never charged."""

    company_id = UnicodeAttribute()
    meter_id = UnicodeAttribute()
    gateway_id = UnicodeAttribute()
    read_at = UTCDateTimeAttribute()
    reading_kwh = UnicodeAttribute()
    reason = UnicodeAttribute()  # backwards | spike | clock | frozen | serial_changed
    anchor_kwh = UnicodeAttribute(null=True)  # the last good reading it was checked against
    anchor_at = UTCDateTimeAttribute(null=True)
    energy_kwh = UnicodeAttribute(null=True)  # since the anchor
    limit_kwh = UnicodeAttribute(null=True)  # the most the meter could pass meanwhile
    watts = UnicodeAttribute(null=True)  # the power the meter reported with it
    run = NumberAttribute(default=1)  # readings held in a row, this one included
    status = UnicodeAttribute(default="held")  # held | accepted | rejected | replaced
    decided_by = UnicodeAttribute(null=True)
    decided_at = UTCDateTimeAttribute(null=True)
    decision_note = UnicodeAttribute(null=True)
    replacement_kwh = UnicodeAttribute(null=True)  # an estimate a person put in its place
    # frozen: the energy the meter's power readings say it passed while its register
    # stood still (limit_kwh is then the energy after which it must have moved)
    drawn_kwh = UnicodeAttribute(null=True)
    # serial_changed: the serial read (or proposed) with it, and the one known before
    serial = UnicodeAttribute(null=True)
    known_serial = UnicodeAttribute(null=True)


class CompressedJSONAttribute(Attribute[Any]):
    """JSON, zlib-compressed: a bus's readings repeat digits and keys, and
    DynamoDB bills writes and storage by the byte (about 2x smaller)."""

    attr_type = BINARY

    def serialize(self, value: Any) -> bytes:
        return zlib.compress(json.dumps(value, separators=(",", ":")).encode(), 9)

    def deserialize(self, value: bytes) -> Any:
        return json.loads(zlib.decompress(value))


class GatewayCycle(PowerletItem, discriminator="Cycle"):
    """One telemetry message: every meter of the bus in one compact item.

    Short stored names and compression keep 32 meters under 1 KB (the write
    budget counts bytes).
    ``m`` rows are ``[meter, dt_ms, import_kwh|None, export_kwh|None, watts|None,
    relay|None, error|None]``.
    """

    gateway_id = UnicodeAttribute(attr_name="g")
    spool_id = UnicodeAttribute(attr_name="sid")
    seq = NumberAttribute(attr_name="s")
    cycle_at_ms = NumberAttribute(attr_name="t")
    received_at_ms = NumberAttribute(attr_name="rx")
    rows = CompressedJSONAttribute(attr_name="m")
    expires_at = NumberAttribute(attr_name="ttl", null=True)  # DynamoDB TTL, unix seconds


class GatewayUsage(PowerletItem, discriminator="U15G"):
    """Energy per meter of one gateway in one 15-minute bucket: {meter: "kWh"}."""

    gateway_id = UnicodeAttribute(attr_name="g")
    bucket_start = UTCDateTimeAttribute(attr_name="b")
    energy = JSONAttribute(attr_name="e")
    # stored cycles (messages) in the bucket: the usage report's monthly count moves by
    # the change of this figure (data/telemetry_store.py put_usage, docs/brands.md)
    messages = NumberAttribute(attr_name="n", null=True)
    # The gateway's bus counters per meter (telemetry ``dg``) as the message that closed
    # the bucket sent them: {"t": unix ms of that cycle, "m": {meter: dg}}. Bus health is
    # the difference between consecutive buckets' (domain/bus_health.py). Compressed:
    # mostly zeros, and the bucket must stay within one write unit.
    health = CompressedJSONAttribute(attr_name="h", null=True)


class GatewayUsageDay(PowerletItem, discriminator="UDG"):
    """Energy per meter of one gateway in one local day of its property:
    {meter: "kWh"}, the sum of that day's 15-minute buckets (``buckets`` of them).
    Written by ingest when the day's last bucket closes; read by the charts."""

    gateway_id = UnicodeAttribute(attr_name="g")
    day = UnicodeAttribute(attr_name="d")  # ISO date in ``time_zone``
    time_zone = UnicodeAttribute(attr_name="tz")
    energy = JSONAttribute(attr_name="e")
    buckets = NumberAttribute(attr_name="n", default=0)


class GatewayState(PowerletItem, discriminator="GwState"):
    """The bus item: the control plane of one bus (per meter the desired relay state, the
    cutoff, the pending command, active alert flags, a snapshot of the account's
    settlement cursor and its next due mark) and the bus's catalogue context (gateway,
    property, company, meters, units, tenancies) with its version. Its sort key sorts
    after every cycle of the bus, so ingest reads it and the newest cycle with one
    consistent Query (docs/pipeline.md, "The bus item"). The control state is written on
    change (version ``version``); the context when it was rebuilt (``ctxb``, the
    ``ctxv`` it was built at); catalogue edits bump ``ctxv``."""

    company_id = UnicodeAttribute(null=True)
    gateway_id = UnicodeAttribute(null=True)
    version = NumberAttribute(default=0)
    meters = CompressedJSONAttribute(default=dict)
    flags = JSONAttribute(default=list)
    updated_at = UTCDateTimeAttribute(null=True)
    context = CompressedJSONAttribute(attr_name="ctx", null=True)
    context_version = NumberAttribute(attr_name="ctxv", null=True)
    context_built = NumberAttribute(attr_name="ctxb", null=True)
    context_at_ms = NumberAttribute(attr_name="ctxat", null=True)
    # Conditions the sweeps raised about this bus that its telemetry clears (a meter
    # answering again, a silent gateway speaking): read with the bus item for free, added
    # and deleted as set elements so no other writer of the item erases them
    # (pipeline/open_conditions.py).
    open_conditions = UnicodeSetAttribute(attr_name="oc", null=True)


# --- event streams ---


class Notification(PowerletItem, discriminator="Notification"):
    company_id = UnicodeAttribute()
    notification_id = UnicodeAttribute()
    topic = UnicodeAttribute()  # low_credit | disconnected | restored | meter_offline | ...
    created_at = UTCDateTimeAttribute()
    subject_ref = UnicodeAttribute()  # unit/meter/gateway the notice is about
    payload = JSONAttribute(default=dict)
    delivery = JSONAttribute(default=dict)  # channel -> status
    # The alert's lifecycle (docs/data-model.md, "Alerts"): open | acknowledged | resolved
    # for a condition, notice for an event; null on items written before lifecycles.
    status = UnicodeAttribute(null=True)
    audience = UnicodeAttribute(null=True)  # tenant | staff
    tenant_sub = UnicodeAttribute(null=True)  # a tenant's alert: also on gsi1 (their inbox)
    acknowledged_by = UnicodeAttribute(null=True)
    acknowledged_at = UTCDateTimeAttribute(null=True)
    resolved_at = UTCDateTimeAttribute(null=True)
    resolved_by = UnicodeAttribute(null=True)  # "condition cleared" or the person


class OpenAlert(PowerletItem, discriminator="OpenAlert"):
    """A condition still open (or acknowledged): one per (topic, subject), so a repeat
    is counted, not sent again, and the condition clearing finds it by key."""

    company_id = UnicodeAttribute()
    alert_id = UnicodeAttribute()
    topic = UnicodeAttribute()
    subject_ref = UnicodeAttribute()
    audience = UnicodeAttribute()
    status = UnicodeAttribute(default="open")  # open | acknowledged | resolved
    notification_sk = UnicodeAttribute()  # the outbox item that opened it
    opened_at = UTCDateTimeAttribute()
    last_at = UTCDateTimeAttribute()
    occurrences = NumberAttribute(default=1)
    # Resolved: kept a week (DynamoDB TTL) so a replay of its last alert is still known.
    expires_at = NumberAttribute(attr_name="ttl", null=True)


class AuditEvent(PowerletItem, discriminator="AuditEvent"):
    company_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    actor = UnicodeAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute()
    detail = JSONAttribute(default=dict)


# --- the portal: browser sessions and sign-in throttling (own partitions, TTL'd) ---


class WebSession(PowerletItem, discriminator="WebSession"):
    company_id = UnicodeAttribute()
    user_sub = UnicodeAttribute()
    email = UnicodeAttribute()
    audience = UnicodeAttribute()  # staff | tenant: which screen signed it in
    csrf_token = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at_s = NumberAttribute(attr_name="ttl")  # DynamoDB TTL, unix seconds
    # When the login was last found in good standing in Cognito (unix s; null: at
    # created_at): the pages' second line against account changes made outside the portal.
    account_checked_at_s = NumberAttribute(null=True)


class TrustedDevice(PowerletItem, discriminator="TrustedDevice"):
    """A browser that signed in to an account: its own sign-in budget, outside the
    account's and the address's (``application/sign_in_throttle.py``)."""

    account_digest = UnicodeAttribute()
    expires_at_s = NumberAttribute(attr_name="ttl")  # DynamoDB TTL, unix seconds


class SignInFailures(PowerletItem, discriminator="SignInFailures"):
    scope = UnicodeAttribute()
    window_index = NumberAttribute()
    failures = NumberAttribute(default=0)
    expires_at = NumberAttribute(attr_name="ttl", null=True)  # DynamoDB TTL, unix seconds


# --- the reseller API: keys, rate windows, usage per month ---


class ApiKey(PowerletItem, discriminator="ApiKey"):
    key_id = UnicodeAttribute()
    reseller_id = UnicodeAttribute()
    salt = UnicodeAttribute()
    secret_sha256 = UnicodeAttribute()
    label = UnicodeAttribute(default="")
    status = UnicodeAttribute(default="active")  # active | revoked
    created_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)


class ApiRateWindow(PowerletItem, discriminator="ApiRateWindow"):
    requests = NumberAttribute(default=0)
    expires_at = NumberAttribute(attr_name="ttl", null=True)  # DynamoDB TTL, unix seconds


class UsageMonth(PowerletItem, discriminator="UsageMonth"):
    company_id = UnicodeAttribute()
    month = UnicodeAttribute()
    meters_delta = NumberAttribute(default=0)
    messages = NumberAttribute(default=0)
    top_ups = NumberAttribute(default=0)


class ReceiptCounter(PowerletItem, discriminator="ReceiptCounter"):
    """The company's last receipt number (data/receipts.py): one ADD per new top-up."""

    company_id = UnicodeAttribute()
    last = NumberAttribute(default=0)


ALL_ITEM_CLASSES: tuple[type[PowerletItem], ...] = (
    Reseller,
    Company,
    Brand,
    HostBinding,
    Membership,
    Property,
    Unit,
    Gateway,
    Meter,
    MeterProfileRecord,
    HostClaim,
    DomainRelease,
    Tenancy,
    Account,
    LedgerEntryItem,
    Bill,
    RelayCommand,
    HeldReading,
    Notification,
    OpenAlert,
    AuditEvent,
    GatewayCycle,
    GatewayUsage,
    GatewayUsageDay,
    GatewayState,
    SlugBinding,
    WebSession,
    TrustedDevice,
    SignInFailures,
    ApiKey,
    ApiRateWindow,
    UsageMonth,
    ReceiptCounter,
)

# Imported after the composition root bound the table (ingest imports the models only
# when a PynamoDB path runs: data/binding.py): take that binding now.
from .binding import models_imported  # noqa: E402

models_imported(PowerletItem, ALL_ITEM_CLASSES)
