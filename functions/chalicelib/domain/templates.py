"""Tariff templates: published utility tariffs as versioned data a landlord starts from.

Each file in ``tariff_templates/`` is a template: the utility, the market, the billing
cycle the utility uses, notes on what is and is not modelled, and the tariff's versions,
each with its effective date and the public source its figures come from (a version whose
figures could not all be checked says so in its ``note``). A template is validated like
any tariff timeline when loaded; a file that fails is refused with the field named.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    model_validator,
)

from chalicelib.domain.cycles import BillingCycle, parse_cycle
from chalicelib.domain.errors import InvalidTemplateError
from chalicelib.domain.tariff_versions import AnyTariff, TariffTimeline, TariffVersion
from chalicelib.domain.tariffs import PRICE_DECIMALS, parse_tariff

TEMPLATE_PACKAGE = "chalicelib.domain.tariff_templates"
MAX_TEMPLATES = 64
Text = Annotated[str, Field(min_length=1, max_length=2000)]
# A billing cycle is a plain dataclass (domain/cycles.py says why): read and written by
# its own functions, its errors naming ``cycle.<field>``.
Cycle = Annotated[
    BillingCycle,
    PlainValidator(lambda document: parse_cycle(document, "cycle.")),
    PlainSerializer(BillingCycle.document),
]


class TariffTemplate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    template_id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
    name: Text
    market: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    utility: Text
    cycle: Cycle
    notes: list[Text] = Field(default_factory=list, max_length=16)
    versions: list[TariffVersion] = Field(min_length=1, max_length=64)

    @model_validator(mode="after")
    def _sourced_timeline(self) -> TariffTemplate:
        for index, version in enumerate(self.versions):
            if not version.source or not version.source.startswith(("https://", "http://")):
                raise ValueError(f"versions.{index}.source must be the URL the figures come from")
        TariffTimeline(versions=self.versions)  # ordered, one currency
        return self

    @property
    def timeline(self) -> TariffTimeline:
        return TariffTimeline(versions=self.versions)


def parse_template(document: object) -> TariffTemplate:
    try:
        return TariffTemplate.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'template'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InvalidTemplateError(f"invalid tariff template: {problems}") from exc


@cache
def all_templates() -> tuple[TariffTemplate, ...]:
    """Every packaged template, by id (read once per container)."""
    found: list[TariffTemplate] = []
    for entry in sorted(resources.files(TEMPLATE_PACKAGE).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        try:
            document = json.loads(entry.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise InvalidTemplateError(f"{entry.name}: not JSON ({exc})") from exc
        try:
            found.append(parse_template(document))
        except InvalidTemplateError as exc:
            raise InvalidTemplateError(f"{entry.name}: {exc}") from exc
    if len(found) > MAX_TEMPLATES:
        raise InvalidTemplateError(f"more than {MAX_TEMPLATES} templates")
    return tuple(sorted(found, key=lambda t: t.template_id))


def template(template_id: str) -> TariffTemplate:
    for candidate in all_templates():
        if candidate.template_id == template_id:
            return candidate
    raise InvalidTemplateError(f"unknown tariff template {template_id!r}")


MAX_MARKUP_PERCENT = Decimal(1000)
_MARKED_PRICES = ("price_per_kwh",)


def marked_up(tariff: AnyTariff, percent: Decimal, tariff_id: str) -> AnyTariff:
    """``tariff`` with every energy price (flat, tier, band, seasonal band) raised by
    ``percent`` and held to the tariff's price decimals (half-up), under a new id.

    Fixed and standing charges pass through unchanged: where a market caps resale (GB)
    the landlord may recover the supplier's standing charge but not mark it up
    (docs/tariffs.md, "Resale caps per market")."""
    if not Decimal(0) <= percent <= MAX_MARKUP_PERCENT:
        raise InvalidTemplateError(f"markup must be between 0 and {MAX_MARKUP_PERCENT} %")
    factor = 1 + percent / 100
    step = Decimal(1).scaleb(-PRICE_DECIMALS)

    def raise_prices(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: _raised(value, factor, step) if key in _MARKED_PRICES else raise_prices(value)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [raise_prices(item) for item in node]
        return node

    document = raise_prices(tariff.model_dump(mode="json"))
    return parse_tariff(document | {"tariff_id": tariff_id})


def _raised(price: str, factor: Decimal, step: Decimal) -> str:
    exact = Decimal(price) * factor
    return format(exact.quantize(step, rounding=ROUND_HALF_UP).normalize(), "f")
