"""The JSON face of the settings editors: a property's friendly hours, holidays,
emergency credit and thresholds; a unit's tariff. Staff of the property only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalice import Blueprint

from ..application import settings_edit
from ..routing.access import STAFF, current_principal, route
from ..routing.dependencies import deps

bp = Blueprint(__name__)


@route(bp, "/v1/properties/{property_id}/settings", STAFF)
def get_property_settings(property_id: str) -> dict[str, Any]:
    """Friendly hours (property's time zone), holidays, emergency credit, thresholds, version."""
    p = current_principal(bp, STAFF)
    return deps().settings_editor.property_settings(p, property_id).as_json()


@route(
    bp,
    "/v1/properties/{property_id}/settings",
    STAFF,
    methods=("PUT",),
    body=settings_edit.PropertySettingsUpdate,
)
def put_property_settings(property_id: str) -> dict[str, Any]:
    """Replace the settings; 409 if they changed since ``version`` was read."""
    p = current_principal(bp, STAFF)
    deps().settings_editor.property_settings(p, property_id)  # 404 before the body is looked at
    body = settings_edit.PropertySettingsUpdate.model_validate(bp.current_request.json_body or {})
    saved = deps().settings_editor.save_property_settings(p, property_id, body, datetime.now(UTC))
    fresh = deps().settings_editor.property_settings(p, property_id).as_json()
    return {**fresh, "rollout": _rollout(saved)}


@route(bp, "/v1/units/{unit_id}/tariff", STAFF)
def get_unit_tariff(unit_id: str) -> dict[str, Any]:
    """The unit's tariff document, its own thresholds (null = inherited), version."""
    p = current_principal(bp, STAFF)
    return deps().settings_editor.unit_tariff(p, unit_id).as_json()


@route(
    bp,
    "/v1/units/{unit_id}/tariff",
    STAFF,
    methods=("PUT",),
    body=settings_edit.UnitTariffUpdate,
)
def put_unit_tariff(unit_id: str) -> dict[str, Any]:
    """Replace the tariff; an occupied prepaid unit is settled at the old tariff first."""
    p = current_principal(bp, STAFF)
    deps().scope.visible_unit(p, unit_id)
    body = settings_edit.UnitTariffUpdate.model_validate(bp.current_request.json_body or {})
    saved = deps().settings_editor.save_unit_tariff(p, unit_id, body, datetime.now(UTC))
    fresh = deps().settings_editor.unit_tariff(p, unit_id).as_json()
    return {**fresh, "settled_at_old_tariff": saved.settled, "rollout": _rollout(saved)}


def _rollout(saved: settings_edit.Saved) -> dict[str, int | bool]:
    return {
        "gateways": saved.rollout.gateways,
        "meters": saved.rollout.meters,
        "shadows_written": saved.rollout.shadows_written,
        "deferred": saved.rollout.deferred,
    }
