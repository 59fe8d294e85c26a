"""Powerlet's Chalice app: registration only. Routes live in chalicelib/api and
chalicelib/web, event entry points in chalicelib/wiring/handlers.py.

In AWS only the API and its authorizers run this module: each event and scheduled
function's Handler is its own module in chalicelib/lambdas, which imports that
function's path and not every route and page (the template sets it, docs/deploy.md)."""

from typing import Any

from chalice import Chalice, Rate
from chalice.app import CloudWatchEvent

from chalicelib import observability
from chalicelib.api.reseller_access import reseller_auth_bp
from chalicelib.api.routes_consumption import bp as consumption_api_bp
from chalicelib.api.routes_cycles import bp as cycles_api_bp
from chalicelib.api.routes_moves import bp as moves_api_bp
from chalicelib.api.routes_portal import bp as portal_api_bp
from chalicelib.api.routes_portfolio import bp as portfolio_bp
from chalicelib.api.routes_readings import bp as readings_api_bp
from chalicelib.api.routes_reseller import bp as reseller_bp
from chalicelib.api.routes_settings import bp as settings_api_bp
from chalicelib.api.routes_statements import bp as statements_api_bp
from chalicelib.routing.authorizer import auth_bp
from chalicelib.routing.errors import framework_problem
from chalicelib.routing.headers import add_security_headers
from chalicelib.web.routes_alerts import bp as alert_pages_bp
from chalicelib.web.routes_brand import bp as brand_pages_bp
from chalicelib.web.routes_building import bp as building_pages_bp
from chalicelib.web.routes_cycles import bp as cycle_pages_bp
from chalicelib.web.routes_moves import bp as move_pages_bp
from chalicelib.web.routes_readings import bp as reading_pages_bp
from chalicelib.web.routes_resale import bp as resale_pages_bp
from chalicelib.web.routes_settings import bp as settings_pages_bp
from chalicelib.web.routes_signin import bp as signin_bp
from chalicelib.web.routes_staff import bp as staff_pages_bp
from chalicelib.web.routes_statements import bp as statement_pages_bp
from chalicelib.web.routes_tariff import bp as tariff_pages_bp
from chalicelib.web.routes_tenant import bp as tenant_pages_bp
from chalicelib.wiring import handlers

app = Chalice(app_name="powerlet")
observability.trace_aws_calls()  # every AWS call a subsegment of the invocation's trace
app.register_blueprint(auth_bp)
app.register_blueprint(portfolio_bp)
app.register_blueprint(portal_api_bp)
app.register_blueprint(consumption_api_bp)
app.register_blueprint(signin_bp)
app.register_blueprint(staff_pages_bp)
app.register_blueprint(tenant_pages_bp)
app.register_blueprint(reseller_auth_bp)
app.register_blueprint(reseller_bp)
app.register_blueprint(brand_pages_bp)
app.register_blueprint(moves_api_bp)
app.register_blueprint(move_pages_bp)
app.register_blueprint(settings_api_bp)
app.register_blueprint(settings_pages_bp)
app.register_blueprint(tariff_pages_bp)
app.register_blueprint(building_pages_bp)
app.register_blueprint(statements_api_bp)
app.register_blueprint(statement_pages_bp)
app.register_blueprint(readings_api_bp)
app.register_blueprint(reading_pages_bp)
app.register_blueprint(alert_pages_bp)
app.register_blueprint(cycles_api_bp)
app.register_blueprint(cycle_pages_bp)
app.register_blueprint(resale_pages_bp)
app.api.binary_types.append("image/webp")  # brand logos (png and jpeg are chalice defaults)


@app.middleware("all")
def publish_metrics(event: Any, get_response: Any) -> Any:
    """Each invocation starts with a clean log context and publishes what it measured
    once, as it ends (EMF log lines)."""
    with observability.invocation():
        return get_response(event)


@app.middleware("http")
def security_headers(event: Any, get_response: Any) -> Any:
    """HSTS, nosniff and no-store on every answer (``routing/headers.py``); chalice's own
    refusals as problem documents (``routing/errors.py``)."""
    response = framework_problem(get_response(event), event.context.get("path") or event.path)
    add_security_headers(response.headers)
    return response


# --- the event pipeline (IoT rules and schedules); logic in chalicelib/pipeline ---


@app.lambda_function(name="ingest_telemetry")
def ingest_telemetry(event: dict[str, Any], context: Any) -> Any:
    return handlers.ingest_telemetry(event)


@app.lambda_function(name="relay_confirmation")
def relay_confirmation(event: dict[str, Any], context: Any) -> Any:
    return handlers.relay_confirmation(event)


@app.lambda_function(name="gateway_presence")
def gateway_presence(event: dict[str, Any], context: Any) -> Any:
    return handlers.gateway_presence(event)


# Fleet provisioning's pre-provisioning hook: admits a device only as a registered,
# not yet provisioned gateway holding its one-time token (pipeline/provisioning.py).
@app.lambda_function(name="provisioning_hook")
def provisioning_hook(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handlers.provisioning_hook(event)


@app.lambda_function(name="bill_property")
def bill_property(event: dict[str, Any], context: Any) -> Any:
    return handlers.bill_property(event)


@app.schedule(Rate(1, unit=Rate.DAYS), name="postpaid_bills")
def postpaid_bills(event: CloudWatchEvent) -> Any:
    return handlers.postpaid_bills()


@app.schedule(Rate(1, unit=Rate.DAYS), name="reconcile_balances")
def reconcile_balances(event: CloudWatchEvent) -> Any:
    return handlers.reconcile()


# Reconciliation of one company, a bounded batch of its accounts; hands the rest on to
# itself (pipeline/reconciliation.py).
@app.lambda_function(name="reconcile_company")
def reconcile_company(event: dict[str, Any], context: Any) -> Any:
    return handlers.reconcile_company(event)


@app.schedule(Rate(5, unit=Rate.MINUTES), name="offline_sweep")
def offline_sweep(event: CloudWatchEvent) -> Any:
    return handlers.offline_sweep()


@app.schedule(Rate(1, unit=Rate.MINUTES), name="relay_retry_sweep")
def relay_retry_sweep(event: CloudWatchEvent) -> Any:
    return handlers.relay_retry_sweep()


# --- white-label Cognito e-mails (the user pool's Custom Message trigger) ---


@app.lambda_function(name="cognito_custom_message")
def cognito_custom_message(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handlers.cognito_custom_message(event)


# --- account changes made in Cognito outside the portal (CloudTrail via EventBridge) ---


@app.lambda_function(name="cognito_account_changes")
def cognito_account_changes(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handlers.cognito_account_changes(event)
