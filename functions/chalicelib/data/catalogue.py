"""Reads and writes of a company's catalogue: memberships, properties, units,
gateways, meters, tenancies. Every call takes the company id first: it comes
from the verified identity, never from a request body."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, TypeVar

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

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
from .models import (
    Account,
    Company,
    Gateway,
    Membership,
    Meter,
    PowerletItem,
    Property,
    Reseller,
    Tenancy,
    Unit,
)
from .paging import decode_cursor, encode_cursor

_T = TypeVar("_T", bound=PowerletItem)

MAX_PAGE = 200
MAX_ANCHORS = 20
ANCHOR_ATTEMPTS = 3


def _get(cls: type[_T], pk: str, sk: str, what: str) -> _T:
    try:
        return cls.get(pk, sk)
    except DoesNotExist as exc:
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

    def get_reseller(self, reseller_id: str) -> Reseller:
        return _get(Reseller, keys.reseller_pk(reseller_id), keys.RESELLER_SK, "reseller")

    def get_company(self, company_id: str) -> Company:
        return _get(Company, keys.company_pk(company_id), keys.COMPANY_SK, "company")

    def get_membership(self, company_id: str, user_sub: str) -> Membership:
        return _get(Membership, keys.company_pk(company_id), keys.member_sk(user_sub), "membership")

    def get_property(self, company_id: str, property_id: str) -> Property:
        return _get(
            Property, keys.company_pk(company_id), keys.property_sk(property_id), "property"
        )

    def list_properties(self, company_id: str, limit: int = MAX_PAGE) -> Iterator[Property]:
        yield from Property.query(
            keys.company_pk(company_id),
            Property.sk.startswith(keys.PROPERTY_PREFIX),
            limit=min(limit, MAX_PAGE),
        )

    def units_with_own_thresholds(
        self, company_id: str, read_at_most: int
    ) -> tuple[list[Unit], bool]:
        """The company's units that set their own low-credit thresholds, reading at most
        ``read_at_most`` units of its partition (a filter would cost the same: DynamoDB
        bills the items read); and whether that was every unit."""
        found: list[Unit] = []
        shown = (Unit.pk, Unit.sk, Unit.kind, Unit.unit_id, Unit.property_id, Unit.name)
        for read, unit in enumerate(
            Unit.query(
                keys.company_pk(company_id),
                Unit.sk.startswith(keys.UNIT_PREFIX),
                limit=read_at_most + 1,
                attributes_to_get=[
                    *(a.attr_name for a in shown),
                    Unit.low_credit_thresholds_minor.attr_name,
                ],
            ),
            start=1,
        ):
            if read > read_at_most:
                return found, False
            if unit.low_credit_thresholds_minor is not None:
                found.append(unit)
        return found, True

    def get_unit(self, company_id: str, unit_id: str) -> Unit:
        return _get(Unit, keys.company_pk(company_id), keys.unit_sk(unit_id), "unit")

    def list_units_of_property(
        self, company_id: str, property_id: str, limit: int = MAX_PAGE
    ) -> Iterator[Unit]:
        yield from Unit.gsi1.query(  # type: ignore[misc]
            keys.units_of_property_gsi1pk(company_id, property_id),
            limit=min(limit, MAX_PAGE),
        )

    def get_gateway(self, company_id: str, gateway_id: str) -> Gateway:
        return _get(Gateway, keys.company_pk(company_id), keys.gateway_sk(gateway_id), "gateway")

    def find_gateway_by_thing(self, thing_name: str) -> Gateway:
        """Ingest's first step: the topic names the thing; the item names the company."""
        for item in Gateway.gsi1.query(keys.thing_gsi1pk(thing_name), limit=1):
            if isinstance(item, Gateway):
                return item
        raise NotFoundError(f"no gateway registered for thing {thing_name!r}")

    def get_meter(self, company_id: str, meter_id: str) -> Meter:
        return _get(Meter, keys.company_pk(company_id), keys.meter_sk(meter_id), "meter")

    def meter_of_unit(self, company_id: str, unit: Unit) -> Meter | None:
        """The unit's meter, or None when it has none (or it was removed meanwhile)."""
        if not unit.meter_id:
            return None
        try:
            return self.get_meter(company_id, unit.meter_id)
        except NotFoundError:
            return None

    def list_meters_of_gateway(self, company_id: str, gateway_id: str) -> Iterator[Meter]:
        yield from Meter.gsi1.query(  # type: ignore[misc]
            keys.meters_of_gateway_gsi1pk(company_id, gateway_id), limit=MAX_PAGE
        )

    def get_tenancy(self, company_id: str, tenancy_id: str) -> Tenancy:
        return _get(Tenancy, keys.company_pk(company_id), keys.tenancy_sk(tenancy_id), "tenancy")

    def list_tenancies_of_tenant(self, company_id: str, tenant_sub: str) -> Iterator[Tenancy]:
        yield from Tenancy.gsi2.query(  # type: ignore[misc]
            keys.tenancies_of_tenant_gsi2pk(company_id, tenant_sub), limit=MAX_PAGE
        )

    def list_companies(self, limit: int = 10_000) -> Iterator[Company]:
        """Every company (gsi2 ``COMPANIES``): the schedules' fan-out root."""
        yield from Company.gsi2.query(keys.ALL_COMPANIES_GSI2PK, limit=limit)  # type: ignore[misc]

    def list_gateways(self, company_id: str) -> Iterator[Gateway]:
        yield from Gateway.query(
            keys.company_pk(company_id), Gateway.sk.startswith(keys.GATEWAY_PREFIX), limit=10_000
        )

    def gateways_of_property(self, company_id: str, property_id: str) -> list[Gateway]:
        """The company's gateways (one Query, as ``list_gateways``) that serve the property."""
        return [
            g
            for g in Gateway.query(
                keys.company_pk(company_id),
                Gateway.sk.startswith(keys.GATEWAY_PREFIX),
                filter_condition=Gateway.property_id == property_id,
                limit=10_000,
            )
            if isinstance(g, Gateway)
        ]

    def list_accounts(self, company_id: str) -> Iterator[Account]:
        """Accounts of a company (gsi1 ``CO#<co>#ACCOUNTS``)."""
        yield from Account.gsi1.query(  # type: ignore[misc]
            keys.accounts_of_company_gsi1pk(company_id), limit=100_000
        )

    def accounts_page(
        self, company_id: str, cursor: str | None = None, limit: int = MAX_PAGE
    ) -> tuple[list[Account], str | None]:
        """One page of a company's accounts (gsi1) and the cursor of the next, for a job
        that must stay bounded however many accounts the company has (reconciliation)."""
        pk = keys.accounts_of_company_gsi1pk(company_id)
        start = decode_cursor(cursor, "gsi1pk", pk) if cursor else None
        result = Account.gsi1.query(pk, limit=max(1, limit), last_evaluated_key=start)
        accounts = [a for a in result if isinstance(a, Account)]
        last = result.last_evaluated_key
        return accounts, encode_cursor(last) if last else None

    def list_members(self, company_id: str) -> Iterator[Membership]:
        yield from Membership.query(
            keys.company_pk(company_id), Membership.sk.startswith(keys.MEMBER_PREFIX), limit=1_000
        )

    def get_units(self, company_id: str, unit_ids: Iterable[str]) -> dict[str, Unit]:
        wanted = [(keys.company_pk(company_id), keys.unit_sk(u)) for u in set(unit_ids)]
        return {u.unit_id: u for u in Unit.batch_get(wanted)}

    def units_page(
        self,
        company_id: str,
        property_id: str,
        *,
        search: str = "",
        power: str | None = None,
        cursor: str | None = None,
        limit: int = MAX_PAGE,
    ) -> tuple[list[Unit], str | None]:
        """One page of a property's units (gsi1), optionally filtered by a substring of
        name or id and by power; and the cursor of the next page. ``limit`` bounds the
        items *read*: a filter may leave the page short, and the cursor goes on from the
        last item read."""
        pk = keys.units_of_property_gsi1pk(company_id, property_id)
        start = decode_cursor(cursor, "gsi1pk", pk) if cursor else None
        condition = None
        if search:
            condition = Unit.name.contains(search) | Unit.unit_id.contains(search)
        if power in {"on", "off"}:
            by_power = Unit.power == power
            condition = by_power if condition is None else (condition & by_power)
        result = Unit.gsi1.query(
            pk,
            filter_condition=condition,
            limit=max(1, min(limit, MAX_PAGE)),
            last_evaluated_key=start,
        )
        units = [u for u in result if isinstance(u, Unit)]
        last = result.last_evaluated_key
        return units, encode_cursor(last) if last else None

    def get_meters(self, company_id: str, meter_ids: Iterable[str]) -> dict[str, Meter]:
        """Meters by id; ids that cannot be keys (an odd reference in an old alert) are
        skipped, not looked up. One BatchGetItem at most."""
        return {m.meter_id: m for m in _batch(Meter, company_id, meter_ids, keys.meter_sk)}

    def get_gateways(self, company_id: str, gateway_ids: Iterable[str]) -> dict[str, Gateway]:
        return {g.gateway_id: g for g in _batch(Gateway, company_id, gateway_ids, keys.gateway_sk)}

    def get_units_lenient(self, company_id: str, unit_ids: Iterable[str]) -> dict[str, Unit]:
        """As ``get_units``, skipping ids that cannot be keys."""
        return {u.unit_id: u for u in _batch(Unit, company_id, unit_ids, keys.unit_sk)}

    def get_tenancies(self, company_id: str, tenancy_ids: Iterable[str]) -> dict[str, Tenancy]:
        wanted = [(keys.company_pk(company_id), keys.tenancy_sk(t)) for t in set(tenancy_ids)]
        return {t.tenancy_id: t for t in Tenancy.batch_get(wanted)}

    @staticmethod
    def save_all(items: Iterable[PowerletItem]) -> int:
        count = 0
        with PowerletItem.batch_write() as batch:
            for item in items:
                batch.save(item)
                count += 1
        return count

    # --- creating catalogue items (registration, onboarding) ---

    @staticmethod
    def create(item: PowerletItem) -> None:
        """Put ``item`` unless its key exists (ConditionFailedError)."""
        try:
            item.save(condition=PowerletItem.pk.does_not_exist())
        except PutError as exc:
            if conditional_check_failed(exc):
                raise ConditionFailedError(f"{item.pk} {item.sk} exists") from exc
            raise

    def create_if_absent(self, item: PowerletItem) -> bool:
        """True if created, False if an item with its key was already there."""
        try:
            self.create(item)
        except ConditionFailedError:
            return False
        return True

    @staticmethod
    def remove(item: PowerletItem) -> None:
        item.delete()

    @staticmethod
    def set_gateway_profiles(gateway: Gateway, summaries: dict[str, Any]) -> None:
        """The company profiles the gateway's deployment carries (Gateway.profiles)."""
        action = Gateway.profiles.set(summaries) if summaries else Gateway.profiles.remove()
        gateway.update(actions=[action], condition=Gateway.pk.exists())

    @staticmethod
    def set_meter_model(meter: Meter, profile: str, relay: dict[str, Any] | None) -> None:
        """Change only the model and relay pairing (ingest writes the same item's readings
        meanwhile: a whole-item put would undo them). NotFoundError if it was removed."""
        actions: list[Action] = [
            Meter.profile.set(profile),
            Meter.relay.set(relay) if relay is not None else Meter.relay.remove(),
        ]
        try:
            meter.update(actions=actions, condition=Meter.pk.exists())
        except UpdateError as exc:
            if conditional_check_failed(exc):
                raise NotFoundError("meter not found") from exc
            raise

    def create_all(self, items: Iterable[PowerletItem]) -> None:
        """Create every item or none (one transaction): ConditionFailedError if any exists."""
        try:
            with TransactWrite(connection=self._connection) as tx:
                for item in items:
                    tx.save(item, condition=PowerletItem.pk.does_not_exist())
        except TransactWriteError as exc:
            raise ConditionFailedError(f"one of the items exists: {exc}") from exc

    def companies_of_reseller(
        self, reseller_id: str, start: dict[str, Any] | None, limit: int
    ) -> tuple[list[Company], dict[str, Any] | None]:
        """One page of the reseller's companies (gsi1) and DynamoDB's key to go on from."""
        result = Company.gsi1.query(
            keys.companies_of_reseller_gsi1pk(reseller_id),
            limit=max(1, min(limit, MAX_PAGE)),
            last_evaluated_key=start,
        )
        companies = [c for c in result if isinstance(c, Company)]
        return companies, result.last_evaluated_key

    def set_company_status(self, company_id: str, reseller_id: str, status: str) -> None:
        """Only a company of this reseller: NotFoundError otherwise."""
        company = Company(keys.company_pk(company_id), keys.COMPANY_SK)
        try:
            company.update(
                actions=[Company.status.set(status)],
                condition=Company.reseller_id == reseller_id,
            )
        except UpdateError as exc:
            raise NotFoundError("company not found") from exc

    @staticmethod
    def set_alert_channels(
        company_id: str, user_sub: str, channels: set[str], locale: str | None = None
    ) -> None:
        """A member's chosen alert channels (and the language of their messages); none
        chosen is stored as none (DynamoDB stores no empty set: the marker ``none``)."""
        member = Membership(keys.company_pk(company_id), keys.member_sk(user_sub))
        actions: list[Action] = [Membership.alert_channels.set(channels or {"none"})]
        if locale is not None:
            actions.append(Membership.locale.set(locale))
        try:
            member.update(actions=actions, condition=Membership.pk.exists())
        except UpdateError as exc:
            raise NotFoundError("membership not found") from exc

    # --- state the pipeline keeps on catalogue items ---

    @staticmethod
    def set_unit_power(company_id: str, unit_id: str, power: str, reason: str) -> None:
        """The relay state the gateway confirmed (shown by the portal)."""
        Unit(keys.company_pk(company_id), keys.unit_sk(unit_id)).update(
            actions=[Unit.power.set(power), Unit.power_reason.set(reason)]
        )

    @staticmethod
    def mark_gateway_seen(
        gateway: Gateway, online: bool, at: datetime, telemetry_by: datetime | None = None
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
                actions=[Gateway.online.set(online), Gateway.last_seen_at.set(at), *deadline],
                condition=Gateway.last_seen_at.does_not_exist() | (Gateway.last_seen_at < at),
            )
        except UpdateError as exc:
            if conditional_check_failed(exc):
                return False
            raise
        return True

    @staticmethod
    def expect_telemetry_by(company_id: str, gateway_id: str, due_at: datetime) -> bool:
        """Move the gateway's silence deadline: the seam for the writer that sees its
        telemetry (docs/pipeline.md, "Presence and deadlines"). False if it is gone."""
        gateway = Gateway(keys.company_pk(company_id), keys.gateway_sk(gateway_id))
        return update_existing(
            gateway, set_deadline(SILENCE_DEADLINE, due_at, company_id, gateway_id)
        )

    @staticmethod
    def end_meter_wait(company_id: str, meter_id: str, presence_at: datetime | None) -> bool:
        """Take a silent meter off the due index, unless its presence changed since it was
        read (that change put it there again, for the next sweep)."""
        meter = Meter(keys.company_pk(company_id), keys.meter_sk(meter_id))
        condition = Meter.pk.exists() & (
            Meter.presence_at.does_not_exist()
            if presence_at is None
            else Meter.presence_at == presence_at
        )
        try:
            meter.update(actions=clear_deadline(), condition=condition)
        except UpdateError as exc:
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
    ) -> Meter:
        """Append a reading validation must start from (an exchange, an accepted or an
        estimated reading), keeping the newest ``MAX_ANCHORS``; on condition that the
        list is what was read, re-read and tried again when another staff action wrote
        meanwhile (bounded), so two of them cannot lose one another. ``adopt_serial``
        (a meter exchange): a pending exchange proposal's new serial becomes the meter's,
        and the proposal is cleared, in the same write (the anchor records the serial)."""
        for _ in range(ANCHOR_ATTEMPTS):
            meter = self.get_meter(company_id, meter_id)
            before = list(meter.anchors or [])
            actions: list[Action] = []
            proposal = meter.serial_proposal if adopt_serial else None
            if proposal:
                anchor = {**anchor, "serial": str(proposal["new_serial"])}
                actions += [
                    Meter.serial.set(str(proposal["new_serial"])),
                    Meter.serial_proposal.remove(),
                ]
            after = sorted([*before, anchor], key=lambda a: str(a["at"]))[-MAX_ANCHORS:]
            condition = (
                Meter.anchors.does_not_exist() if meter.anchors is None else Meter.anchors == before
            )
            try:
                meter.update(actions=[Meter.anchors.set(after), *actions], condition=condition)
            except UpdateError as exc:
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
        meter = Meter(keys.company_pk(company_id), keys.meter_sk(meter_id))
        actions: list[Action] = [Meter.online.set(online), Meter.presence_at.set(at)]
        actions.append(Meter.last_error.set(error) if error else Meter.last_error.remove())
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
                condition=Meter.pk.exists()
                & (Meter.presence_at.does_not_exist() | (Meter.presence_at < at)),
            )
        except UpdateError as exc:
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
        meter = Meter(keys.company_pk(company_id), keys.meter_sk(meter_id))
        try:
            meter.update(
                actions=[
                    Meter.profile_versions.set(versions),
                    Meter.profile_versions_at.set(at),
                ],
                condition=Meter.pk.exists()
                & (Meter.profile_versions_at.does_not_exist() | (Meter.profile_versions_at < at)),
            )
        except UpdateError as exc:
            if conditional_check_failed(exc):
                return False
            raise
        return True
