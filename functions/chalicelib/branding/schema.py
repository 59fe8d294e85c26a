"""The brand config: what a company may change about how Powerlet looks and speaks.

Every value is data. Nothing here is ever compiled as a template: pages render
brand fields through Jinja2 autoescape, colours reach CSS only after matching
``#rrggbb`` exactly, and free text refuses markup and template delimiters so a
brand cannot even look like code (belt and braces on top of escaping).
"""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from ..domain.money import CURRENCY_EXPONENTS
from ..domain.text_rules import REFUSED_CHARACTERS
from .contrast import MIN_TEXT_CONTRAST, contrast_ratio
from .errors import InvalidBrandError

LOCALES = ("en", "zh_TW")  # the portal's languages (web/i18n/languages.py LANGUAGES)
MAX_DOMAINS = 5
MAX_CONFIG_BYTES = 8_192

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")
# A DNS name of at least two labels, letters/digits/hyphens only: no port, no
# path, no userinfo, nothing a Host header could use to smuggle another name.
_DOMAIN = re.compile(
    r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}$"
)
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}$")
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
# Alphanumeric SMS sender ids: at most 11 characters, at least one letter.
_SMS_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9]{1,11}$")
_LOGO_KEY = re.compile(r"^brands/([a-z0-9-]{1,32})/logo-[0-9a-f]{16}\.(png|jpg|webp)$")
# Markup and template delimiters have no business in a company's name or footer;
# nor have line breaks (e-mail headers carry the sender name) or bidi overrides
# (a name that reads differently from what it is).
_FORBIDDEN_TEXT = re.compile(rf"[<>{REFUSED_CHARACTERS}]|\{{\{{|\{{%|\{{#|%\}}|\}}\}}")


def _colour(value: str) -> str:
    if not _HEX.fullmatch(value):
        raise ValueError("a colour is #rrggbb")
    return value.lower()


def _plain_text(value: str) -> str:
    if _FORBIDDEN_TEXT.search(value):
        raise ValueError("markup, template delimiters and control characters are not allowed")
    if value != value.strip():
        raise ValueError("no leading or trailing spaces")
    return value


def _domain(value: str) -> str:
    value = value.lower()
    if not _DOMAIN.fullmatch(value):
        raise ValueError(f"{value!r} is not a host name")
    return value


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError("not an e-mail address")
    return value.lower()


def _sms_sender(value: str) -> str:
    if not _SMS_SENDER.fullmatch(value):
        raise ValueError("an SMS sender id is 1-11 letters or digits, at least one letter")
    return value


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _currency(value: str) -> str:
    # The domain's table, not CLDR's list of ~300: a brand may only default to a currency
    # whose amounts the domain can store, parse and show (domain/money.py).
    if value not in CURRENCY_EXPONENTS:
        raise ValueError(
            f"{value!r} is not a supported currency (one of {', '.join(sorted(CURRENCY_EXPONENTS))})"
        )
    return value


def _time_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError("not an IANA time zone")
    return value


Colour = Annotated[str, AfterValidator(_colour)]
PlainText = Annotated[str, AfterValidator(_plain_text)]
Domain = Annotated[str, Field(max_length=253), AfterValidator(_domain)]
Email = Annotated[str, Field(max_length=254), AfterValidator(_email)]


class BrandColours(BaseModel):
    """The portal's CSS custom properties a brand may set; every text colour is
    checked against the background it is drawn on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    primary: Colour = "#0b5cad"
    primary_text: Colour = "#ffffff"  # on primary (header, buttons)
    background: Colour = "#f5f6f8"
    surface: Colour = "#ffffff"  # cards
    text: Colour = "#1b1f24"
    muted: Colour = "#545d68"  # secondary text, on surface

    # (foreground, background) pairs that carry text somewhere in the portal
    TEXT_PAIRS: ClassVar[tuple[tuple[str, str], ...]] = (
        ("primary_text", "primary"),
        ("text", "background"),
        ("text", "surface"),
        ("muted", "surface"),
        ("primary", "surface"),  # links
        ("primary", "background"),
    )

    @model_validator(mode="after")
    def _readable(self) -> BrandColours:
        for fg, bg in self.TEXT_PAIRS:
            ratio = contrast_ratio(getattr(self, fg), getattr(self, bg))
            if ratio < MIN_TEXT_CONTRAST:
                raise ValueError(
                    f"{fg} on {bg} has contrast {ratio:.2f}, below {MIN_TEXT_CONTRAST} (WCAG AA)"
                )
        return self

    def css_properties(self) -> dict[str, str]:
        return {
            "--primary": self.primary,
            "--primary-text": self.primary_text,
            "--bg": self.background,
            "--surface": self.surface,
            "--text": self.text,
            "--muted": self.muted,
        }


class BrandConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)

    slug: str = Field(pattern=_SLUG.pattern, max_length=32)
    display_name: PlainText = Field(min_length=1, max_length=60)
    logo_key: str | None = Field(default=None, pattern=_LOGO_KEY.pattern)
    colours: BrandColours = Field(default_factory=BrandColours)
    custom_domains: tuple[Domain, ...] = Field(default=(), max_length=MAX_DOMAINS)
    support_email: Email
    support_phone: str | None = Field(default=None, pattern=_PHONE.pattern)
    email_sender_name: PlainText = Field(min_length=1, max_length=60)
    email_sender_address: Email
    sms_sender_id: Annotated[str, AfterValidator(_sms_sender)]
    default_locale: str = Field(default="en", pattern=r"^(en|zh_TW)$")
    currency: Annotated[str, AfterValidator(_currency)] = "TWD"
    time_zone: Annotated[str, AfterValidator(_time_zone)] = "Asia/Taipei"
    legal_footer: PlainText = Field(default="", max_length=300)

    @model_validator(mode="after")
    def _consistent(self) -> BrandConfig:
        if len(set(self.custom_domains)) != len(self.custom_domains):
            raise ValueError("custom_domains repeats a domain")
        if self.logo_key is not None:
            match = _LOGO_KEY.fullmatch(self.logo_key)
            # a brand may only point at its own uploads
            if match is None or match.group(1) != self.slug:
                raise ValueError("logo_key must be one of this brand's uploads")
        return self

    @property
    def css_variables(self) -> dict[str, str]:
        return self.colours.css_properties()


def parse_brand(raw: Any) -> BrandConfig:
    """Validate untrusted brand data; one error type whatever was wrong."""
    try:
        return BrandConfig.model_validate(raw)
    except ValidationError as exc:
        raise InvalidBrandError(_summary(exc)) from exc


def _summary(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "brand"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


PLATFORM_DEFAULT = BrandConfig(
    slug="powerlet",
    display_name="Powerlet",
    support_email="support@powerlet.example",
    email_sender_name="Powerlet",
    email_sender_address="no-reply@powerlet.example",
    sms_sender_id="Powerlet",
    legal_footer="Powerlet · metered electricity for rented property",
)
