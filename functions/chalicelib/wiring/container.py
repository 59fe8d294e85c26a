"""The composition root: everything a function needs, built once per Lambda container.

Built lazily from the settings objects (each read once), so a function builds only
what its path touches. Every AWS client is injectable (``clients`` by service name)
and every collaborator is passed in through a constructor; no use case looks
anything up. The routes reach this object through ``routing.dependencies`` (the
root installs it there); event handlers through ``wiring.handlers``. No business
rule lives here: only construction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import boto3

from ..application.account_changes import AccountChanges
from ..application.actions import CreditAndPower
from ..application.bills import BillQueries
from ..application.brands import Brands
from ..application.building_balance import BuildingBalance
from ..application.bus_health import BusHealthQueries
from ..application.consumption import ConsumptionCharts
from ..application.custom_domains import CustomDomains
from ..application.cycle_schedule import CycleScheduler
from ..application.gateway_deployments import GatewayDeployer
from ..application.latest_reading import LatestReadings
from ..application.move_in import MoveIns
from ..application.move_out import MoveOuts
from ..application.notifications_view import NotificationQueries, TenantAlertSettings
from ..application.open_bucket import OpenBuckets
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
from ..application.tenancy_usage import TenancyBuckets
from ..application.tenant_logins import TenantLogins
from ..application.views import PortalViews
from ..auth.cognito_signin import CognitoSignIn
from ..auth.principals import Principals
from ..auth.tokens import TokenVerifier
from ..branding.domain_challenge import DnsOverHttpsResolver, TxtResolver
from ..branding.logos import LogoStore
from ..branding.store import BrandStore
from ..data.bills import BillStore
from ..data.binding import bind_models, new_connection, shared_session
from ..data.brand_records import BrandRecords
from ..data.bus_item import BusItems
from ..data.catalogue import Catalogue
from ..data.held_readings import HeldReadings
from ..data.ledger_store import LedgerStore
from ..data.member_access import MemberAccess
from ..data.meter_profiles import MeterProfileStore
from ..data.notifications import NotificationStore
from ..data.provisioning_store import ProvisioningStore
from ..data.relay_log import RelayLog
from ..data.reseller_idempotency import ResellerIdempotency
from ..data.reseller_store import ApiKeyStore, RateWindows
from ..data.settings_store import SettingsStore
from ..data.settlement_store import SettlementStore
from ..data.telemetry_store import TelemetryStore
from ..data.tenancies import TenancyStore
from ..data.throttle import SignInThrottleStore
from ..data.trusted_devices import TrustedDevices
from ..data.usage_days import UsageDayStore
from ..data.usage_store import UsageCounters
from ..data.web_sessions import WebSessionStore
from ..pipeline.alerts import Notifier
from ..pipeline.billing_run import BillingRun, lambda_dispatcher, utc
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
from ..pipeline.validation import ReadingValidator
from ..routing.web_settings import WebSettings
from ..web.alert_text import render_alert
from .settings import Settings, get_settings


@dataclass
class Container:
    """``clients`` overrides any boto3 client by service name (``iot-data``,
    ``sqs``, ``ses``, ``sns``, ``lambda``, ``cognito-idp``, ``s3``, ``iot``,
    ``greengrassv2``)."""

    settings: Settings
    clients: dict[str, Any] = field(default_factory=dict)

    # The data layer: built with the container (no I/O until a call), on one connection,
    # so every store shares one botocore session.
    catalogue: Catalogue = field(init=False)
    tenancies: TenancyStore = field(init=False)
    ledger: LedgerStore = field(init=False)
    settlements: SettlementStore = field(init=False)
    settings_store: SettingsStore = field(init=False)
    brand_store: BrandStore = field(init=False)
    bill_store: BillStore = field(default_factory=BillStore, init=False)
    notification_store: NotificationStore = field(default_factory=NotificationStore, init=False)
    telemetry: TelemetryStore = field(default_factory=TelemetryStore, init=False)
    usage_days: UsageDayStore = field(default_factory=UsageDayStore, init=False)
    usage_counters: UsageCounters = field(default_factory=UsageCounters, init=False)
    web_sessions: WebSessionStore = field(default_factory=WebSessionStore, init=False)
    api_keys: ApiKeyStore = field(default_factory=ApiKeyStore, init=False)
    rate_windows: RateWindows = field(default_factory=RateWindows, init=False)
    held_readings: HeldReadings = field(default_factory=HeldReadings, init=False)
    _boto3: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        bind_models(self.settings)
        connection = new_connection(self.settings)
        self.catalogue = Catalogue(connection)
        self.tenancies = TenancyStore(connection)
        self.ledger = LedgerStore(connection)
        self.settlements = SettlementStore(connection, self.ledger)
        self.settings_store = SettingsStore(connection)
        self.brand_store = BrandStore(BrandRecords(connection))

    def client(self, name: str) -> Any:
        if name not in self.clients:
            kwargs: dict[str, Any] = {"region_name": self.settings.region}
            if name == "iot-data" and self.settings.iot_data_endpoint:
                kwargs["endpoint_url"] = self.settings.iot_data_endpoint
            if self._boto3 is None:  # the models' botocore session (data/binding.py)
                self._boto3 = boto3.Session(botocore_session=shared_session())
            self.clients[name] = self._boto3.client(name, **kwargs)
        return self.clients[name]

    # --- the other settings objects, one per concern, each read once ---

    @cached_property
    def web_settings(self) -> WebSettings:
        return WebSettings.from_env()

    @cached_property
    def reseller_settings(self) -> ResellerSettings:
        return ResellerSettings.from_env()

    @cached_property
    def idempotency(self) -> ResellerIdempotency:
        """Powertools Idempotency on the same table as the models (its own boto3
        session: see ``ResellerIdempotency._new_layer``); tests may assign another."""
        return ResellerIdempotency(
            self.settings.table_name,
            self.settings.region,
            self.reseller_settings.idempotency_ttl_s,
        )

    # --- the event pipeline ---

    @cached_property
    def buses(self) -> BusDirectory:
        return BusDirectory(self.catalogue, self.settings.catalogue_cache_s)

    @cached_property
    def dead_letters(self) -> DeadLetters:
        return DeadLetters(self.client("sqs"), self.settings.dead_letter_queue_url)

    @cached_property
    def notifier(self) -> Notifier:
        return Notifier(
            self.catalogue,
            self.client("ses"),
            self.client("sns"),
            self.settings.sender_email,
            sender_for=self.brands.sender_for,
            sms_sender_for=self.brands.sms_sender_for,
            outbox=self.notification_store,
            render=render_alert,
            reach_for=self.brands.reach_for,
        )

    @cached_property
    def shadows(self) -> ShadowWriter:
        return ShadowWriter(self.client("iot-data"))

    @cached_property
    def relay_log(self) -> RelayLog:
        return RelayLog()

    @cached_property
    def controller(self) -> Controller:
        return Controller(self.shadows, self.relay_log, self.notifier)

    @cached_property
    def settler(self) -> Settler:
        return Settler(self.ledger, self.settlements, self.settings.settlement_period_h)

    @cached_property
    def ingest(self) -> Ingest:
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
        return SettingsRollout(
            self.catalogue, self.buses, self.telemetry, self.settler, self.controller
        )

    @cached_property
    def corrections(self) -> ReadingCorrections:
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
        return ProvisioningHook(ProvisioningStore())

    @cached_property
    def presence(self) -> Presence:
        return Presence(self.catalogue, self.telemetry, self.notifier, self.dead_letters)

    @cached_property
    def reconciliation(self) -> Reconciliation:
        dispatch = None
        if self.settings.reconcile_company_function:
            dispatch = lambda_dispatcher(
                self.client("lambda"), self.settings.reconcile_company_function
            )
        return Reconciliation(self.catalogue, self.ledger, self.notifier, dispatch)

    @cached_property
    def billing(self) -> BillingRun:
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
        if not (self.settings.user_pool_id and self.settings.user_pool_client_id):
            raise RuntimeError("POWERLET_USER_POOL_ID and POWERLET_USER_POOL_CLIENT_ID are not set")
        return TokenVerifier(
            self.settings.region, self.settings.user_pool_id, self.settings.user_pool_client_id
        )

    @cached_property
    def principals(self) -> Principals:
        return Principals(MemberAccess())

    @cached_property
    def cognito_client(self) -> Any:
        return self.client("cognito-idp")

    @cached_property
    def sign_in(self) -> CognitoSignIn:
        if not (self.settings.user_pool_id and self.settings.user_pool_client_id):
            raise RuntimeError("POWERLET_USER_POOL_ID and POWERLET_USER_POOL_CLIENT_ID are not set")
        return CognitoSignIn(
            self.cognito_client, self.settings.user_pool_id, self.settings.user_pool_client_id
        )

    @cached_property
    def failed_key_checks(self) -> FailedKeyChecks:
        config = self.reseller_settings
        return FailedKeyChecks(
            SignInThrottleStore(config.failed_key_window_s), config.failed_key_checks_per_source
        )

    @cached_property
    def session_revocation(self) -> SessionRevocation:
        return SessionRevocation(self.cognito_client, self.settings.user_pool_id, MemberAccess())

    @cached_property
    def account_changes(self) -> AccountChanges:
        return AccountChanges(self.session_revocation, self.settings.user_pool_id)

    @cached_property
    def portal_sessions(self) -> PortalSessions:
        return PortalSessions(self.token_verifier, self.catalogue, self.web_sessions)

    @cached_property
    def sign_in_throttle(self) -> SignInThrottle:
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
        return Brands(self.brand_store, self.catalogue, self.settings.sender_email)

    @cached_property
    def logo_store(self) -> LogoStore:
        return LogoStore(self.client("s3"), self.settings.assets_bucket)

    @cached_property
    def dns_resolver(self) -> TxtResolver:
        """Custom-domain challenges; tests and tools assign a StaticTxtResolver."""
        return DnsOverHttpsResolver(self.reseller_settings.dns_over_https_url)

    # --- use cases of the portal and the JSON API ---

    @cached_property
    def scope(self) -> UnitScope:
        return UnitScope(self.catalogue)

    @cached_property
    def latest_readings(self) -> LatestReadings:
        return LatestReadings(self.telemetry)

    @cached_property
    def portfolio(self) -> Portfolio:
        return Portfolio(self.catalogue, self.ledger, self.scope)

    @cached_property
    def views(self) -> PortalViews:
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
        return CreditAndPower(self.ledger, self.meter_control, self.usage_counters, self.catalogue)

    @cached_property
    def consumption(self) -> ConsumptionCharts:
        return ConsumptionCharts(
            self.catalogue,
            self.usage_days,
            self.scope,
            OpenBuckets(self.telemetry),
            TenancyBuckets(self.telemetry),
        )

    @cached_property
    def energy_balances(self) -> EnergyBalances:
        return EnergyBalances(self.catalogue, self.usage_days)

    @cached_property
    def building_balance(self) -> BuildingBalance:
        return BuildingBalance(
            self.catalogue, self.settings_store, self.energy_balances, self.scope
        )

    @cached_property
    def bus_health(self) -> BusHealthQueries:
        return BusHealthQueries(self.usage_days)

    @cached_property
    def bills(self) -> BillQueries:
        return BillQueries(self.catalogue, self.bill_store, self.tenancies, self.scope)

    @cached_property
    def statements(self) -> Statements:
        return Statements(self.catalogue, self.ledger, self.scope)

    @cached_property
    def notifications(self) -> NotificationQueries:
        return NotificationQueries(self.catalogue, self.notification_store)

    @cached_property
    def alert_settings(self) -> TenantAlertSettings:
        return TenantAlertSettings(self.catalogue)

    @cached_property
    def tenant_logins(self) -> TenantLogins:
        return TenantLogins(self.cognito_client, self.settings.user_pool_id, self.catalogue)

    @cached_property
    def move_ins(self) -> MoveIns:
        return MoveIns(
            self.catalogue,
            self.ledger,
            self.tenancies,
            self.scope,
            self.latest_readings,
            self.tenant_logins,
            BusItems(),
        )

    @cached_property
    def move_outs(self) -> MoveOuts:
        return MoveOuts(
            self.catalogue,
            self.ledger,
            self.settlements,
            self.tenancies,
            self.scope,
            self.latest_readings,
            BusItems(),
        )

    @cached_property
    def settings_editor(self) -> SettingsEditor:
        return SettingsEditor(
            self.catalogue, self.settings_store, self.settings_rollout, self.scope
        )

    @cached_property
    def resale_check(self) -> ResaleCheck:
        return ResaleCheck(
            self.catalogue, self.bill_store, self.settings_store, self.scope, self.statements
        )

    @cached_property
    def cycle_scheduler(self) -> CycleScheduler:
        return CycleScheduler(self.catalogue, self.settings_store, self.scope)

    @cached_property
    def tariff_scheduler(self) -> TariffScheduler:
        return TariffScheduler(self.catalogue, self.settings_store, self.scope, self.bill_store)

    @cached_property
    def tariff_previewer(self) -> TariffPreviewer:
        return TariffPreviewer(self.catalogue, self.usage_days, self.scope)

    @cached_property
    def reading_review(self) -> ReadingReview:
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
        return ResellerKeys(self.api_keys, self.catalogue)

    @cached_property
    def onboarding(self) -> Onboarding:
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
        return CompanyMeterProfiles(MeterProfileStore())

    @cached_property
    def gateway_deployer(self) -> GatewayDeployer:
        settings = self.reseller_settings
        return GatewayDeployer(
            self.client("greengrassv2"),
            self.client("iot"),
            settings.component_version,
            settings.shadow_manager_version,
        )


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
