"""The composition root: everything a function needs, built once per Lambda container.

Built lazily from the settings objects (each read once), so a function builds only
what its path touches. Every AWS client is injectable (``clients`` by service name)
and every collaborator is passed in through a constructor; no use case looks
anything up. The routes reach this object through ``routing.dependencies`` (the
root installs it there); event handlers through ``wiring.handlers``. No business
rule lives here: only construction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..data.binding import bind_models, new_connection, shared_session, shared_wire
from .settings import Settings, get_settings

# Every collaborator is imported where it is built, not here: a Lambda container runs
# one function, and importing every use case for each one cost ingest's cold start
# about a second (issue 19, docs/deploy.md). These names serve the annotations only.
if TYPE_CHECKING:
    from pynamodb.connection import Connection

    from ..application.account_changes import AccountChanges
    from ..application.actions import CreditAndPower
    from ..application.bills import BillQueries
    from ..application.brands import Brands
    from ..application.building_balance import BuildingBalance
    from ..application.bus_health import BusHealthQueries
    from ..application.consumption import ConsumptionCharts
    from ..application.cycle_schedule import CycleScheduler
    from ..application.gateway_deployments import GatewayDeployer
    from ..application.latest_reading import LatestReadings
    from ..application.move_in import MoveIns
    from ..application.move_out import MoveOuts
    from ..application.notifications_view import NotificationQueries, TenantAlertSettings
    from ..application.portal_sessions import PortalSessions
    from ..application.portfolio import Portfolio
    from ..application.reading_review import ReadingReview
    from ..application.resale_check import ResaleCheck
    from ..application.reseller.config import ResellerSettings
    from ..application.reseller.gateways import GatewayRegistry
    from ..application.reseller.key_guessing import FailedKeyChecks
    from ..application.reseller.keys import ResellerKeys
    from ..application.reseller.meter_profiles import CompanyMeterProfiles
    from ..application.reseller.onboarding import Onboarding
    from ..application.scope import UnitScope
    from ..application.session_revocation import SessionRevocation
    from ..application.settings_edit import SettingsEditor
    from ..application.sign_in_throttle import SignInThrottle
    from ..application.statements import Statements
    from ..application.tariff_preview import TariffPreviewer
    from ..application.tariff_schedule import TariffScheduler
    from ..application.tenant_logins import TenantLogins
    from ..application.views import PortalViews
    from ..auth.cognito_signin import CognitoSignIn
    from ..auth.principals import Principals
    from ..auth.tokens import TokenVerifier
    from ..branding.domain_challenge import TxtResolver
    from ..branding.logos import LogoStore
    from ..branding.store import BrandStore
    from ..data.bills import BillStore
    from ..data.catalogue import Catalogue
    from ..data.held_readings import HeldReadings
    from ..data.ledger_store import LedgerStore
    from ..data.notifications import NotificationStore
    from ..data.relay_log import RelayLog
    from ..data.reseller_idempotency import ResellerIdempotency
    from ..data.reseller_store import ApiKeyStore, RateWindows
    from ..data.settings_store import SettingsStore
    from ..data.settlement_store import SettlementStore
    from ..data.telemetry_store import TelemetryStore
    from ..data.tenancies import TenancyStore
    from ..data.usage_days import UsageDayStore
    from ..data.usage_store import UsageCounters
    from ..data.web_sessions import WebSessionStore
    from ..data.wire import DynamoWire
    from ..pipeline.alerts import AlertMessage, AlertReading, Notifier
    from ..pipeline.billing_run import BillingRun
    from ..pipeline.confirmation import RelayConfirmations
    from ..pipeline.context import BusDirectory
    from ..pipeline.control import Controller
    from ..pipeline.dead_letters import DeadLetters
    from ..pipeline.energy_balance import EnergyBalances
    from ..pipeline.ingest import Ingest
    from ..pipeline.meter_control import MeterControlService
    from ..pipeline.presence import Presence
    from ..pipeline.provisioning import ProvisioningHook
    from ..pipeline.reading_corrections import ReadingCorrections
    from ..pipeline.reconciliation import Reconciliation
    from ..pipeline.settings_rollout import SettingsRollout
    from ..pipeline.settler import Settler
    from ..pipeline.shadows import ShadowWriter
    from ..routing.web_settings import WebSettings


@dataclass
class Container:
    """``clients`` overrides any boto3 client by service name (``iot-data``,
    ``sqs``, ``ses``, ``sns``, ``lambda``, ``cognito-idp``, ``s3``, ``iot``,
    ``greengrassv2``); ``wire`` the lean DynamoDB client of ingest's steady path
    (data/wire), by default the process's one at the models' table."""

    settings: Settings
    clients: dict[str, Any] = field(default_factory=dict)
    wire: DynamoWire | None = None

    _connection: Connection = field(init=False, repr=False)

    def __post_init__(self) -> None:
        bind_models(self.settings)
        self._connection = new_connection(self.settings)
        if self.wire is None:
            self.wire = shared_wire()  # no I/O: it connects on its first request

    def client(self, name: str) -> Any:
        """A botocore client on the models' session (data/binding.py): one credential
        chain and one set of loaded service models per container (boto3 adds nothing
        these functions use, and its import is on every cold start)."""
        if name not in self.clients:
            kwargs: dict[str, Any] = {"region_name": self.settings.region}
            if name == "iot-data" and self.settings.iot_data_endpoint:
                kwargs["endpoint_url"] = self.settings.iot_data_endpoint
            self.clients[name] = shared_session().create_client(name, **kwargs)
        return self.clients[name]

    def client_on_first_use(self, name: str) -> Any:
        """``client(name)``, made when first called: ingest holds the notifier's and the
        dead-letter queue's clients, but most of its containers never use them."""
        if name in self.clients:  # injected (tests, tools): as it is
            return self.clients[name]
        return ClientOnFirstUse(lambda: self.client(name))

    # --- the data layer: one connection, so every store shares one botocore session ---

    @cached_property
    def catalogue(self) -> Catalogue:
        from ..data.catalogue import Catalogue

        return Catalogue(self._connection)

    @cached_property
    def tenancies(self) -> TenancyStore:
        from ..data.tenancies import TenancyStore

        return TenancyStore(self._connection)

    @cached_property
    def ledger(self) -> LedgerStore:
        from ..data.ledger_store import LedgerStore

        return LedgerStore(self._connection)

    @cached_property
    def settlements(self) -> SettlementStore:
        from ..data.settlement_store import SettlementStore

        return SettlementStore(self._connection, self.ledger, self.wire)

    @cached_property
    def settings_store(self) -> SettingsStore:
        from ..data.settings_store import SettingsStore

        return SettingsStore(self._connection)

    @cached_property
    def brand_store(self) -> BrandStore:
        from ..branding.store import BrandStore
        from ..data.brand_records import BrandRecords

        return BrandStore(BrandRecords(self._connection))

    @cached_property
    def bill_store(self) -> BillStore:
        from ..data.bills import BillStore

        return BillStore()

    @cached_property
    def notification_store(self) -> NotificationStore:
        from ..data.notifications import NotificationStore

        return NotificationStore()

    @cached_property
    def telemetry(self) -> TelemetryStore:
        from ..data.telemetry_store import TelemetryStore

        return TelemetryStore(self.wire)

    @cached_property
    def usage_days(self) -> UsageDayStore:
        from ..data.usage_days import UsageDayStore

        return UsageDayStore()

    @cached_property
    def usage_counters(self) -> UsageCounters:
        from ..data.usage_store import UsageCounters

        return UsageCounters(self.wire)

    @cached_property
    def web_sessions(self) -> WebSessionStore:
        from ..data.web_sessions import WebSessionStore

        return WebSessionStore()

    @cached_property
    def api_keys(self) -> ApiKeyStore:
        from ..data.reseller_store import ApiKeyStore

        return ApiKeyStore()

    @cached_property
    def rate_windows(self) -> RateWindows:
        from ..data.reseller_store import RateWindows

        return RateWindows()

    @cached_property
    def held_readings(self) -> HeldReadings:
        from ..data.held_readings import HeldReadings

        return HeldReadings()

    # --- the other settings objects, one per concern, each read once ---

    @cached_property
    def web_settings(self) -> WebSettings:
        from ..routing.web_settings import WebSettings

        return WebSettings.from_env()

    @cached_property
    def reseller_settings(self) -> ResellerSettings:
        from ..application.reseller.config import ResellerSettings

        return ResellerSettings.from_env()

    @cached_property
    def idempotency(self) -> ResellerIdempotency:
        """Powertools Idempotency on the same table as the models (its own boto3
        session: see ``ResellerIdempotency._new_layer``); tests may assign another."""
        from ..data.reseller_idempotency import ResellerIdempotency

        return ResellerIdempotency(
            self.settings.table_name,
            self.settings.region,
            self.reseller_settings.idempotency_ttl_s,
        )

    # --- the event pipeline ---

    @cached_property
    def buses(self) -> BusDirectory:
        from ..data.bus_item import BusItems
        from ..pipeline.context import BusDirectory

        return BusDirectory(self.catalogue, self.settings.catalogue_cache_s, BusItems(self.wire))

    @cached_property
    def dead_letters(self) -> DeadLetters:
        from ..pipeline.dead_letters import DeadLetters

        return DeadLetters(self.client_on_first_use("sqs"), self.settings.dead_letter_queue_url)

    @cached_property
    def notifier(self) -> Notifier:
        from ..pipeline.alerts import Notifier

        # Ingest holds a notifier but rarely sends: the brands (their schema and
        # resolution), the clients and the text are reached when an alert is sent.
        return Notifier(
            self.catalogue,
            self.client_on_first_use("ses"),
            self.client_on_first_use("sns"),
            self.settings.sender_email,
            sender_for=lambda company_id: self.brands.sender_for(company_id),
            sms_sender_for=lambda company_id: self.brands.sms_sender_for(company_id),
            outbox=self.notification_store,
            render=_render_alert,
            reach_for=lambda company_id: self.brands.reach_for(company_id),
        )

    @cached_property
    def shadows(self) -> ShadowWriter:
        from ..pipeline.shadows import ShadowWriter

        # Built on the first command: most messages change no relay.
        return ShadowWriter(self.client_on_first_use("iot-data"))

    @cached_property
    def relay_log(self) -> RelayLog:
        from ..data.relay_log import RelayLog

        return RelayLog()

    @cached_property
    def controller(self) -> Controller:
        from ..pipeline.control import Controller

        return Controller(self.shadows, self.relay_log, self.notifier)

    @cached_property
    def settler(self) -> Settler:
        from ..pipeline.settler import Settler

        return Settler(self.ledger, self.settlements, self.settings.settlement_period_h)

    @cached_property
    def ingest(self) -> Ingest:
        from ..pipeline.ingest import Ingest
        from ..pipeline.validation import ReadingValidator

        return Ingest(
            self.buses,
            self.telemetry,
            self.settler,
            self.controller,
            self.dead_letters,
            usage=self.usage_counters,
            validator=ReadingValidator(self.telemetry, self.held_readings, self.ledger),
            catalogue=self.catalogue,
            balances=self.energy_balances,
        )

    @cached_property
    def meter_control(self) -> MeterControlService:
        from ..pipeline.meter_control import MeterControlService

        return MeterControlService(
            self.catalogue,
            self.buses,
            self.telemetry,
            self.ledger,
            self.settler,
            self.controller,
            self.notifier,
        )

    @cached_property
    def settings_rollout(self) -> SettingsRollout:
        from ..pipeline.settings_rollout import SettingsRollout

        return SettingsRollout(
            self.catalogue, self.buses, self.telemetry, self.settler, self.controller
        )

    @cached_property
    def corrections(self) -> ReadingCorrections:
        from ..pipeline.reading_corrections import ReadingCorrections

        return ReadingCorrections(
            self.catalogue,
            self.buses,
            self.telemetry,
            self.held_readings,
            self.settler,
            self.controller,
        )

    @cached_property
    def confirmations(self) -> RelayConfirmations:
        from ..pipeline.confirmation import RelayConfirmations

        return RelayConfirmations(
            self.catalogue,
            self.buses,
            self.telemetry,
            self.relay_log,
            self.shadows,
            self.notifier,
            self.dead_letters,
        )

    @cached_property
    def provisioning_hook(self) -> ProvisioningHook:
        from ..data.provisioning_store import ProvisioningStore
        from ..pipeline.provisioning import ProvisioningHook

        return ProvisioningHook(ProvisioningStore())

    @cached_property
    def presence(self) -> Presence:
        from ..pipeline.presence import Presence

        return Presence(self.catalogue, self.telemetry, self.notifier, self.dead_letters)

    @cached_property
    def reconciliation(self) -> Reconciliation:
        from ..pipeline.billing_run import lambda_dispatcher
        from ..pipeline.reconciliation import Reconciliation

        dispatch = None
        if self.settings.reconcile_company_function:
            dispatch = lambda_dispatcher(
                self.client("lambda"), self.settings.reconcile_company_function
            )
        return Reconciliation(self.catalogue, self.ledger, self.notifier, dispatch)

    @cached_property
    def billing(self) -> BillingRun:
        from ..pipeline.billing_run import BillingRun, lambda_dispatcher, utc

        if self.settings.bill_property_function:
            dispatch = lambda_dispatcher(
                self.client("lambda"), self.settings.bill_property_function
            )
        else:
            # No function to fan out to (local, tests): bill each property in turn.
            def dispatch(job: dict[str, Any]) -> None:
                self.billing.bill_property(job["company_id"], job["property_id"], utc(job["now"]))

        return BillingRun(
            self.catalogue,
            self.buses,
            self.telemetry,
            self.ledger,
            self.settlements,
            dispatch,
            self.bill_store,
            self.notifier,
            self.held_readings,
        )

    # --- identity ---

    @cached_property
    def token_verifier(self) -> TokenVerifier:
        from ..auth.tokens import TokenVerifier

        if not (self.settings.user_pool_id and self.settings.user_pool_client_id):
            raise RuntimeError("POWERLET_USER_POOL_ID and POWERLET_USER_POOL_CLIENT_ID are not set")
        return TokenVerifier(
            self.settings.region, self.settings.user_pool_id, self.settings.user_pool_client_id
        )

    @cached_property
    def principals(self) -> Principals:
        from ..auth.principals import Principals
        from ..data.member_access import MemberAccess

        return Principals(MemberAccess())

    @cached_property
    def cognito_client(self) -> Any:
        return self.client("cognito-idp")

    @cached_property
    def sign_in(self) -> CognitoSignIn:
        from ..auth.cognito_signin import CognitoSignIn

        if not (self.settings.user_pool_id and self.settings.user_pool_client_id):
            raise RuntimeError("POWERLET_USER_POOL_ID and POWERLET_USER_POOL_CLIENT_ID are not set")
        return CognitoSignIn(
            self.cognito_client, self.settings.user_pool_id, self.settings.user_pool_client_id
        )

    @cached_property
    def failed_key_checks(self) -> FailedKeyChecks:
        from ..application.reseller.key_guessing import FailedKeyChecks
        from ..data.throttle import SignInThrottleStore

        config = self.reseller_settings
        return FailedKeyChecks(
            SignInThrottleStore(config.failed_key_window_s), config.failed_key_checks_per_source
        )

    @cached_property
    def session_revocation(self) -> SessionRevocation:
        from ..application.session_revocation import SessionRevocation
        from ..data.member_access import MemberAccess

        return SessionRevocation(self.cognito_client, self.settings.user_pool_id, MemberAccess())

    @cached_property
    def account_changes(self) -> AccountChanges:
        from ..application.account_changes import AccountChanges

        return AccountChanges(self.session_revocation, self.settings.user_pool_id)

    @cached_property
    def portal_sessions(self) -> PortalSessions:
        from ..application.portal_sessions import PortalSessions

        return PortalSessions(self.token_verifier, self.catalogue, self.web_sessions)

    @cached_property
    def sign_in_throttle(self) -> SignInThrottle:
        from ..application.sign_in_throttle import SignInThrottle
        from ..data.throttle import SignInThrottleStore
        from ..data.trusted_devices import TrustedDevices

        web = self.web_settings
        return SignInThrottle(
            SignInThrottleStore(web.throttle_window_s),
            web.max_failures_per_account,
            web.max_failures_per_client,
            TrustedDevices(web.trusted_device_s),
        )

    # --- brands ---

    @cached_property
    def brands(self) -> Brands:
        from ..application.brands import Brands

        return Brands(self.brand_store, self.catalogue, self.settings.sender_email)

    @cached_property
    def logo_store(self) -> LogoStore:
        from ..branding.logos import LogoStore

        return LogoStore(self.client("s3"), self.settings.assets_bucket)

    @cached_property
    def dns_resolver(self) -> TxtResolver:
        """Custom-domain challenges; tests and tools assign a StaticTxtResolver."""
        from ..branding.domain_challenge import DnsOverHttpsResolver

        return DnsOverHttpsResolver(self.reseller_settings.dns_over_https_url)

    # --- use cases of the portal and the JSON API ---

    @cached_property
    def scope(self) -> UnitScope:
        from ..application.scope import UnitScope

        return UnitScope(self.catalogue)

    @cached_property
    def latest_readings(self) -> LatestReadings:
        from ..application.latest_reading import LatestReadings

        return LatestReadings(self.telemetry)

    @cached_property
    def portfolio(self) -> Portfolio:
        from ..application.portfolio import Portfolio

        return Portfolio(self.catalogue, self.ledger, self.scope)

    @cached_property
    def views(self) -> PortalViews:
        from ..application.views import PortalViews

        return PortalViews(
            self.catalogue,
            self.ledger,
            self.notification_store,
            self.telemetry,
            self.relay_log,
            self.scope,
            self.latest_readings,
            self.tenancies,
        )

    @cached_property
    def credit(self) -> CreditAndPower:
        from ..application.actions import CreditAndPower

        return CreditAndPower(self.ledger, self.meter_control, self.usage_counters, self.catalogue)

    @cached_property
    def consumption(self) -> ConsumptionCharts:
        from ..application.consumption import ConsumptionCharts
        from ..application.open_bucket import OpenBuckets
        from ..application.tenancy_usage import TenancyBuckets

        return ConsumptionCharts(
            self.catalogue,
            self.usage_days,
            self.scope,
            OpenBuckets(self.telemetry),
            TenancyBuckets(self.telemetry),
        )

    @cached_property
    def energy_balances(self) -> EnergyBalances:
        from ..pipeline.energy_balance import EnergyBalances

        return EnergyBalances(self.catalogue, self.usage_days)

    @cached_property
    def building_balance(self) -> BuildingBalance:
        from ..application.building_balance import BuildingBalance

        return BuildingBalance(
            self.catalogue, self.settings_store, self.energy_balances, self.scope
        )

    @cached_property
    def bus_health(self) -> BusHealthQueries:
        from ..application.bus_health import BusHealthQueries

        return BusHealthQueries(self.usage_days)

    @cached_property
    def bills(self) -> BillQueries:
        from ..application.bills import BillQueries

        return BillQueries(self.catalogue, self.bill_store, self.tenancies, self.scope)

    @cached_property
    def statements(self) -> Statements:
        from ..application.statements import Statements

        return Statements(self.catalogue, self.ledger, self.scope)

    @cached_property
    def notifications(self) -> NotificationQueries:
        from ..application.notifications_view import NotificationQueries

        return NotificationQueries(self.catalogue, self.notification_store)

    @cached_property
    def alert_settings(self) -> TenantAlertSettings:
        from ..application.notifications_view import TenantAlertSettings

        return TenantAlertSettings(self.catalogue)

    @cached_property
    def tenant_logins(self) -> TenantLogins:
        from ..application.tenant_logins import TenantLogins

        return TenantLogins(self.cognito_client, self.settings.user_pool_id, self.catalogue)

    @cached_property
    def move_ins(self) -> MoveIns:
        from ..application.move_in import MoveIns
        from ..data.bus_item import BusItems

        return MoveIns(
            self.catalogue,
            self.ledger,
            self.tenancies,
            self.scope,
            self.latest_readings,
            self.tenant_logins,
            BusItems(self.wire),
        )

    @cached_property
    def move_outs(self) -> MoveOuts:
        from ..application.move_out import MoveOuts
        from ..data.bus_item import BusItems

        return MoveOuts(
            self.catalogue,
            self.ledger,
            self.settlements,
            self.tenancies,
            self.scope,
            self.latest_readings,
            BusItems(self.wire),
        )

    @cached_property
    def settings_editor(self) -> SettingsEditor:
        from ..application.settings_edit import SettingsEditor

        return SettingsEditor(
            self.catalogue, self.settings_store, self.settings_rollout, self.scope
        )

    @cached_property
    def resale_check(self) -> ResaleCheck:
        from ..application.resale_check import ResaleCheck

        return ResaleCheck(
            self.catalogue, self.bill_store, self.settings_store, self.scope, self.statements
        )

    @cached_property
    def cycle_scheduler(self) -> CycleScheduler:
        from ..application.cycle_schedule import CycleScheduler

        return CycleScheduler(self.catalogue, self.settings_store, self.scope)

    @cached_property
    def tariff_scheduler(self) -> TariffScheduler:
        from ..application.tariff_schedule import TariffScheduler

        return TariffScheduler(self.catalogue, self.settings_store, self.scope, self.bill_store)

    @cached_property
    def tariff_previewer(self) -> TariffPreviewer:
        from ..application.tariff_preview import TariffPreviewer

        return TariffPreviewer(self.catalogue, self.usage_days, self.scope)

    @cached_property
    def reading_review(self) -> ReadingReview:
        from ..application.reading_review import ReadingReview

        return ReadingReview(
            self.scope,
            self.catalogue,
            self.held_readings,
            self.telemetry,
            self.latest_readings,
            self.corrections,
        )

    # --- the reseller API ---

    @cached_property
    def reseller_keys(self) -> ResellerKeys:
        from ..application.reseller.keys import ResellerKeys

        return ResellerKeys(self.api_keys, self.catalogue)

    @cached_property
    def onboarding(self) -> Onboarding:
        from ..application.custom_domains import CustomDomains
        from ..application.reseller.onboarding import Onboarding

        return Onboarding(
            self.catalogue,
            self.brand_store,
            self.logo_store,
            self.usage_counters,
            self.cognito_client,
            self.settings.user_pool_id,
            CustomDomains(self.client("acm"), self.client("apigateway")),
        )

    @cached_property
    def gateways(self) -> GatewayRegistry:
        from ..application.reseller.gateways import GatewayRegistry

        return GatewayRegistry(
            self.catalogue,
            self.client("iot"),
            self.usage_counters,
            self.reseller_settings,
            self.gateway_deployer,
            self.meter_profiles,
        )

    @cached_property
    def meter_profiles(self) -> CompanyMeterProfiles:
        from ..application.reseller.meter_profiles import CompanyMeterProfiles
        from ..data.meter_profiles import MeterProfileStore

        return CompanyMeterProfiles(MeterProfileStore())

    @cached_property
    def gateway_deployer(self) -> GatewayDeployer:
        from ..application.gateway_deployments import GatewayDeployer

        settings = self.reseller_settings
        return GatewayDeployer(
            self.client("greengrassv2"),
            self.client("iot"),
            settings.component_version,
            settings.shadow_manager_version,
        )


class ClientOnFirstUse:
    """Stands for a client until its first attribute is read, then is that client."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            self._client = self._make()
        return getattr(self._client, name)


def _render_alert(reading: AlertReading) -> AlertMessage:
    """The pages' alert text (``web/alert_text.py``), imported when a container writes
    its first alert: ingest's cold start imports no web module (an import-linter
    contract ignores this one edge, ``pyproject.toml``)."""
    from ..web.alert_text import render_alert

    return render_alert(reading)


_container: Container | None = None


def container() -> Container:
    """The process-wide container, built on first use (Lambda cold start)."""
    global _container
    if _container is None:
        _container = Container(get_settings())
    return _container


@contextmanager
def using(value: Container) -> Iterator[Container]:
    """Swap the root for a block (tests, tools) and put the previous one back after."""
    global _container
    previous, _container = _container, value
    try:
        yield value
    finally:
        _container = previous


def set_container(value: Container | None) -> None:
    """Tests and tools swap the whole root; ``None`` builds a fresh one on next use."""
    global _container
    _container = value
