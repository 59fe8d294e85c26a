"""Reseller API settings (rate limit, idempotency, gateway policy, DNS lookups), read once
by the composition root."""

from __future__ import annotations

from pydantic import Field

from ...config import EnvSettings

ENV_RATE_PER_MINUTE = "POWERLET_RESELLER_RATE_PER_MINUTE"
ENV_GATEWAY_POLICY = "POWERLET_GATEWAY_POLICY"
ENV_IDEMPOTENCY_TTL_DAYS = "POWERLET_IDEMPOTENCY_TTL_DAYS"
ENV_STAGE = "POWERLET_STAGE"
ENV_DNS_OVER_HTTPS_URL = "POWERLET_DNS_OVER_HTTPS_URL"
ENV_COMPONENT_VERSION = "POWERLET_COMPONENT_VERSION"
ENV_SHADOW_MANAGER_VERSION = "POWERLET_SHADOW_MANAGER_VERSION"
ENV_REST_API_ID = "POWERLET_REST_API_ID"
# Pinned: a deployment names exact versions (the recipe accepts >=2.3.0 <3.0.0).
SHADOW_MANAGER_VERSION = "2.3.9"


class ResellerSettings(EnvSettings):
    stage: str = Field(default="local", validation_alias=ENV_STAGE)
    rate_per_minute: int = Field(default=120, ge=1, le=10_000, validation_alias=ENV_RATE_PER_MINUTE)
    # Idempotency records outlive any sane client retry by far, and still expire
    # (DynamoDB TTL): a replay after that is refused by the object's own
    # conditional create (company, gateway and meter ids are unique), not repeated.
    idempotency_ttl_days: int = Field(
        default=90, ge=1, le=3650, validation_alias=ENV_IDEMPOTENCY_TTL_DAYS
    )
    # Failed API key checks allowed per source address per window, then 429.
    failed_key_checks_per_source: int = Field(default=30, ge=1, le=10_000)
    failed_key_window_s: int = Field(default=300, ge=60, le=86_400)
    gateway_policy: str | None = Field(default=None, validation_alias=ENV_GATEWAY_POLICY)
    # where custom-domain TXT challenges are looked up (branding/domain_challenge.py)
    dns_over_https_url: str = Field(
        default="https://cloudflare-dns.com/dns-query",
        pattern=r"^https://[^\s]{1,200}$",
        validation_alias=ENV_DNS_OVER_HTTPS_URL,
    )

    # The component version the stack created (None: this stage deploys nothing to
    # gateways, and registration answers the configuration only).
    component_version: str | None = Field(
        default=None,
        pattern=r"^[0-9]{1,6}\.[0-9]{1,6}\.[0-9]{1,6}$",
        validation_alias=ENV_COMPONENT_VERSION,
    )
    shadow_manager_version: str = Field(
        default=SHADOW_MANAGER_VERSION,
        pattern=r"^[0-9]{1,6}\.[0-9]{1,6}\.[0-9]{1,6}$",
        validation_alias=ENV_SHADOW_MANAGER_VERSION,
    )

    # The API brand domains map to. Unset in AWS, where the request's own apiId is used;
    # the local stack names its stand-in API here (application/custom_domains.py).
    rest_api_id: str | None = Field(
        default=None, pattern=r"^[a-z0-9]{1,20}$", validation_alias=ENV_REST_API_ID
    )

    @property
    def gateway_policy_name(self) -> str:
        return self.gateway_policy or f"powerlet-{self.stage}-gateway"

    @property
    def idempotency_ttl_s(self) -> int:
        return self.idempotency_ttl_days * 86_400
