"""Settings of the cloud functions: where they run and the pipeline's knobs.

Every environment variable name the functions read is a constant here (and the
portal's and reseller API's in their own settings objects), so the deployment
template and the local stand-in set exactly these and nothing else. Endpoints are
never set here for AWS: botocore and PynamoDB honour the standard
``AWS_ENDPOINT_URL_<SERVICE>`` variables, which is how the local stand-in points
the very same code at moto.

A frozen dataclass read by a few lines of the standard library, not a pydantic model
(``config.EnvSettings``, which the portal's and the reseller API's settings use): every
function reads these on every cold start, and a steady ingest message uses nothing else
of pydantic, whose import is about 50 ms of a cold container's CPU (issue 19;
docs/deploy.md, "Cold start"). The rules pydantic checked (patterns, lengths, bounds,
types) are checked here, on construction, with the same names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any, Self

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


class SettingsError(ValueError):
    """A setting (from the environment or given by name) breaks its rule."""


class _Rule:
    """How one setting is read and checked (a plain class: a dataclass's generated
    methods cost a cold start CPU, and these are only read)."""

    __slots__ = ("ge", "le", "max_length", "min_length", "names", "pattern")

    def __init__(
        self,
        names: tuple[str, ...],  # the environment variables, first set wins
        pattern: str | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        ge: float | None = None,
        le: float | None = None,
    ) -> None:
        self.names = names
        self.pattern = pattern
        self.min_length = min_length
        self.max_length = max_length
        self.ge = ge
        self.le = le


def _setting(default: Any, *names: str, **rule: Any) -> Any:
    """A field read from the environment variables ``names`` (the first one set)."""
    return field(default=default, metadata={"rule": _Rule(names, **rule)})


@dataclass(frozen=True)
class Settings:
    """What a function needs to know about where it runs."""

    stage: str = _setting("local", ENV_STAGE, pattern=r"^[a-z][a-z0-9-]{0,19}$")
    table_name: str = _setting("powerlet-local", ENV_TABLE, min_length=3, max_length=255)
    region: str = _setting(DEFAULT_REGION, ENV_REGION, ENV_DEFAULT_REGION, min_length=1)
    user_pool_id: str | None = _setting(None, ENV_USER_POOL_ID)
    user_pool_client_id: str | None = _setting(None, ENV_USER_POOL_CLIENT_ID)
    assets_bucket: str | None = _setting(None, ENV_ASSETS_BUCKET)
    iot_data_endpoint: str | None = _setting(None, ENV_IOT_DATA_ENDPOINT)
    dead_letter_queue_url: str | None = _setting(None, ENV_DEAD_LETTER_QUEUE_URL)
    sender_email: str = _setting("no-reply@powerlet.example", ENV_SENDER_EMAIL)
    # How long a warm container trusts its copy of a bus's catalogue (meters,
    # units, tenancies). Catalogue edits take effect within this time.
    catalogue_cache_s: int = _setting(300, ENV_CATALOGUE_CACHE_S, ge=0, le=3600)
    # Set in AWS: postpaid billing fans out one async invocation per property.
    bill_property_function: str | None = _setting(None, ENV_BILL_PROPERTY_FUNCTION)
    # Set in AWS: reconciliation fans out one async invocation per company, and each
    # hands the rest of its company on to the same function (a bounded batch each).
    reconcile_company_function: str | None = _setting(None, ENV_RECONCILE_COMPANY_FUNCTION)
    # Prepaid consumption reaches the ledger at least this often (and sooner on a
    # threshold, a top-up or a bill). See docs/pipeline.md for the write budget.
    # Fractions (down to 3.6 s) exist for the end-to-end tier, which cannot wait hours.
    settlement_period_h: float = _setting(6.0, ENV_SETTLEMENT_PERIOD_H, ge=0.001, le=24)

    def __post_init__(self) -> None:
        for each in fields(self):
            value = _checked(each.name, each.type, getattr(self, each.name), each.metadata["rule"])
            object.__setattr__(self, each.name, value)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """The process environment, or (tests, tools) exactly the mapping given. Names
        are case-sensitive; unset and empty variables leave the default."""
        source = os.environ if env is None else env
        given: dict[str, Any] = {}
        for each in fields(cls):
            rule: _Rule = each.metadata["rule"]
            raw = next((source[n] for n in rule.names if source.get(n)), None)
            if raw is not None:
                given[each.name] = _parsed(f"{each.name} ({rule.names[0]})", str(each.type), raw)
        return cls(**given)

    @classmethod
    def env_names(cls) -> frozenset[str]:
        """Every environment variable this object reads."""
        return frozenset(n for each in fields(cls) for n in each.metadata["rule"].names)


def _parsed(where: str, kind: str, raw: str) -> Any:
    """An environment variable's text as the field's type (``int``, ``float`` or text)."""
    number = {"int": int, "float": float}.get(kind)
    if number is None:
        return raw
    try:
        return number(raw)
    except ValueError:
        raise SettingsError(f"{where} must be a number ({kind}), not {raw!r}") from None


def _checked(field_name: str, kind: Any, value: Any, rule: _Rule) -> Any:
    """``value`` if it keeps ``rule`` (an int where a float goes becomes the float)."""
    where = f"{field_name} ({rule.names[0]})"
    if value is None:
        if not str(kind).endswith("| None"):
            raise SettingsError(f"{where} must be set")
        return None
    if str(kind).startswith("str"):
        if not isinstance(value, str):
            raise SettingsError(f"{where} must be text, not {value!r}")
        if rule.pattern is not None and not re.fullmatch(rule.pattern, value):
            raise SettingsError(f"{where} must match {rule.pattern}, not {value!r}")
        if rule.min_length is not None and len(value) < rule.min_length:
            raise SettingsError(f"{where} needs at least {rule.min_length} characters")
        if rule.max_length is not None and len(value) > rule.max_length:
            raise SettingsError(f"{where} takes at most {rule.max_length} characters")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingsError(f"{where} must be a number, not {value!r}")
    if kind == "int" and not isinstance(value, int):
        raise SettingsError(f"{where} must be a whole number, not {value!r}")
    if not (rule.ge is None or value >= rule.ge) or not (rule.le is None or value <= rule.le):
        raise SettingsError(f"{where} must be within [{rule.ge}, {rule.le}], not {value!r}")
    return float(value) if kind == "float" else value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use (Lambda cold start)."""
    return Settings.from_env()
