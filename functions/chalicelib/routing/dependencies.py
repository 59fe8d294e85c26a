"""What the routes (JSON API, reseller API and pages) take from the composition root.

Chalice registers routes as module-level functions, so a route cannot receive its
collaborators through a constructor. Instead the root (``chalicelib.wiring``)
installs a provider here and a route asks ``deps()`` for the use case it calls.
This module declares exactly what the edges may use (the root's ``Container``
satisfies it, checked by mypy where it is installed); use cases never come here
(an import-linter contract allows only the edges and the root to import it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

# Names for the protocol only: the root (wiring/) imports this module on every cold
# start, the event functions included, which use none of these (issue 19).
if TYPE_CHECKING:
    from ..application.actions import CreditAndPower
    from ..application.bills import BillQueries
    from ..application.brands import Brands
    from ..application.building_balance import BuildingBalance
    from ..application.bus_health import BusHealthQueries
    from ..application.consumption import ConsumptionCharts
    from ..application.cycle_schedule import CycleScheduler
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
    from ..application.views import PortalViews
    from ..auth.cognito_signin import CognitoSignIn
    from ..auth.principals import Principals
    from ..auth.tokens import TokenVerifier
    from ..branding.domain_challenge import TxtResolver
    from ..branding.logos import LogoStore
    from ..data.reseller_idempotency import ResellerIdempotency
    from ..data.reseller_store import ApiKeyStore, RateWindows
    from ..data.web_sessions import WebSessionStore
    from .web_settings import WebSettings


class Dependencies(Protocol):
    # identity
    @property
    def token_verifier(self) -> TokenVerifier: ...
    @property
    def principals(self) -> Principals: ...
    @property
    def sign_in(self) -> CognitoSignIn: ...
    @property
    def web_sessions(self) -> WebSessionStore: ...
    @property
    def portal_sessions(self) -> PortalSessions: ...
    @property
    def web_settings(self) -> WebSettings: ...
    @property
    def sign_in_throttle(self) -> SignInThrottle: ...
    @property
    def session_revocation(self) -> SessionRevocation: ...

    # brands
    @property
    def brands(self) -> Brands: ...
    @property
    def logo_store(self) -> LogoStore: ...
    @property
    def dns_resolver(self) -> TxtResolver: ...

    # the portal's use cases (pages and JSON API alike)
    @property
    def scope(self) -> UnitScope: ...
    @property
    def portfolio(self) -> Portfolio: ...
    @property
    def views(self) -> PortalViews: ...
    @property
    def credit(self) -> CreditAndPower: ...
    @property
    def consumption(self) -> ConsumptionCharts: ...
    @property
    def latest_readings(self) -> LatestReadings: ...
    @property
    def bus_health(self) -> BusHealthQueries: ...
    @property
    def building_balance(self) -> BuildingBalance: ...
    @property
    def bills(self) -> BillQueries: ...
    @property
    def statements(self) -> Statements: ...
    @property
    def notifications(self) -> NotificationQueries: ...
    @property
    def alert_settings(self) -> TenantAlertSettings: ...
    @property
    def move_ins(self) -> MoveIns: ...
    @property
    def move_outs(self) -> MoveOuts: ...
    @property
    def settings_editor(self) -> SettingsEditor: ...
    @property
    def cycle_scheduler(self) -> CycleScheduler: ...
    @property
    def resale_check(self) -> ResaleCheck: ...
    @property
    def tariff_scheduler(self) -> TariffScheduler: ...
    @property
    def tariff_previewer(self) -> TariffPreviewer: ...
    @property
    def reading_review(self) -> ReadingReview: ...

    # the reseller API
    @property
    def reseller_settings(self) -> ResellerSettings: ...
    @property
    def reseller_keys(self) -> ResellerKeys: ...
    @property
    def failed_key_checks(self) -> FailedKeyChecks: ...
    @property
    def api_keys(self) -> ApiKeyStore: ...
    @property
    def rate_windows(self) -> RateWindows: ...
    @property
    def idempotency(self) -> ResellerIdempotency: ...
    @property
    def onboarding(self) -> Onboarding: ...
    @property
    def gateways(self) -> GatewayRegistry: ...
    @property
    def meter_profiles(self) -> CompanyMeterProfiles: ...


_provider: Callable[[], Dependencies] | None = None


def install(provider: Callable[[], Dependencies]) -> None:
    """Called by the composition root when it is imported."""
    global _provider
    _provider = provider


def deps() -> Dependencies:
    if _provider is None:
        raise RuntimeError("no dependencies installed: import chalicelib.wiring first")
    return _provider()
