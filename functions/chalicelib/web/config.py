"""Portal settings, read once from the environment into a typed object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, model_validator

ENV_COOKIE_SECURE = "POWERLET_COOKIE_SECURE"
ENV_SESSION_LIFETIME_S = "POWERLET_SESSION_LIFETIME_S"
ENV_BRANDING_DIR = "POWERLET_BRANDING_DIR"
ENV_STAGE = "POWERLET_STAGE"


class WebSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str = "local"
    # Secure cookies always, except a plain-http localhost run (stage "local").
    cookie_secure: bool = True
    session_lifetime_s: int = Field(default=8 * 3600, ge=300, le=24 * 3600)
    branding_dir: str | None = None
    # Sign-in throttling: fixed windows, failures allowed per window.
    throttle_window_s: int = Field(default=900, ge=60, le=86_400)
    max_failures_per_account: int = Field(default=5, ge=1, le=100)
    max_failures_per_client: int = Field(default=20, ge=1, le=1000)

    @model_validator(mode="after")
    def _secure_outside_local(self) -> WebSettings:
        if not self.cookie_secure and self.stage != "local":
            raise ValueError("insecure cookies are only allowed for the local stage")
        return self

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebSettings:
        env = os.environ if env is None else env
        raw: dict[str, object] = {
            "stage": env.get(ENV_STAGE),
            "cookie_secure": _flag(env.get(ENV_COOKIE_SECURE)),
            "session_lifetime_s": env.get(ENV_SESSION_LIFETIME_S),
            "branding_dir": env.get(ENV_BRANDING_DIR),
        }
        return cls.model_validate({k: v for k, v in raw.items() if v is not None and v != ""})


def _flag(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    return value.strip().lower() not in {"0", "false", "no", "off"}


@lru_cache(maxsize=1)
def get_web_settings() -> WebSettings:
    return WebSettings.from_env()
