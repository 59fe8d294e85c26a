"""The property's energy page: the building's main meter against the sum of its unit
meters per day (a chart and a table), and the form that declares the main meter. Same
use case as the JSON API (``application/building_balance.py``)."""

from __future__ import annotations

from dataclasses import dataclass

from chalice import Blueprint, Response
from pydantic import ValidationError

from ..application.building_balance import MainMeterUpdate, PropertyBalance
from ..application.chart import PairBar, pair_chart_svg
from ..application.settings_errors import InvalidSettingsError
from ..domain.energy_balance import BalanceStatus
from ..routing.access import STAFF
from ..routing.dependencies import deps
from .pages import PageContext, page

bp = Blueprint(__name__)

ENERGY_PAGE = "/portal/properties/{property_id}/energy"


@page(bp, ENERGY_PAGE, STAFF, methods=("GET", "POST"))
def energy_page(ctx: PageContext, property_id: str) -> Response:
    assert ctx.principal is not None
    building = deps().building_balance
    deps().scope.visible_property(ctx.principal, property_id)  # 404 before the form
    if ctx.request.method == "GET":
        return _show(ctx, property_id)
    form = ctx.form
    if "meter_id" not in form:  # the select always sends it, empty for "none"
        return _show(ctx, property_id, error=f"meter_id: {ctx.tr.t('field_invalid')}", status=400)
    try:
        update = MainMeterUpdate(
            meter_id=form.get("meter_id", "").strip() or None,
            loss_alert_percent=form.get("loss_alert_percent", "").strip() or None,
        )
        building.set_main_meter(ctx.principal, property_id, update, ctx.now)
    except InvalidSettingsError as exc:
        return _show(ctx, property_id, error=f"{exc.field}: {exc.message}", status=400)
    except ValidationError:
        return _show(ctx, property_id, error=ctx.tr.t("field_invalid"), status=400)
    return ctx.redirect(ENERGY_PAGE.format(property_id=property_id), done="1")


def _show(
    ctx: PageContext, property_id: str, error: str | None = None, status: int = 200
) -> Response:
    assert ctx.principal is not None
    building = deps().building_balance
    result = building.of_property(ctx.principal, property_id, ctx.now)
    buses = [
        BusBalanceView(gateway_id, balance, _chart(ctx, balance, f"balance-bus-{gateway_id}"))
        for gateway_id, balance in building.of_buses(ctx.principal, property_id, ctx.now)
    ]
    return ctx.render(
        "property_energy.html",
        status=status,
        b=result,
        svg=_chart(ctx, result, "balance") if result.main_meter_id else "",
        buses=buses,
        candidates=building.main_meter_candidates(ctx.principal, property_id),
        error=error,
        done=ctx.query.get("done") == "1",
        form=ctx.form if ctx.request.method == "POST" else {},
    )


@dataclass(frozen=True)
class BusBalanceView:
    """One bus's main meter against the bus's unit meters (a card of its own)."""

    gateway_id: str
    balance: PropertyBalance
    svg: str


def _chart(ctx: PageContext, result: PropertyBalance, chart_id: str) -> str:
    """The days of one main meter as pairs of bars, the days beyond its allowance flagged."""
    tr = ctx.tr
    bars = [
        PairBar(
            label=f"{d.day.month}/{d.day.day}",
            main_kwh=d.main_kwh,
            units_kwh=d.units_kwh,
            flagged=d.status in {BalanceStatus.LOSS, BalanceStatus.EXCESS},
            value_label=tr.t(
                "balance_bar",
                main="-" if d.main_kwh is None else tr.kwh(d.main_kwh),
                units=tr.kwh(d.units_kwh),
            ),
        )
        for d in result.days
    ]
    flagged = sum(1 for b in bars if b.flagged)
    return pair_chart_svg(
        bars,
        tr.t("balance_chart_title"),
        tr.t("balance_chart_desc", days=tr.number(len(bars)), flagged=tr.number(flagged)),
        chart_id,
        tr.kwh,
    )
