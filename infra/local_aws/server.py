"""Serve moto (all services) behind the no-Scan guard on one loopback port."""

from __future__ import annotations

import os

from werkzeug.serving import BaseWSGIServer, make_server

from .acm_guard import AcmGuard
from .cognito_guard import CognitoGuard
from .dynamodb_guard import DynamoGuard
from .greengrass_v2 import GreengrassV2StandIn
from .keepalive import DEFAULT_IDLE_TIMEOUT_S, KeepAliveRequestHandler, mark_failures
from .moto_speedups import speed_up_moto


def make_standin_server(
    host: str,
    port: int,
    conflict_rate: float = 0.0,
    idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
) -> BaseWSGIServer:
    if not idle_timeout_s > 0:
        raise ValueError(
            f"idle_timeout_s must be a positive number of seconds, not {idle_timeout_s!r}"
        )
    # Imported here: moto's import is slow and only the server process needs it.
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    _stop_tracking_instances()
    speed_up_moto()
    # Check TOTP codes as Cognito does (moto accepts any code unless told; its secret is
    # one fixed key for every user, which an authenticator app still reads).
    os.environ.setdefault("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true")
    moto_app = DomainDispatcherApplication(create_backend_app)
    # moto serves Greengrass v1 only: v2's paths go to our stand-in (greengrass_v2.py).
    app = DynamoGuard(
        GreengrassV2StandIn(CognitoGuard(AcmGuard(moto_app))), conflict_rate=conflict_rate
    )
    # Connections are kept alive between requests, as DynamoDB's endpoint keeps them
    # (keepalive.py): a new TCP connection per request would charge every caller a
    # connect that it does not pay against AWS.
    handler = type(
        "StandInRequestHandler",
        (KeepAliveRequestHandler, MotoRequestHandler),
        {"timeout": idle_timeout_s},
    )
    return make_server(host, port, mark_failures(app), threaded=True, request_handler=handler)


def _stop_tracking_instances() -> None:
    """moto keeps a reference to every model object it ever creates (for its
    dashboard), so a long-running stand-in grows without bound: 6.5 GB over a
    simulated day of telemetry. The stand-in never serves that dashboard, so
    new objects are left untracked and are freed like any other."""
    from moto.core.common_models import BaseModel

    def _untracked_new(cls: type, *_args: object, **_kwargs: object) -> object:
        return object.__new__(cls)

    BaseModel.__new__ = _untracked_new  # type: ignore[assignment,method-assign]
