"""Settings of the cloud functions: where they run and the pipeline's knobs.

Every environment variable name the functions read is a constant here (and the
portal's and reseller API's in their own settings objects), so the deployment
template and the local stand-in set exactly these and nothing else. Endpoints are
never set here for AWS: botocore and PynamoDB honour the standard
``AWS_ENDPOINT_URL_<SERVICE>`` variables, which is how the local stand-in points
the very same code at moto.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field

from ..config import EnvSettings

ENV_STAGE = "POWERLET_STAGE"
ENV_TABLE = "POWERLET_TABLE"
ENV_REGION = "AWS_REGION"
ENV_DEFAULT_REGION = "AWS_DEFAULT_REGION"
ENV_USER_POOL_ID = "POWERLET_USER_POOL_ID"
ENV_USER_POOL_CLIENT_ID = "POWERLET_USER_POOL_CLIENT_ID"
ENV_ASSETS_BUCKET = "POWERLET_ASSETS_BUCKET"
ENV_IOT_DATA_ENDPOINT = "POWERLET_IOT_DATA_ENDPOINT"
ENV_DEAD_LETTER_QUEUE_URL = "POWERLET_DEAD_LETTER_QUEUE_URL"
ENV_SENDER_EMAIL = "POWERLET_SENDER_EMAIL"
ENV_CATALOGUE_CACHE_S = "POWERLET_CATALOGUE_CACHE_S"
ENV_BILL_PROPERTY_FUNCTION = "POWERLET_BILL_PROPERTY_FUNCTION"
ENV_RECONCILE_COMPANY_FUNCTION = "POWERLET_RECONCILE_COMPANY_FUNCTION"
ENV_SETTLEMENT_PERIOD_H = "POWERLET_SETTLEMENT_PERIOD_H"

DEFAULT_REGION = "ap-northeast-1"


class Settings(EnvSettings):
    """What a function needs to know about where it runs."""

    stage: str = Field(
        default="local", pattern=r"^[a-z][a-z0-9-]{0,19}$", validation_alias=ENV_STAGE
    )
    table_name: str = Field(
        default="powerlet-local", min_length=3, max_length=255, validation_alias=ENV_TABLE
    )
    region: str = Field(
        default=DEFAULT_REGION,
        min_length=1,
        validation_alias=AliasChoices(ENV_REGION, ENV_DEFAULT_REGION),
    )
    user_pool_id: str | None = Field(default=None, validation_alias=ENV_USER_POOL_ID)
    user_pool_client_id: str | None = Field(default=None, validation_alias=ENV_USER_POOL_CLIENT_ID)
    assets_bucket: str | None = Field(default=None, validation_alias=ENV_ASSETS_BUCKET)
    iot_data_endpoint: str | None = Field(default=None, validation_alias=ENV_IOT_DATA_ENDPOINT)
    dead_letter_queue_url: str | None = Field(
        default=None, validation_alias=ENV_DEAD_LETTER_QUEUE_URL
    )
    sender_email: str = Field(
        default="no-reply@powerlet.example", validation_alias=ENV_SENDER_EMAIL
    )
    # How long a warm container trusts its copy of a bus's catalogue (meters,
    # units, tenancies). Catalogue edits take effect within this time.
    catalogue_cache_s: int = Field(
        default=300, ge=0, le=3600, validation_alias=ENV_CATALOGUE_CACHE_S
    )
    # Set in AWS: postpaid billing fans out one async invocation per property.
    bill_property_function: str | None = Field(
        default=None, validation_alias=ENV_BILL_PROPERTY_FUNCTION
    )
    # Set in AWS: reconciliation fans out one async invocation per company, and each
    # hands the rest of its company on to the same function (a bounded batch each).
    reconcile_company_function: str | None = Field(
        default=None, validation_alias=ENV_RECONCILE_COMPANY_FUNCTION
    )
    # Prepaid consumption reaches the ledger at least this often (and sooner on a
    # threshold, a top-up or a bill). See docs/pipeline.md for the write budget.
    # Fractions (down to 3.6 s) exist for the end-to-end tier, which cannot wait hours.
    settlement_period_h: float = Field(
        default=6, ge=0.001, le=24, validation_alias=ENV_SETTLEMENT_PERIOD_H
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use (Lambda cold start)."""
    return Settings.from_env()
