"""Serve moto (all services) behind the no-Scan guard on one loopback port."""

from __future__ import annotations

from werkzeug.serving import BaseWSGIServer, make_server

from .dynamodb_guard import DynamoGuard


def make_standin_server(host: str, port: int, conflict_rate: float = 0.0) -> BaseWSGIServer:
    # Imported here: moto's import is slow and only the server process needs it.
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    app = DynamoGuard(DomainDispatcherApplication(create_backend_app), conflict_rate=conflict_rate)
    return make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
