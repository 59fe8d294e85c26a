"""Everything a handler needs, built once per Lambda container from Settings.

Tests and tools replace it with ``set_services`` (every AWS-facing piece is
injectable); handlers only ever call ``services()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import boto3
from pynamodb.exceptions import DoesNotExist

from ..auth.tokens import TokenVerifier
from ..branding.domain_challenge import DnsOverHttpsResolver, TxtResolver
from ..branding.logos import LogoStore
from ..branding.resolution import ResolvedBrand
from ..branding.resolution import resolve as resolve_brand
from ..branding.schema import PLATFORM_DEFAULT
from ..data import keys
from ..data.binding import bind_models, new_connection
from ..data.brand_store import BrandStore
from ..data.catalogue import Catalogue
from ..data.errors import NotFoundError
from ..data.ledger_store import LedgerStore
from ..data.models import Reseller
from ..data.reseller_store import ApiKeyStore, IdempotencyStore, RateWindows
from ..data.settings_store import SettingsStore
from ..data.settlement_store import SettlementStore
from ..data.telemetry_store import TelemetryStore
from ..data.throttle import SignInThrottleStore
from ..data.usage_store import UsageCounters
from ..data.web_sessions import WebSessionStore
from ..pipeline.alerts import Notifier
from ..pipeline.billing_run import BillingRun, lambda_dispatcher, utc
from ..pipeline.confirmation import RelayConfirmations
from ..pipeline.context import BusDirectory
from ..pipeline.control import Controller
from ..pipeline.dead_letters import DeadLetters
from ..pipeline.ingest import Ingest
from ..pipeline.meter_control import MeterControlService
from ..pipeline.presence import Presence
from ..pipeline.reconciliation import Reconciliation
from ..pipeline.relay_log import RelayLog
from ..pipeline.settings_rollout import SettingsRollout
from ..pipeline.settler import Settler
from ..pipeline.shadows import ShadowWriter
from ..reseller.config import ResellerSettings
from ..reseller.gateways import GatewayRegistry
from ..reseller.onboarding import Onboarding
from ..settings import Settings, get_settings
from ..web.cognito_signin import CognitoSignIn
from ..web.config import WebSettings
from ..web.throttling import SignInThrottle


@dataclass
class Services:
    """``clients`` overrides any boto3 client by service name (``iot-data``,
    ``sqs``, ``ses``, ``sns``, ``lambda``): every AWS client is injectable."""

    settings: Settings
    clients: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        bind_models(self.settings)

    def client(self, name: str) -> Any:
        if name not in self.clients:
            kwargs: dict[str, Any] = {"region_name": self.settings.region}
            if name == "iot-data" and self.settings.iot_data_endpoint:
                kwargs["endpoint_url"] = self.settings.iot_data_endpoint
            self.clients[name] = boto3.client(name, **kwargs)
        return self.clients[name]

    # --- the event pipeline ---

    @cached_property
    def telemetry(self) -> TelemetryStore:
        return TelemetryStore()

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
            sender_for=self.brand_sender,
            sms_sender_for=self.brand_sms_sender,
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
    def settlements(self) -> SettlementStore:
        return SettlementStore(new_connection(self.settings), self.ledger)

    @cached_property
    def settler(self) -> Settler:
        return Settler(
            self.ledger, self.settlements, self.notifier, self.settings.settlement_period_h
        )

    @cached_property
    def ingest(self) -> Ingest:
        return Ingest(
            self.buses,
            self.telemetry,
            self.settler,
            self.controller,
            self.notifier,
            self.dead_letters,
            usage=self.usage_counters,
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
    def settings_store(self) -> SettingsStore:
        return SettingsStore(new_connection(self.settings))

    @cached_property
    def settings_rollout(self) -> SettingsRollout:
        return SettingsRollout(
            self.catalogue,
            self.buses,
            self.telemetry,
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
    def presence(self) -> Presence:
        return Presence(self.catalogue, self.telemetry, self.notifier, self.dead_letters)

    @cached_property
    def reconciliation(self) -> Reconciliation:
        return Reconciliation(self.catalogue, self.ledger, self.notifier)

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
            self.catalogue, self.buses, self.telemetry, self.ledger, self.settlements, dispatch
        )

    @cached_property
    def catalogue(self) -> Catalogue:
        return Catalogue()

    @cached_property
    def ledger(self) -> LedgerStore:
        return LedgerStore(new_connection(self.settings))

    @cached_property
    def token_verifier(self) -> TokenVerifier:
        if not (self.settings.user_pool_id and self.settings.user_pool_client_id):
            raise RuntimeError("POWERLET_USER_POOL_ID and POWERLET_USER_POOL_CLIENT_ID are not set")
        return TokenVerifier(
            self.settings.region, self.settings.user_pool_id, self.settings.user_pool_client_id
        )

    # --- portal (browser sessions and sign-in) ---

    @cached_property
    def web_settings(self) -> WebSettings:
        return WebSettings.from_env()

    @cached_property
    def cognito_client(self) -> Any:
        return self.client("cognito-idp")

    @cached_property
    def sign_in(self) -> CognitoSignIn:
        if not self.settings.user_pool_client_id:
            raise RuntimeError("POWERLET_USER_POOL_CLIENT_ID is not set")
        return CognitoSignIn(self.cognito_client, self.settings.user_pool_client_id)

    @cached_property
    def web_sessions(self) -> WebSessionStore:
        return WebSessionStore()

    @cached_property
    def sign_in_throttle(self) -> SignInThrottle:
        return SignInThrottle(
            SignInThrottleStore(self.web_settings.throttle_window_s), self.web_settings
        )

    # --- brands and the reseller API (docs/brands.md) ---

    @cached_property
    def brand_store(self) -> BrandStore:
        return BrandStore(new_connection(self.settings))

    def brand_for(
        self, host: str | None, slug: str | None = None, company_id: str | None = None
    ) -> ResolvedBrand:
        return resolve_brand(self.brand_store, host, slug, company_id)

    def brand_sender(self, company_id: str) -> tuple[str, str]:
        """(display name, address) that e-mails of this company are sent as."""
        brand = self.brand_store.get(company_id)
        if brand is not None:
            return brand.email_sender_name, brand.email_sender_address
        try:  # an unbranded company: its own name, the platform's address
            name = str(self.catalogue.get_company(company_id).name)
        except NotFoundError:
            name = PLATFORM_DEFAULT.email_sender_name
        return name, self.settings.sender_email

    def brand_sms_sender(self, company_id: str) -> str | None:
        """The brand's alphanumeric SMS sender id; None for an unbranded company."""
        brand = self.brand_store.get(company_id)
        return brand.sms_sender_id if brand is not None else None

    @cached_property
    def logo_store(self) -> LogoStore:
        return LogoStore(self.client("s3"), self.settings.assets_bucket)

    @cached_property
    def dns_resolver(self) -> TxtResolver:
        """Custom-domain challenges; tests and tools assign a StaticTxtResolver."""
        return DnsOverHttpsResolver(self.reseller_settings.dns_over_https_url)

    @cached_property
    def usage_counters(self) -> UsageCounters:
        return UsageCounters()

    @cached_property
    def reseller_settings(self) -> ResellerSettings:
        return ResellerSettings.from_env()

    @cached_property
    def api_keys(self) -> ApiKeyStore:
        return ApiKeyStore()

    @cached_property
    def rate_windows(self) -> RateWindows:
        return RateWindows()

    @cached_property
    def idempotency(self) -> IdempotencyStore:
        return IdempotencyStore(self.reseller_settings.idempotency_ttl_s)

    def reseller_active(self, reseller_id: str) -> bool:
        try:
            item = Reseller.get(keys.reseller_pk(reseller_id), keys.RESELLER_SK)
        except DoesNotExist:
            return False
        return item.status == "active"

    @cached_property
    def onboarding(self) -> Onboarding:
        return Onboarding(
            self.catalogue,
            self.brand_store,
            self.logo_store,
            self.usage_counters,
            self.cognito_client,
            self.settings.user_pool_id,
        )

    @cached_property
    def gateways(self) -> GatewayRegistry:
        return GatewayRegistry(
            self.catalogue,
            new_connection(self.settings),
            self.client("iot"),
            self.usage_counters,
            self.reseller_settings,
        )


_services: Services | None = None


def services() -> Services:
    global _services
    if _services is None:
        _services = Services(get_settings())
    return _services


def set_services(value: Services | None) -> None:
    global _services
    _services = value
