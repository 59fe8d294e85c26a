"""Reseller API settings, read once from the environment into a typed object."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

ENV_RATE_PER_MINUTE = "POWERLET_RESELLER_RATE_PER_MINUTE"
ENV_GATEWAY_POLICY = "POWERLET_GATEWAY_POLICY"
ENV_IDEMPOTENCY_TTL_DAYS = "POWERLET_IDEMPOTENCY_TTL_DAYS"
ENV_STAGE = "POWERLET_STAGE"
ENV_DNS_OVER_HTTPS_URL = "POWERLET_DNS_OVER_HTTPS_URL"

GATEWAY_COMPONENT = "com.powerlet.MeterGateway"


class ResellerSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str = "local"
    rate_per_minute: int = Field(default=120, ge=1, le=10_000)
    # Idempotency records outlive any sane client retry by far, and still expire
    # (DynamoDB TTL): a replay after that is refused by the object's own
    # conditional create (company, gateway and meter ids are unique), not repeated.
    idempotency_ttl_days: int = Field(default=90, ge=1, le=3650)
    gateway_policy: str | None = None
    # where custom-domain TXT challenges are looked up (branding/domain_challenge.py)
    dns_over_https_url: str = Field(
        default="https://cloudflare-dns.com/dns-query", pattern=r"^https://[^\s]{1,200}$"
    )

    @property
    def gateway_policy_name(self) -> str:
        return self.gateway_policy or f"powerlet-{self.stage}-gateway"

    @property
    def idempotency_ttl_s(self) -> int:
        return self.idempotency_ttl_days * 86_400

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ResellerSettings:
        env = os.environ if env is None else env
        raw = {
            "stage": env.get(ENV_STAGE),
            "rate_per_minute": env.get(ENV_RATE_PER_MINUTE),
            "idempotency_ttl_days": env.get(ENV_IDEMPOTENCY_TTL_DAYS),
            "gateway_policy": env.get(ENV_GATEWAY_POLICY),
            "dns_over_https_url": env.get(ENV_DNS_OVER_HTTPS_URL),
        }
        return cls.model_validate({k: v for k, v in raw.items() if v})
