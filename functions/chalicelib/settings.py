"""Settings of the cloud functions, read once from the environment into a typed object.

Every environment variable name the functions read is a constant here, so the
deployment template and the local stand-in set exactly these and nothing else.
Endpoints are never set here for AWS: botocore and PynamoDB honour the standard
``AWS_ENDPOINT_URL_<SERVICE>`` variables, which is how the local stand-in points
the very same code at moto.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

ENV_STAGE = "POWERLET_STAGE"
ENV_TABLE = "POWERLET_TABLE"
ENV_REGION = "AWS_REGION"
ENV_USER_POOL_ID = "POWERLET_USER_POOL_ID"
ENV_USER_POOL_CLIENT_ID = "POWERLET_USER_POOL_CLIENT_ID"
ENV_ASSETS_BUCKET = "POWERLET_ASSETS_BUCKET"
ENV_IOT_DATA_ENDPOINT = "POWERLET_IOT_DATA_ENDPOINT"
ENV_DEAD_LETTER_QUEUE_URL = "POWERLET_DEAD_LETTER_QUEUE_URL"
ENV_SENDER_EMAIL = "POWERLET_SENDER_EMAIL"
ENV_CATALOGUE_CACHE_S = "POWERLET_CATALOGUE_CACHE_S"
ENV_BILL_PROPERTY_FUNCTION = "POWERLET_BILL_PROPERTY_FUNCTION"
ENV_SETTLEMENT_PERIOD_H = "POWERLET_SETTLEMENT_PERIOD_H"

DEFAULT_REGION = "ap-northeast-1"


class Settings(BaseModel):
    """What a function needs to know about where it runs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str = Field(default="local", pattern=r"^[a-z][a-z0-9-]{0,19}$")
    table_name: str = Field(default="powerlet-local", min_length=3, max_length=255)
    region: str = Field(default=DEFAULT_REGION, min_length=1)
    user_pool_id: str | None = None
    user_pool_client_id: str | None = None
    assets_bucket: str | None = None
    iot_data_endpoint: str | None = None
    dead_letter_queue_url: str | None = None
    sender_email: str = "no-reply@powerlet.example"
    # How long a warm container trusts its copy of a bus's catalogue (meters,
    # units, tenancies). Catalogue edits take effect within this time.
    catalogue_cache_s: int = Field(default=300, ge=0, le=3600)
    # Set in AWS: postpaid billing fans out one async invocation per property.
    bill_property_function: str | None = None
    # Prepaid consumption reaches the ledger at least this often (and sooner on a
    # threshold, a top-up or a bill). See docs/pipeline.md for the write budget.
    # Fractions (down to 3.6 s) exist for the end-to-end tier, which cannot wait hours.
    settlement_period_h: float = Field(default=6, ge=0.001, le=24)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        raw = {
            "stage": env.get(ENV_STAGE),
            "table_name": env.get(ENV_TABLE),
            "region": env.get(ENV_REGION) or env.get("AWS_DEFAULT_REGION"),
            "user_pool_id": env.get(ENV_USER_POOL_ID),
            "user_pool_client_id": env.get(ENV_USER_POOL_CLIENT_ID),
            "assets_bucket": env.get(ENV_ASSETS_BUCKET),
            "iot_data_endpoint": env.get(ENV_IOT_DATA_ENDPOINT),
            "dead_letter_queue_url": env.get(ENV_DEAD_LETTER_QUEUE_URL),
            "sender_email": env.get(ENV_SENDER_EMAIL),
            "catalogue_cache_s": env.get(ENV_CATALOGUE_CACHE_S),
            "bill_property_function": env.get(ENV_BILL_PROPERTY_FUNCTION),
            "settlement_period_h": env.get(ENV_SETTLEMENT_PERIOD_H),
        }
        return cls.model_validate({k: v for k, v in raw.items() if v})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use (Lambda cold start)."""
    return Settings.from_env()
