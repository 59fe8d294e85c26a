"""Reads and writes of a company's catalogue: memberships, properties, units,
gateways, meters, tenancies. Every call takes the company id first: it comes
from the verified identity, never from a request body."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from . import keys
from .conditions import conditional_check_failed
from .deadlines import (
    ANY_GATEWAY,
    METER_DEADLINE,
    SILENCE_DEADLINE,
    clear_deadline,
    set_deadline,
    update_existing,
)
from .errors import ConditionFailedError, InvalidIdentifierError, NotFoundError
from .lazy import lazy_module
from .paging import decode_cursor, encode_cursor

if TYPE_CHECKING:
    from pynamodb import exceptions as pynamo_errors
    from pynamodb import transactions as pynamo_transactions
    from pynamodb.connection import Connection
    from pynamodb.expressions import update as pynamo_update

    from . import models
else:  # loaded when first used: data/lazy.py
    models = lazy_module("chalicelib.data.models")
    pynamo_errors = lazy_module("pynamodb.exceptions")
    pynamo_transactions = lazy_module("pynamodb.transactions")
    pynamo_update = lazy_module("pynamodb.expressions.update")

_T = TypeVar("_T", bound="models.PowerletItem")

MAX_PAGE = 200
MAX_ANCHORS = 20
ANCHOR_ATTEMPTS = 3


def _get(cls: type[_T], pk: str, sk: str, what: str) -> _T:
    try:
        return cls.get(pk, sk)
    except pynamo_errors.DoesNotExist as exc:
        raise NotFoundError(f"{what} not found") from exc


def _batch(
    cls: type[_T], company_id: str, ids: Iterable[str], sort_key: Callable[[str], str]
) -> list[_T]:
    wanted = set()
    for ident in ids:
        try:
            wanted.add((keys.company_pk(company_id), sort_key(ident)))
        except InvalidIdentifierError:
            continue
    return list(cls.batch_get(sorted(wanted))) if wanted else []


class Catalogue:
    """``connection``: needed only by the writes that span several items (a transaction)."""

    def __init__(self, connection: Connection | None = None) -> None:
        self._connection = connection

    def get_reseller(self, reseller_id: str) -> models.Reseller:
        return _get(models.Reseller, keys.reseller_pk(reseller_id), keys.RESELLER_SK, "reseller")

    def get_company(self, company_id: str) -> models.Company:
        return _get(models.Company, keys.company_pk(company_id), keys.COMPANY_SK, "company")

    def get_membership(self, company_id: str, user_sub: str) -> models.Membership:
        return _get(
            models.Membership, keys.company_pk(company_id), keys.member_sk(user_sub), "membership"
        )

    def get_property(self, company_id: str, property_id: str) -> models.Property:
        return _get(
            models.Property, keys.company_pk(company_id), keys.property_sk(property_id), "property"
        )

    def list_properties(self, company_id: str, limit: int = MAX_PAGE) -> Iterator[models.Property]:
        yield from models.Property.query(
            keys.company_pk(company_id),
            models.Property.sk.startswith(keys.PROPERTY_PREFIX),
            limit=min(limit, MAX_PAGE),
        )

    def units_with_own_thresholds(
        self, company_id: str, read_at_most: int
    ) -> tuple[list[models.Unit], bool]:
        """The company's units that set their own low-credit thresholds, reading at most
        ``read_at_most`` units of its partition (a filter would cost the same: DynamoDB
        bills the items read); and whether that was every unit."""
        found: list[models.Unit] = []
        shown = (
            models.Unit.pk,
            models.Unit.sk,
            models.Unit.kind,
            models.Unit.unit_id,
            models.Unit.property_id,
            models.Unit.name,
        )
        for read, unit in enumerate(
            models.Unit.query(
                keys.company_pk(company_id),
                models.Unit.sk.startswith(keys.UNIT_PREFIX),
                limit=read_at_most + 1,
                attributes_to_get=[
                    *(a.attr_name for a in shown),
                    models.Unit.low_credit_thresholds_minor.attr_name,
                ],
            ),
            start=1,
        ):
            if read > read_at_most:
                return found, False
            if unit.low_credit_thresholds_minor is not None:
                found.append(unit)
        return found, True

    def get_unit(self, company_id: str, unit_id: str) -> models.Unit:
        return _get(models.Unit, keys.company_pk(company_id), keys.unit_sk(unit_id), "unit")

    def list_units_of_property(
        self, company_id: str, property_id: str, limit: int = MAX_PAGE
    ) -> Iterator[models.Unit]:
        yield from models.Unit.gsi1.query(  # type: ignore[misc]
            keys.units_of_property_gsi1pk(company_id, property_id),
            limit=min(limit, MAX_PAGE),
        )

    def get_gateway(self, company_id: str, gateway_id: str) -> models.Gateway:
        return _get(
            models.Gateway, keys.company_pk(company_id), keys.gateway_sk(gateway_id), "gateway"
        )

    def find_gateway_by_thing(self, thing_name: str) -> models.Gateway:
        """Ingest's first step: the topic names the thing; the item names the company."""
        for item in models.Gateway.gsi1.query(keys.thing_gsi1pk(thing_name), limit=1):
            if isinstance(item, models.Gateway):
                return item
        raise NotFoundError(f"no gateway registered for thing {thing_name!r}")

    def get_meter(self, company_id: str, meter_id: str) -> models.Meter:
        return _get(models.Meter, keys.company_pk(company_id), keys.meter_sk(meter_id), "meter")

    def meter_of_unit(self, company_id: str, unit: models.Unit) -> models.Meter | None:
        """The unit's meter, or None when it has none (or it was removed meanwhile)."""
        if not unit.meter_id:
            return None
        try:
            return self.get_meter(company_id, unit.meter_id)
        except NotFoundError:
            return None

    def list_meters_of_gateway(self, company_id: str, gateway_id: str) -> Iterator[models.Meter]:
        yield from models.Meter.gsi1.query(  # type: ignore[misc]
            keys.meters_of_gateway_gsi1pk(company_id, gateway_id), limit=MAX_PAGE
        )

    def get_tenancy(self, company_id: str, tenancy_id: str) -> models.Tenancy:
        return _get(
            models.Tenancy, keys.company_pk(company_id), keys.tenancy_sk(tenancy_id), "tenancy"
        )

    def list_tenancies_of_tenant(
        self, company_id: str, tenant_sub: str
    ) -> Iterator[models.Tenancy]:
        yield from models.Tenancy.gsi2.query(  # type: ignore[misc]
            keys.tenancies_of_tenant_gsi2pk(company_id, tenant_sub), limit=MAX_PAGE
        )

    def list_companies(self, limit: int = 10_000) -> Iterator[models.Company]:
        """Every company (gsi2 ``COMPANIES``): the schedules' fan-out root."""
        yield from models.Company.gsi2.query(keys.ALL_COMPANIES_GSI2PK, limit=limit)  # type: ignore[misc]

    def list_gateways(self, company_id: str) -> Iterator[models.Gateway]:
        yield from models.Gateway.query(
            keys.company_pk(company_id),
            models.Gateway.sk.startswith(keys.GATEWAY_PREFIX),
            limit=10_000,
        )

    def gateways_of_property(self, company_id: str, property_id: str) -> list[models.Gateway]:
        """The company's gateways (one Query, as ``list_gateways``) that serve the property."""
        return [
            g
            for g in models.Gateway.query(
                keys.company_pk(company_id),
                models.Gateway.sk.startswith(keys.GATEWAY_PREFIX),
                filter_condition=models.Gateway.property_id == property_id,
                limit=10_000,
            )
            if isinstance(g, models.Gateway)
        ]

    def list_accounts(self, company_id: str) -> Iterator[models.Account]:
        """Accounts of a company (gsi1 ``CO#<co>#ACCOUNTS``)."""
        yield from models.Account.gsi1.query(  # type: ignore[misc]
            keys.accounts_of_company_gsi1pk(company_id), limit=100_000
        )

    def accounts_page(
        self, company_id: str, cursor: str | None = None, limit: int = MAX_PAGE
    ) -> tuple[list[models.Account], str | None]:
        """One page of a company's accounts (gsi1) and the cursor of the next, for a job
        that must stay bounded however many accounts the company has (reconciliation)."""
        pk = keys.accounts_of_company_gsi1pk(company_id)
        start = decode_cursor(cursor, "gsi1pk", pk) if cursor else None
        result = models.Account.gsi1.query(pk, limit=max(1, limit), last_evaluated_key=start)
        accounts = [a for a in result if isinstance(a, models.Account)]
        last = result.last_evaluated_key
        return accounts, encode_cursor(last) if last else None

    def list_members(self, company_id: str) -> Iterator[models.Membership]:
        yield from models.Membership.query(
            keys.company_pk(company_id),
            models.Membership.sk.startswith(keys.MEMBER_PREFIX),
            limit=1_000,
        )

    def get_units(self, company_id: str, unit_ids: Iterable[str]) -> dict[str, models.Unit]:
        wanted = [(keys.company_pk(company_id), keys.unit_sk(u)) for u in set(unit_ids)]
        return {u.unit_id: u for u in models.Unit.batch_get(wanted)}

    def units_page(
        self,
        company_id: str,
        property_id: str,
        *,
        search: str = "",
        power: str | None = None,
        cursor: str | None = None,
        limit: int = MAX_PAGE,
    ) -> tuple[list[models.Unit], str | None]:
        """One page of a property's units (gsi1), optionally filtered by a substring of
        name or id and by power; and the cursor of the next page. ``limit`` bounds the
        items *read*: a filter may leave the page short, and the cursor goes on from the
        last item read."""
        pk = keys.units_of_property_gsi1pk(company_id, property_id)
        start = decode_cursor(cursor, "gsi1pk", pk) if cursor else None
        condition = None
        if search:
            condition = models.Unit.name.contains(search) | models.Unit.unit_id.contains(search)
        if power in {"on", "off"}:
            by_power = models.Unit.power == power
            condition = by_power if condition is None else (condition & by_power)
        result = models.Unit.gsi1.query(
            pk,
            filter_condition=condition,
            limit=max(1, min(limit, MAX_PAGE)),
            last_evaluated_key=start,
        )
        units = [u for u in result if isinstance(u, models.Unit)]
        last = result.last_evaluated_key
        return units, encode_cursor(last) if last else None

    def get_meters(self, company_id: str, meter_ids: Iterable[str]) -> dict[str, models.Meter]:
        """Meters by id; ids that cannot be keys (an odd reference in an old alert) are
        skipped, not looked up. One BatchGetItem at most."""
        return {m.meter_id: m for m in _batch(models.Meter, company_id, meter_ids, keys.meter_sk)}

    def get_gateways(
        self, company_id: str, gateway_ids: Iterable[str]
    ) -> dict[str, models.Gateway]:
        return {
            g.gateway_id: g
            for g in _batch(models.Gateway, company_id, gateway_ids, keys.gateway_sk)
        }

    def get_units_lenient(self, company_id: str, unit_ids: Iterable[str]) -> dict[str, models.Unit]:
        """As ``get_units``, skipping ids that cannot be keys."""
        return {u.unit_id: u for u in _batch(models.Unit, company_id, unit_ids, keys.unit_sk)}

    def get_tenancies(
        self, company_id: str, tenancy_ids: Iterable[str]
    ) -> dict[str, models.Tenancy]:
        wanted = [(keys.company_pk(company_id), keys.tenancy_sk(t)) for t in set(tenancy_ids)]
        return {t.tenancy_id: t for t in models.Tenancy.batch_get(wanted)}

    @staticmethod
    def save_all(items: Iterable[models.PowerletItem]) -> int:
        count = 0
        with models.PowerletItem.batch_write() as batch:
            for item in items:
                batch.save(item)
                count += 1
        return count

    # --- creating catalogue items (registration, onboarding) ---

    @staticmethod
    def create(item: models.PowerletItem) -> None:
        """Put ``item`` unless its key exists (ConditionFailedError)."""
        try:
            item.save(condition=models.PowerletItem.pk.does_not_exist())
        except pynamo_errors.PutError as exc:
            if conditional_check_failed(exc):
                raise ConditionFailedError(f"{item.pk} {item.sk} exists") from exc
            raise

    def create_if_absent(self, item: models.PowerletItem) -> bool:
        """True if created, False if an item with its key was already there."""
        try:
            self.create(item)
        except ConditionFailedError:
            return False
        return True

    @staticmethod
    def remove(item: models.PowerletItem) -> None:
        item.delete()

    @staticmethod
    def set_gateway_profiles(gateway: models.Gateway, summaries: dict[str, Any]) -> None:
        """The company profiles the gateway's deployment carries (Gateway.profiles)."""
        action = (
            models.Gateway.profiles.set(summaries)
            if summaries
            else models.Gateway.profiles.remove()
        )
        gateway.update(actions=[action], condition=models.Gateway.pk.exists())

    @staticmethod
    def set_meter_model(meter: models.Meter, profile: str, relay: dict[str, Any] | None) -> None:
        """Change only the model and relay pairing (ingest writes the same item's readings
        meanwhile: a whole-item put would undo them). NotFoundError if it was removed."""
        actions: list[pynamo_update.Action] = [
            models.Meter.profile.set(profile),
            models.Meter.relay.set(relay) if relay is not None else models.Meter.relay.remove(),
        ]
        try:
            meter.update(actions=actions, condition=models.Meter.pk.exists())
        except pynamo_errors.UpdateError as exc:
            if conditional_check_failed(exc):
                raise NotFoundError("meter not found") from exc
            raise

    def create_all(self, items: Iterable[models.PowerletItem]) -> None:
        """Create every item or none (one transaction): ConditionFailedError if any exists."""
        try:
            with pynamo_transactions.TransactWrite(connection=self._connection) as tx:
                for item in items:
                    tx.save(item, condition=models.PowerletItem.pk.does_not_exist())
        except pynamo_errors.TransactWriteError as exc:
            raise ConditionFailedError(f"one of the items exists: {exc}") from exc

    def companies_of_reseller(
        self, reseller_id: str, start: dict[str, Any] | None, limit: int
    ) -> tuple[list[models.Company], dict[str, Any] | None]:
        """One page of the reseller's companies (gsi1) and DynamoDB's key to go on from."""
        result = models.Company.gsi1.query(
            keys.companies_of_reseller_gsi1pk(reseller_id),
            limit=max(1, min(limit, MAX_PAGE)),
            last_evaluated_key=start,
        )
        companies = [c for c in result if isinstance(c, models.Company)]
        return companies, result.last_evaluated_key

    def set_company_status(self, company_id: str, reseller_id: str, status: str) -> None:
        """Only a company of this reseller: NotFoundError otherwise."""
        company = models.Company(keys.company_pk(company_id), keys.COMPANY_SK)
        try:
            company.update(
                actions=[models.Company.status.set(status)],
                condition=models.Company.reseller_id == reseller_id,
            )
        except pynamo_errors.UpdateError as exc:
            raise NotFoundError("company not found") from exc

    @staticmethod
    def set_alert_channels(
        company_id: str, user_sub: str, channels: set[str], locale: str | None = None
    ) -> None:
        """A member's chosen alert channels (and the language of their messages); none
        chosen is stored as none (DynamoDB stores no empty set: the marker ``none``)."""
        member = models.Membership(keys.company_pk(company_id), keys.member_sk(user_sub))
        actions: list[pynamo_update.Action] = [
            models.Membership.alert_channels.set(channels or {"none"})
        ]
        if locale is not None:
            actions.append(models.Membership.locale.set(locale))
        try:
            member.update(actions=actions, condition=models.Membership.pk.exists())
        except pynamo_errors.UpdateError as exc:
            raise NotFoundError("membership not found") from exc

    # --- state the pipeline keeps on catalogue items ---

    @staticmethod
    def set_unit_power(company_id: str, unit_id: str, power: str, reason: str) -> None:
        """The relay state the gateway confirmed (shown by the portal)."""
        models.Unit(keys.company_pk(company_id), keys.unit_sk(unit_id)).update(
            actions=[models.Unit.power.set(power), models.Unit.power_reason.set(reason)]
        )

    @staticmethod
    def mark_gateway_seen(
        gateway: models.Gateway, online: bool, at: datetime, telemetry_by: datetime | None = None
    ) -> bool:
        """Record a connect or disconnect; False if a newer one is recorded already
        (lifecycle events can arrive out of order: only a newer one wins). A connection
        waits for telemetry by ``telemetry_by`` (a deadline on the due index, same write);
        a disconnection waits for nothing."""
        deadline = (
            set_deadline(SILENCE_DEADLINE, telemetry_by, gateway.company_id, gateway.gateway_id)
            if online and telemetry_by
            else clear_deadline()
        )
        try:
            gateway.update(
                actions=[
                    models.Gateway.online.set(online),
                    models.Gateway.last_seen_at.set(at),
                    *deadline,
                ],
                condition=models.Gateway.last_seen_at.does_not_exist()
                | (models.Gateway.last_seen_at < at),
            )
        except pynamo_errors.UpdateError as exc:
            if conditional_check_failed(exc):
                return False
            raise
        return True

    @staticmethod
    def expect_telemetry_by(company_id: str, gateway_id: str, due_at: datetime) -> bool:
        """Move the gateway's silence deadline: the seam for the writer that sees its
        telemetry (docs/pipeline.md, "Presence and deadlines"). False if it is gone."""
        gateway = models.Gateway(keys.company_pk(company_id), keys.gateway_sk(gateway_id))
        return update_existing(
            gateway, set_deadline(SILENCE_DEADLINE, due_at, company_id, gateway_id)
        )

    @staticmethod
    def end_meter_wait(company_id: str, meter_id: str, presence_at: datetime | None) -> bool:
        """Take a silent meter off the due index, unless its presence changed since it was
        read (that change put it there again, for the next sweep)."""
        meter = models.Meter(keys.company_pk(company_id), keys.meter_sk(meter_id))
        condition = models.Meter.pk.exists() & (
            models.Meter.presence_at.does_not_exist()
            if presence_at is None
            else models.Meter.presence_at == presence_at
        )
        try:
            meter.update(actions=clear_deadline(), condition=condition)
        except pynamo_errors.UpdateError as exc:
            if conditional_check_failed(exc):
                return False
            raise
        return True

    def add_meter_anchor(
        self,
        company_id: str,
        meter_id: str,
        anchor: dict[str, Any],
        adopt_serial: bool = False,
    ) -> models.Meter:
        """Append a reading validation must start from (an exchange, an accepted or an
        estimated reading), keeping the newest ``MAX_ANCHORS``; on condition that the
        list is what was read, re-read and tried again when another staff action wrote
        meanwhile (bounded), so two of them cannot lose one another. ``adopt_serial``
        (a meter exchange): a pending exchange proposal's new serial becomes the meter's,
        and the proposal is cleared, in the same write (the anchor records the serial)."""
        for _ in range(ANCHOR_ATTEMPTS):
            meter = self.get_meter(company_id, meter_id)
            before = list(meter.anchors or [])
            actions: list[pynamo_update.Action] = []
            proposal = meter.serial_proposal if adopt_serial else None
            if proposal:
                anchor = {**anchor, "serial": str(proposal["new_serial"])}
                actions += [
                    models.Meter.serial.set(str(proposal["new_serial"])),
                    models.Meter.serial_proposal.remove(),
                ]
            after = sorted([*before, anchor], key=lambda a: str(a["at"]))[-MAX_ANCHORS:]
            condition = (
                models.Meter.anchors.does_not_exist()
                if meter.anchors is None
                else models.Meter.anchors == before
            )
            try:
                meter.update(
                    actions=[models.Meter.anchors.set(after), *actions], condition=condition
                )
            except pynamo_errors.UpdateError as exc:
                if conditional_check_failed(exc):
                    continue
                raise
            return meter
        raise ConditionFailedError(f"meter {meter_id} kept changing")

    @staticmethod
    def set_meter_presence(
        company_id: str, meter_id: str, online: bool, error: str | None, at: datetime
    ) -> bool:
        """Online (or offline with its error) from ``at``; False if a newer change is
        recorded already (messages can arrive out of order)."""
        meter = models.Meter(keys.company_pk(company_id), keys.meter_sk(meter_id))
        actions: list[pynamo_update.Action] = [
            models.Meter.online.set(online),
            models.Meter.presence_at.set(at),
        ]
        actions.append(
            models.Meter.last_error.set(error) if error else models.Meter.last_error.remove()
        )
        # Gone silent: staff are told by the offline sweep, which finds it on the due
        # index at once (no walk of the fleet); answering again takes it off.
        actions += (
            clear_deadline()
            if online
            else set_deadline(METER_DEADLINE, at, company_id, ANY_GATEWAY, meter_id)
        )
        try:
            meter.update(
                actions=actions,
                condition=models.Meter.pk.exists()
                & (models.Meter.presence_at.does_not_exist() | (models.Meter.presence_at < at)),
            )
        except pynamo_errors.UpdateError as exc:
            if conditional_check_failed(exc):
                return False
            raise
        return True

    @staticmethod
    def set_meter_profile_versions(
        company_id: str, meter_id: str, versions: dict[str, str], at: datetime
    ) -> bool:
        """The profile versions the gateway reported at ``at``; False if a newer report is
        recorded already (messages can arrive out of order) or the meter is gone."""
        meter = models.Meter(keys.company_pk(company_id), keys.meter_sk(meter_id))
        try:
            meter.update(
                actions=[
                    models.Meter.profile_versions.set(versions),
                    models.Meter.profile_versions_at.set(at),
                ],
                condition=models.Meter.pk.exists()
                & (
                    models.Meter.profile_versions_at.does_not_exist()
                    | (models.Meter.profile_versions_at < at)
                ),
            )
        except pynamo_errors.UpdateError as exc:
            if conditional_check_failed(exc):
                return False
            raise
        return True
