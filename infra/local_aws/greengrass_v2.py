"""A Greengrass v2 stand-in: moto 5.2 serves Greengrass v1 only (``moto/greengrass``), so
the deployments the API creates would reach nothing locally.

It serves the four calls the product and its tests make, at the paths botocore's
``greengrassv2`` model sends them to, and checks each request the way the API reference
documents (https://docs.aws.amazon.com/greengrass/v2/APIReference/API_CreateDeployment.html,
``API_ComponentConfigurationUpdate.html``, ``API_CreateComponentVersion.html``), refusing
what AWS refuses with the error AWS names:

- ``targetArn`` required and of the form ``arn:<p>:iot:<region>:<account>:(thing|thinggroup)/<name>``
  (ValidationException); the target must exist in the stand-in's IoT registry
  (ResourceNotFoundException: stricter than a guess, so a deployment that passes here
  names a real target);
- ``deploymentName`` 1..256 characters; each component's ``componentVersion`` 1..64
  characters and a version that exists (ours from CreateComponentVersion, AWS's public
  components from ``PUBLIC_COMPONENTS``; otherwise ResourceNotFoundException);
- ``configurationUpdate.merge``: a serialized JSON *object*, 1..10,485,760 characters
  (a merge update is an object merged key by key into the component's configuration);
  ``reset``: at most 256 JSON pointers, each "" (the whole configuration) or starting
  with "/", at most 256 characters;
- one deployment per target: a new one replaces the latest and gets the next revision
  (``isLatestForTarget`` moves to it), as the reference's "Every deployment has a
  revision number" describes;
- CreateComponentVersion refuses a version that exists (ConflictException).

``ListDeployments`` and ``GetDeployment`` answer what was created, so a test reads back
exactly the request the code sent.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

import yaml

PREFIX = "/greengrass/v2/"
TARGET_ARN = re.compile(r"^arn:([^:]*):iot:([^:]*):([0-9]+):(thing|thinggroup)/(.+)$")
MAX_MERGE_CHARS = 10_485_760
MAX_RESET_POINTERS = 256
MAX_POINTER_CHARS = 256
MAX_DEPLOYMENT_NAME = 256
MAX_VERSION_CHARS = 64
# AWS-provided components a deployment may name (versions published by AWS; the list is
# the stand-in's, kept to the ones this product deploys: docs/deploy.md, "Versions").
PUBLIC_COMPONENTS: dict[str, frozenset[str]] = {
    "aws.greengrass.ShadowManager": frozenset(
        {"2.3.0", "2.3.1", "2.3.2", "2.3.3", "2.3.4", "2.3.5", "2.3.6", "2.3.7", "2.3.8", "2.3.9"}
    ),
    "aws.greengrass.Nucleus": frozenset({"2.12.0", "2.12.6", "2.13.0", "2.14.0"}),
}

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# The IoT registry the target must exist in: (account, region, kind, name) -> exists.
TargetExists = Callable[[str, str, str, str], bool]


class StandInError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _validation(message: str) -> StandInError:
    return StandInError(400, "ValidationException", message)


class GreengrassV2StandIn:
    """WSGI middleware: ``/greengrass/v2/...`` here, everything else to ``app``."""

    def __init__(self, app: WsgiApp | None, target_exists: TargetExists | None = None) -> None:
        self._app = app
        self._target_exists = target_exists or moto_target_exists
        self._lock = threading.Lock()
        self.components: dict[str, dict[str, dict[str, Any]]] = {}
        self.deployments: dict[str, dict[str, Any]] = {}
        self._revisions: dict[str, int] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            assert self._app is not None
            return self._app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        status, answer = self.handle(method, path, body, query)
        payload = json.dumps(answer).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
        if status >= 400:
            headers.append(("x-amzn-ErrorType", str(answer.get("__type", ""))))
        start_response(f"{status} {'OK' if status < 400 else 'Error'}", headers)
        return [payload]

    def handle(
        self, method: str, path: str, body: bytes, query: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON answer) of one request: the seam tests drive directly."""
        try:
            document = json.loads(body or b"{}")
            if not isinstance(document, dict):
                raise _validation("the request body must be a JSON object")
            with self._lock:
                return self._route(method, path[len(PREFIX) :], document, query)
        except json.JSONDecodeError:
            return 400, _error(_validation("the request body is not JSON"))
        except StandInError as exc:
            return exc.status, _error(exc)

    def _route(
        self, method: str, rest: str, document: dict[str, Any], query: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        if method == "POST" and rest == "deployments":
            return 201, self._create_deployment(document)
        if method == "GET" and rest == "deployments":
            return 200, self._list_deployments(query)
        if method == "GET" and rest.startswith("deployments/"):
            found = self.deployments.get(unquote(rest.split("/", 1)[1]))
            if found is None:
                raise StandInError(404, "ResourceNotFoundException", "no such deployment")
            return 200, found
        if method == "POST" and rest == "createComponentVersion":
            return 201, self._create_component_version(document)
        raise StandInError(404, "ResourceNotFoundException", f"{method} {PREFIX}{rest}")

    # --- CreateDeployment ---

    def _create_deployment(self, document: dict[str, Any]) -> dict[str, Any]:
        target = document.get("targetArn")
        if not isinstance(target, str) or not target:
            raise _validation("targetArn: required")
        match = TARGET_ARN.match(target)
        if match is None:
            raise _validation(f"targetArn: {target!r} is not a thing or thing group ARN")
        _partition, region, account, kind, name = match.groups()
        if not self._target_exists(account, region, kind, name):
            raise StandInError(404, "ResourceNotFoundException", f"{target} does not exist")
        name_given = document.get("deploymentName")
        if name_given is not None and not (
            isinstance(name_given, str) and 1 <= len(name_given) <= MAX_DEPLOYMENT_NAME
        ):
            raise _validation(f"deploymentName: 1 to {MAX_DEPLOYMENT_NAME} characters")
        components = document.get("components") or {}
        if not isinstance(components, dict):
            raise _validation("components: a map of component name to specification")
        for component, spec in components.items():
            self._check_component(str(component), spec)
        revision = self._revisions.get(target, 0) + 1
        self._revisions[target] = revision
        for earlier in self.deployments.values():
            if earlier["targetArn"] == target:
                earlier["isLatestForTarget"] = False
        deployment_id = str(uuid.uuid4())
        job_id = str(uuid.uuid4())
        job_arn = f"arn:aws:iot:{region}:{account}:job/{job_id}"
        self.deployments[deployment_id] = {
            "targetArn": target,
            "revisionId": str(revision),
            "deploymentId": deployment_id,
            "deploymentName": name_given or f"Deployment for {name}",
            "deploymentStatus": "ACTIVE",
            "iotJobId": job_id,
            "iotJobArn": job_arn,
            "components": components,
            "deploymentPolicies": document.get("deploymentPolicies") or {},
            "iotJobConfiguration": document.get("iotJobConfiguration") or {},
            "creationTimestamp": datetime.now(UTC).timestamp(),
            "isLatestForTarget": True,
            "tags": document.get("tags") or {},
        }
        return {"deploymentId": deployment_id, "iotJobId": job_id, "iotJobArn": job_arn}

    def _check_component(self, component: str, spec: Any) -> None:
        if not isinstance(spec, dict):
            raise _validation(f"components.{component}: an object")
        version = spec.get("componentVersion")
        if not (isinstance(version, str) and 1 <= len(version) <= MAX_VERSION_CHARS):
            raise _validation(
                f"components.{component}.componentVersion: 1 to {MAX_VERSION_CHARS} characters"
            )
        known = set(self.components.get(component, {})) | PUBLIC_COMPONENTS.get(
            component, frozenset()
        )
        if version not in known:
            raise StandInError(
                404,
                "ResourceNotFoundException",
                f"component {component} version {version} does not exist",
            )
        update = spec.get("configurationUpdate")
        if update is None:
            return
        where = f"components.{component}.configurationUpdate"
        if not isinstance(update, dict) or set(update) - {"merge", "reset"}:
            raise _validation(f"{where}: only merge and reset")
        merge = update.get("merge")
        if merge is not None:
            if not isinstance(merge, str) or not 1 <= len(merge) <= MAX_MERGE_CHARS:
                raise _validation(f"{where}.merge: a string of 1 to {MAX_MERGE_CHARS} characters")
            try:
                decoded = json.loads(merge)
            except json.JSONDecodeError as exc:
                raise _validation(f"{where}.merge: not serialized JSON ({exc})") from exc
            if not isinstance(decoded, dict):
                raise _validation(f"{where}.merge: a serialized JSON object")
        reset = update.get("reset")
        if reset is not None:
            if not isinstance(reset, list) or len(reset) > MAX_RESET_POINTERS:
                raise _validation(f"{where}.reset: at most {MAX_RESET_POINTERS} JSON pointers")
            for pointer in reset:
                if not isinstance(pointer, str) or len(pointer) > MAX_POINTER_CHARS:
                    raise _validation(f"{where}.reset: each at most {MAX_POINTER_CHARS} characters")
                if pointer and not pointer.startswith("/"):
                    raise _validation(f"{where}.reset: {pointer!r} is not a JSON pointer")

    def _list_deployments(self, query: dict[str, str]) -> dict[str, Any]:
        target = query.get("targetArn")
        latest_only = query.get("historyFilter", "LATEST_ONLY") == "LATEST_ONLY"
        rows = [
            {
                key: d[key]
                for key in (
                    "targetArn",
                    "revisionId",
                    "deploymentId",
                    "deploymentName",
                    "creationTimestamp",
                    "deploymentStatus",
                    "isLatestForTarget",
                )
            }
            for d in self.deployments.values()
            if (target is None or d["targetArn"] == target)
            and (d["isLatestForTarget"] or not latest_only)
        ]
        return {"deployments": rows}

    # --- CreateComponentVersion ---

    def _create_component_version(self, document: dict[str, Any]) -> dict[str, Any]:
        blob = document.get("inlineRecipe")
        if not isinstance(blob, str):
            raise _validation("inlineRecipe: required (this stand-in has no lambdaFunction)")
        try:
            recipe = yaml.safe_load(base64.b64decode(blob))
        except (ValueError, yaml.YAMLError) as exc:
            raise _validation(f"inlineRecipe: not a JSON or YAML recipe ({exc})") from exc
        if not isinstance(recipe, dict):
            raise _validation("inlineRecipe: the recipe must be an object")
        name, version = recipe.get("ComponentName"), recipe.get("ComponentVersion")
        if not isinstance(name, str) or not isinstance(version, str):
            raise _validation("inlineRecipe: ComponentName and ComponentVersion are required")
        versions = self.components.setdefault(name, {})
        if version in versions:
            raise StandInError(
                409, "ConflictException", f"component {name} version {version} already exists"
            )
        versions[version] = recipe
        return {
            "arn": f"arn:aws:greengrass:::components:{name}:versions:{version}",
            "componentName": name,
            "componentVersion": version,
            "creationTimestamp": datetime.now(UTC).timestamp(),
            "status": {"componentState": "DEPLOYABLE", "message": "NONE", "errors": {}},
        }


def _error(exc: StandInError) -> dict[str, Any]:
    return {"__type": exc.code, "message": exc.message}


def moto_target_exists(account: str, region: str, kind: str, name: str) -> bool:
    """Is the thing or thing group in moto's IoT registry (same process as the server)?"""
    from moto.iot.models import iot_backends

    backend = iot_backends[account][region]
    if kind == "thing":
        return any(thing.thing_name == name for thing in backend.things.values())
    return any(group.thing_group_name == name for group in backend.thing_groups.values())


def device_configuration(
    default: dict[str, Any], current: dict[str, Any] | None, update: dict[str, Any]
) -> dict[str, Any]:
    """The configuration a core device runs a component with after a deployment's
    ``configurationUpdate`` ("Update component configurations": reset first, to the
    recipe's default or away, then merge: objects key by key, anything else replaced),
    from ``current`` (None: the first deployment, which starts from ``default``)."""
    config = json.loads(json.dumps(default if current is None else current))
    for pointer in update.get("reset") or []:
        if pointer == "":
            config = json.loads(json.dumps(default))
            continue
        keys = [unquote(k).replace("~1", "/").replace("~0", "~") for k in pointer[1:].split("/")]
        _reset(config, default, keys)
    if update.get("merge"):
        config = _merge(config, json.loads(update["merge"]))
    return config


def _reset(config: dict[str, Any], default: Any, keys: list[str]) -> None:
    node: Any = config
    for key in keys[:-1]:
        if not isinstance(node, dict) or key not in node:
            return
        node = node[key]
        default = default.get(key) if isinstance(default, dict) else None
    if not isinstance(node, dict):
        return
    last = keys[-1]
    if isinstance(default, dict) and last in default:
        node[last] = json.loads(json.dumps(default[last]))
    else:
        node.pop(last, None)


def _merge(base: Any, update: Any) -> Any:
    if not (isinstance(base, dict) and isinstance(update, dict)):
        return update
    out = dict(base)
    for key, value in update.items():
        out[key] = _merge(out.get(key), value)
    return out
