"""The JSON face of the settings editors: a property's friendly hours, holidays,
emergency credit and thresholds; a unit's tariff and its scheduled versions (staff of
the property only); the company's thresholds (its admins only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint

from ..application.building_balance import MainMeterUpdate
from ..application.building_balance import as_json as balance_json
from ..application.settings_edit import (
    CompanyThresholdsUpdate,
    PropertySettingsUpdate,
    Saved,
    UnitTariffUpdate,
)
from ..application.tariff_preview import PreviewRequest
from ..application.tariff_schedule import ScheduledVersionRequest
from ..auth.principal import Principal
from ..routing.access import COMPANY_ADMINS, STAFF, current_principal, route
from ..routing.bodies import json_body
from ..routing.dependencies import deps
from .shapes import settings as shapes

bp = Blueprint(__name__)

# The company is the caller's own (the verified identity), so the path names none.
COMPANY_THRESHOLDS = "/v1/company/low-credit-thresholds"
PROPERTY_SETTINGS = "/v1/properties/{property_id}/settings"
MAIN_METER = "/v1/properties/{property_id}/main-meter"
ENERGY_BALANCE = "/v1/properties/{property_id}/energy-balance"
UNIT_TARIFF = "/v1/units/{unit_id}/tariff"
TARIFF_VERSIONS = "/v1/units/{unit_id}/tariff/versions"
TARIFF_VERSION = "/v1/units/{unit_id}/tariff/versions/{effective_from}"
TARIFF_PREVIEW = "/v1/units/{unit_id}/tariff/preview"
PUT = ("PUT",)


@route(bp, COMPANY_THRESHOLDS, COMPANY_ADMINS, response=shapes.CompanyThresholds)
def get_company_thresholds() -> dict[str, Any]:
    """The company's low-credit thresholds (what properties and units without their own
    use), its version, and the properties and units that set their own."""
    return deps().settings_editor.company_thresholds(_admin()).as_json()


@route(
    bp,
    COMPANY_THRESHOLDS,
    COMPANY_ADMINS,
    methods=PUT,
    body=CompanyThresholdsUpdate,
    response=shapes.CompanyThresholdsSaved,
    errors=(409,),
)
def put_company_thresholds() -> dict[str, Any]:
    """Replace the company's thresholds; 409 if they changed since ``version`` was read.
    Every bus of the company acts on them from its next message."""
    p, editor = _admin(), deps().settings_editor
    body = CompanyThresholdsUpdate.model_validate(json_body(bp.current_request) or {})
    saved = editor.save_company_thresholds(p, body, datetime.now(UTC))
    return {
        **editor.company_thresholds(p).as_json(),
        "gateways_marked": saved.gateways_marked,
    }


@route(bp, PROPERTY_SETTINGS, STAFF, response=shapes.PropertySettings)
def get_property_settings(property_id: str) -> dict[str, Any]:
    """Friendly hours (property's time zone), holidays, emergency credit, thresholds, version."""
    return deps().settings_editor.property_settings(_staff(), property_id).as_json()


@route(bp, UNIT_TARIFF, STAFF, response=shapes.UnitTariffView)
def get_unit_tariff(unit_id: str) -> dict[str, Any]:
    """The unit's tariff document, its own thresholds (null = inherited), version."""
    return deps().settings_editor.unit_tariff(_staff(), unit_id).as_json()


@route(
    bp,
    PROPERTY_SETTINGS,
    STAFF,
    methods=PUT,
    body=PropertySettingsUpdate,
    response=shapes.PropertySettingsSaved,
    errors=(409,),
)
def put_property_settings(property_id: str) -> dict[str, Any]:
    """Replace the settings; 409 if they changed since ``version`` was read."""
    p, editor = _staff(), deps().settings_editor
    editor.property_settings(p, property_id)  # 404 before the body is looked at
    body = PropertySettingsUpdate.model_validate(json_body(bp.current_request) or {})
    saved = editor.save_property_settings(p, property_id, body, datetime.now(UTC))
    return {**editor.property_settings(p, property_id).as_json(), "rollout": _rollout(saved)}


@route(
    bp,
    UNIT_TARIFF,
    STAFF,
    methods=PUT,
    body=UnitTariffUpdate,
    response=shapes.UnitTariffSaved,
    errors=(409, 422),
)
def put_unit_tariff(unit_id: str) -> dict[str, Any]:
    """Replace the tariff; an occupied prepaid unit is settled at the old tariff first."""
    p, editor = _staff(), deps().settings_editor
    deps().scope.visible_unit(p, unit_id)  # 404 before the body is looked at
    body = UnitTariffUpdate.model_validate(json_body(bp.current_request) or {})
    saved = editor.save_unit_tariff(p, unit_id, body, datetime.now(UTC))
    fresh = editor.unit_tariff(p, unit_id).as_json()
    return {**fresh, "settled_at_old_tariff": saved.settled, "rollout": _rollout(saved)}


@route(bp, TARIFF_VERSIONS, STAFF, response=shapes.TariffSchedule)
def get_tariff_versions(unit_id: str) -> dict[str, Any]:
    """Every version of the unit's tariff with its effective day (the property's time
    zone) and status (past, in force, scheduled); the end of the last issued bill."""
    return deps().tariff_scheduler.schedule_of(_staff(), unit_id, datetime.now(UTC)).as_json()


@route(
    bp,
    TARIFF_VERSIONS,
    STAFF,
    methods=("POST",),
    body=ScheduledVersionRequest,
    response=shapes.TariffSchedule,
    errors=(409,),
)
def post_tariff_version(unit_id: str) -> dict[str, Any]:
    """Schedule the next version from a later day; past versions are immutable (400
    naming the field: a day begun or billed, another currency, an invalid tariff)."""
    p, scheduler, now = _staff(), deps().tariff_scheduler, datetime.now(UTC)
    scheduler.schedule_of(p, unit_id, now)  # 404 before the body is looked at
    body = ScheduledVersionRequest.model_validate(json_body(bp.current_request) or {})
    return scheduler.schedule(p, unit_id, body, now).as_json()


@route(
    bp,
    TARIFF_PREVIEW,
    STAFF,
    methods=("POST",),
    body=PreviewRequest,
    response=shapes.TariffPreviewView,
)
def post_tariff_preview(unit_id: str) -> dict[str, Any]:
    """The bill ``tariff`` would make for the unit's last cycle (its own metered days,
    else 10 kWh a day), priced as bills are; nothing is stored. 400 names the field."""
    p, previewer, now = _staff(), deps().tariff_previewer, datetime.now(UTC)
    deps().settings_editor.unit_tariff(p, unit_id)  # 404 before the body is looked at
    body = PreviewRequest.model_validate(json_body(bp.current_request) or {})
    return previewer.preview(p, unit_id, body.tariff, now).as_json()


@route(
    bp, TARIFF_VERSION, STAFF, methods=("DELETE",), response=shapes.TariffSchedule, errors=(409,)
)
def delete_tariff_version(unit_id: str, effective_from: str) -> dict[str, Any]:
    """Withdraw a version not yet in force (400 for one that has taken effect)."""
    now = datetime.now(UTC)
    return deps().tariff_scheduler.withdraw(_staff(), unit_id, effective_from, None, now).as_json()


@route(
    bp,
    MAIN_METER,
    STAFF,
    methods=PUT,
    body=MainMeterUpdate,
    response=shapes.EnergyBalance,
    errors=(409,),
)
def put_main_meter(property_id: str) -> dict[str, Any]:
    """Declare the building's main meter (null: none) and its loss alert percentage."""
    p, balance = _staff(), deps().building_balance
    now = datetime.now(UTC)
    balance.of_property(p, property_id, now)  # 404 before the body is looked at
    body = MainMeterUpdate.model_validate(json_body(bp.current_request) or {})
    balance.set_main_meter(p, property_id, body, now)
    return balance_json(
        balance.of_property(p, property_id, now), balance.of_buses(p, property_id, now)
    )


@route(bp, ENERGY_BALANCE, STAFF, response=shapes.EnergyBalance)
def get_energy_balance(property_id: str) -> dict[str, Any]:
    """The main meter against the sum of the unit meters, per day of the last 30; each
    bus with its own main meter against that bus's other meters."""
    p, balance, now = _staff(), deps().building_balance, datetime.now(UTC)
    return balance_json(
        balance.of_property(p, property_id, now), balance.of_buses(p, property_id, now)
    )


def _staff() -> Principal:
    return current_principal(bp, STAFF)


def _admin() -> Principal:
    return current_principal(bp, COMPANY_ADMINS)


def _rollout(saved: Saved) -> dict[str, int | bool]:
    return {
        "gateways": saved.rollout.gateways,
        "meters": saved.rollout.meters,
        "shadows_written": saved.rollout.shadows_written,
        "deferred": saved.rollout.deferred,
    }
