"""The reseller onboarding API's domain: request bodies, company onboarding,
gateway and meter registration. Routes: ``api/routes_reseller.py``; keys,
rate limit and idempotency: ``api/reseller_access.py``. See docs/brands.md."""

from ..gateway_deployments import deployment_settings
from .gateways import GatewayRegistry
from .onboarding import Onboarding

__all__ = ["GatewayRegistry", "Onboarding", "deployment_settings"]
