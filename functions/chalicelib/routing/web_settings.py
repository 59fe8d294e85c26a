"""Settings of the pages (cookies, sessions, templates, sign-in throttling), read once by
the composition root. Here, below the edges, so the dependencies they take can name it."""

from __future__ import annotations

from pydantic import Field, model_validator

from ..config import EnvSettings

ENV_COOKIE_SECURE = "POWERLET_COOKIE_SECURE"
ENV_SESSION_LIFETIME_S = "POWERLET_SESSION_LIFETIME_S"
ENV_BRANDING_DIR = "POWERLET_BRANDING_DIR"
ENV_STAGE = "POWERLET_STAGE"


class WebSettings(EnvSettings):
    stage: str = Field(default="local", validation_alias=ENV_STAGE)
    # Secure cookies always, except a plain-http localhost run (stage "local").
    cookie_secure: bool = Field(default=True, validation_alias=ENV_COOKIE_SECURE)
    session_lifetime_s: int = Field(
        default=8 * 3600, ge=300, le=24 * 3600, validation_alias=ENV_SESSION_LIFETIME_S
    )
    branding_dir: str | None = Field(default=None, validation_alias=ENV_BRANDING_DIR)
    # Sign-in throttling: fixed windows, failures allowed per window.
    throttle_window_s: int = Field(default=900, ge=60, le=86_400)
    max_failures_per_account: int = Field(default=5, ge=1, le=100)
    # Soft: a building behind one address shares it, and a trusted browser skips it.
    max_failures_per_client: int = Field(default=100, ge=1, le=10_000)
    # How long a browser that signed in keeps its own sign-in budget (device cookie).
    trusted_device_s: int = Field(default=30 * 86_400, ge=3600, le=365 * 86_400)

    # Company admins sign in with TOTP; None: everywhere but the local stage, whose demo
    # logins have no authenticator (tests turn it on to prove it).
    mfa_required_for_admins: bool | None = Field(default=None)

    @property
    def admins_need_mfa(self) -> bool:
        if self.mfa_required_for_admins is None:
            return self.stage != "local"
        return self.mfa_required_for_admins

    @model_validator(mode="after")
    def _secure_outside_local(self) -> WebSettings:
        if not self.cookie_secure and self.stage != "local":
            raise ValueError("insecure cookies are only allowed for the local stage")
        return self
