"""A company's own meter profiles: a new meter model without a component build.

A reseller stores a profile document (the gateway's format, ``profiles/*.yaml`` as JSON)
for a company; meters of that company may then name it, and every deployment of a gateway
whose meters use it carries the document in the component's ``profiles`` configuration,
where the gateway merges it over its shipped library and validates it in full at load
(docs/meters.md, "Profiles as configuration").

Checked here before anything is stored: the name, that it does not shadow a shipped
profile (the cloud's catalogue and ratings are the shipped ones), the size the gateway
accepts, and the document against ``domain/meter_profile.schema.json`` (generated from the
gateway's own pydantic model: every type, range, key name and unknown key), the first
error naming its field. What the model checks across fields (registers inside the readable
spans, expressions, relay names) the gateway checks when it loads the configuration; a
deployment it refuses fails on the device and rolls back (``ROLLBACK``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from ...data.errors import ConditionFailedError
from ...data.meter_profiles import MeterProfileStore
from ...domain.meter_models import MeterModel, meter_models, model_of, summarise
from .errors import InvalidMeterProfileError, MeterProfileConflictError

SCHEMA = Path(__file__).resolve().parents[2] / "domain" / "meter_profile.schema.json"
NAME = re.compile(r"^[a-z0-9_]{1,32}$")
MAX_DOCUMENT_BYTES = 64 * 1024  # the gateway's limit for one profile


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def check_profile(name: str, document: Any) -> dict[str, Any]:
    """The document, named, if the gateway's schema accepts it; InvalidMeterProfileError
    names the first bad field (``profiles.<name>.<field>``, as the gateway would)."""
    if not NAME.match(name):
        raise InvalidMeterProfileError(f"name: {name[:40]!r} is not [a-z0-9_]{{1,32}}")
    if name in meter_models():
        raise MeterProfileConflictError(f"{name} is a shipped profile: choose another name")
    if not isinstance(document, dict):
        raise InvalidMeterProfileError(f"profiles.{name}: a profile is a JSON object")
    document = {**document, "name": document.get("name", name)}
    if document["name"] != name:
        raise InvalidMeterProfileError(f"profiles.{name}.name: must be {name!r}")
    if len(json.dumps(document)) > MAX_DOCUMENT_BYTES:
        raise InvalidMeterProfileError(f"profiles.{name}: larger than {MAX_DOCUMENT_BYTES} bytes")
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        field = ".".join(str(p) for p in first.absolute_path) or "<root>"
        raise InvalidMeterProfileError(f"profiles.{name}.{field}: {first.message[:200]}")
    try:
        summarise(document)
    except (InvalidOperation, ValueError, KeyError, TypeError) as exc:
        raise InvalidMeterProfileError(f"profiles.{name}: {exc}") from exc
    return document


@dataclass(frozen=True)
class CompanyMeterProfiles:
    _store: MeterProfileStore

    def put(self, company_id: str, name: str, document: Any, now: datetime) -> dict[str, Any]:
        checked = check_profile(name, document)
        summary = summarise(checked)
        try:
            stored = self._store.put(company_id, name, summary["version"], checked, summary, now)
        except ConditionFailedError as exc:
            raise MeterProfileConflictError(str(exc)) from exc
        return {"name": name, "version": summary["version"], "stored": stored, "model": summary}

    def listed(self, company_id: str) -> list[dict[str, Any]]:
        return [dict(r.summary) for r in self._store.list(company_id)]

    def models(self, company_id: str, names: Iterable[str]) -> dict[str, MeterModel]:
        """The company's own models among ``names`` (shipped names are not looked up)."""
        own = [n for n in set(names) if n not in meter_models()]
        found = self._store.get_many(company_id, own) if own else {}
        return {name: model_of(record.summary) for name, record in found.items()}

    def documents(
        self, company_id: str, names: Iterable[str]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(documents, summaries) of the company's own profiles among ``names``."""
        own = [n for n in set(names) if n not in meter_models()]
        found = self._store.get_many(company_id, own) if own else {}
        return (
            {name: dict(r.document) for name, r in sorted(found.items())},
            {name: dict(r.summary) for name, r in sorted(found.items())},
        )
