"""``chalice local`` with API Gateway's paths: the portal under its stage and at the root.

Deployed, the API answers at ``https://<api>.execute-api.<region>.amazonaws.com/api/...``
(the stage is the first segment of the path) and, through a custom domain mapped to the
stage, at ``https://portal.example/...``. ``chalice local`` serves only the second shape
and puts no ``stage`` in the event, so a link that forgets the stage works locally and
breaks in AWS. This server answers both on one port, with the event API Gateway builds
for each (docs: "Set up Lambda proxy integrations in API Gateway", input format):

- ``/api/portal`` -> route ``/portal``; ``requestContext.path`` ``/api/portal``,
  ``requestContext.stage`` ``api``, ``path`` ``/portal`` (the stage's own domain);
- ``/portal``     -> route ``/portal``; ``requestContext.path`` ``/portal``, stage ``api``
  (a custom domain whose base path mapping is the root).

The stage name comes from ``.chalice/config.json`` (``api_gateway_stage``), as it does
for ``chalice deploy``. Everything else is chalice's own local server, except that the
refusals it makes in API Gateway's place (no credential, a refused one, an unknown route)
are the problem documents the stack's gateway responses answer
(``deploy.gateway_responses``), not API Gateway's default ``{"message": ...}``.

    python -m local_run.api_gateway --port 8000 [--stage local]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from chalice.app import Chalice
from chalice.cli import validate_routes
from chalice.cli.factory import CLIFactory
from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    EventType,
    InvalidAuthorizerError,
    LambdaEventConverter,
    LocalChalice,
    LocalDevServer,
    LocalGateway,
    LocalGatewayException,
    NotAuthorizedError,
)

from deploy.gateway_responses import problem_for, response_headers

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


class StagedEventConverter(LambdaEventConverter):
    """Builds the event of a request under ``/<stage>`` or at the root, as API Gateway does."""

    def __init__(self, inner: LambdaEventConverter, stage: str) -> None:
        super().__init__(inner._route_matcher, inner._binary_types)
        if not stage or "/" in stage:
            raise ValueError(f"not a stage name: {stage!r}")
        self.stage = stage

    def create_lambda_event(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> EventType:
        asked, _, query = path.partition("?")
        inner = strip_stage(asked, self.stage)
        event = super().create_lambda_event(
            method, f"{inner}?{query}" if query else inner, headers, body
        )
        context: dict[str, Any] = event["requestContext"]
        context["path"] = asked
        context["stage"] = self.stage
        event["path"] = inner
        event["resource"] = context["resourcePath"]
        event["httpMethod"] = method
        return event


def strip_stage(path: str, stage: str) -> str:
    """``/api/portal`` -> ``/portal``; ``/api`` -> ``/``; a path outside the stage as is."""
    prefix = f"/{stage}"
    if path == prefix or path.startswith(f"{prefix}/"):
        return path[len(prefix) :] or "/"
    return path


def install(gateway: LocalGateway, stage: str) -> LocalGateway:
    """Make one of chalice's local gateways (its server's or its test client's) staged,
    answering its refusals as the deployed API does."""
    gateway.event_converter = StagedEventConverter(gateway.event_converter, stage)
    return refusals_as_problems(gateway)


def refusals_as_problems(gateway: LocalGateway) -> LocalGateway:
    """chalice local's imitations of API Gateway's refusals, answered with the gateway
    response the stack defines for each (same status, same document, same headers)."""
    inner = gateway.handle_request

    def handle_request(
        method: str, path: str, headers: dict[str, str], body: bytes | None
    ) -> dict[str, Any]:
        try:
            return dict(inner(method, path, headers, body))
        except LocalGatewayException as exc:
            kind = refusal_type(exc)
            document = json.dumps(problem_for(kind), sort_keys=True).encode()
            raise type(exc)({**exc.headers, **response_headers()}, document) from exc

    gateway.handle_request = handle_request  # type: ignore[method-assign]
    return gateway


def refusal_type(exc: LocalGatewayException) -> str:
    """The gateway response type API Gateway would answer with (chalice local marks an
    unknown route ``UnauthorizedException`` and a refusing authorizer
    ``AccessDeniedException``, as API Gateway's ``x-amzn-ErrorType`` does)."""
    if isinstance(exc, NotAuthorizedError):
        return "UNAUTHORIZED"
    if isinstance(exc, InvalidAuthorizerError):
        return "AUTHORIZER_CONFIGURATION_ERROR"
    if exc.headers.get("x-amzn-ErrorType") == "AccessDeniedException":
        return "ACCESS_DENIED"
    return "MISSING_AUTHENTICATION_TOKEN"


class StagedRequestHandler(ChaliceRequestHandler):
    def __init__(
        self, request: bytes, client_address: Any, server: Any, app_object: Chalice, config: Config
    ) -> None:
        # ChaliceRequestHandler's __init__ handles the request; the gateway must be
        # staged before that, so build it here and hand BaseHTTPRequestHandler the rest.
        self.local_gateway = install(LocalGateway(app_object, config), _stage_of(config))
        super(ChaliceRequestHandler, self).__init__(request, client_address, server)


def _stage_of(config: Config) -> str:
    return str(config.api_gateway_stage)


def local_server(host: str, port: int, chalice_stage: str) -> tuple[LocalDevServer, str]:
    """What ``chalice local`` builds, with the staged handler; and the API stage's name."""
    factory = CLIFactory(project_dir=str(FUNCTIONS), environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=chalice_stage)
    app = config.chalice_app
    validate_routes(app.routes)
    # chalice local's own trick: the app object answers per thread (current_request)
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    server = LocalDevServer(app, config, host, port, handler_cls=StagedRequestHandler)
    return server, _stage_of(config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="local_run.api_gateway", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="local", help="the chalice stage of .chalice/config")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port must be 1..65535, not {args.port}")
    # as chalice local: the app's log lines on stdout, as Lambda would show them
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    server, stage = local_server(args.host, args.port, args.stage)
    print(f"Serving on http://{args.host}:{args.port}/ and http://{args.host}:{args.port}/{stage}/")
    sys.stdout.flush()
    server.server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
