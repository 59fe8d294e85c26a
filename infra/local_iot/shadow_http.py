"""The AWS IoT Data Plane (``iot-data``) shadow API over HTTP, backed by ShadowService.

boto3's ``iot-data`` client reaches it through botocore's standard per-service
endpoint variable ``AWS_ENDPOINT_URL_IOT_DATA_PLANE`` (service id "IoT Data
Plane"), so the cloud code is unchanged. Requests are not signature-checked.
Operations: GetThingShadow, UpdateThingShadow, DeleteThingShadow,
ListNamedShadowsForThing and Publish (forwarded to the broker).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .errors import ShadowRequestError
from .shadow_service import ShadowService

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 128 * 1024
MAX_PAGE_SIZE = 100
_ERROR_TYPES = {
    400: "InvalidRequestException",
    404: "ResourceNotFoundException",
    405: "MethodNotAllowedException",
    409: "ConflictException",
    413: "RequestEntityTooLargeException",
}


class ShadowApiServer:
    def __init__(
        self, service: ShadowService, port: int, publish: Callable[[str, bytes, int], None]
    ) -> None:
        handler = _handler_class(service, publish)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="iot-data-api", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)


def _handler_class(
    service: ShadowService, publish: Callable[[str, bytes, int], None]
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_DELETE(self) -> None:
            self._dispatch("DELETE")

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("iot-data %s", format % args)

        def _dispatch(self, method: str) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            parts = [unquote(p) for p in url.path.split("/") if p]
            try:
                body = self._body()
                if len(parts) == 3 and parts[0] == "things" and parts[2] == "shadow":
                    key = (parts[1], query.get("name", ""))
                    if method == "GET":
                        self._reply(200, service.get(key))
                    elif method == "POST":
                        self._reply(200, service.update(key, body))
                    else:
                        self._reply(200, service.delete(key))
                elif (
                    parts[:4] == ["api", "things", "shadow", "ListNamedShadowsForThing"]
                    and len(parts) == 5
                    and method == "GET"
                ):
                    self._reply(200, _list_page(service.named_shadows(parts[4]), query))
                elif len(parts) >= 2 and parts[0] == "topics" and method == "POST":
                    topic = unquote(url.path[len("/topics/") :])
                    publish(topic, body, int(query.get("qos", "0")))
                    self._reply(200, None)
                else:
                    raise ShadowRequestError(405, f"{method} {url.path} is not emulated")
            except ShadowRequestError as exc:
                self._error(exc.code, exc.message)
            except ValueError as exc:
                self._error(400, str(exc))

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                raise ShadowRequestError(413, "The payload exceeds the maximum size allowed")
            return self.rfile.read(length) if length else b""

        def _reply(self, status: int, document: Any) -> None:
            data = b"" if document is None else json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, code: int, message: str) -> None:
            error_type = _ERROR_TYPES.get(code, "InternalFailureException")
            data = json.dumps({"message": message, "code": code}).encode()
            self.send_response(code if code in HTTPStatus._value2member_map_ else 500)
            self.send_header("Content-Type", "application/json")
            self.send_header("x-amzn-ErrorType", error_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _list_page(names: list[str], query: dict[str, str]) -> dict[str, Any]:
    page_size = min(int(query.get("pageSize", "25")), MAX_PAGE_SIZE)
    if page_size < 1:
        raise ValueError("pageSize must be at least 1")
    start = int(query.get("nextToken", "0") or "0")
    page = names[start : start + page_size]
    answer: dict[str, Any] = {"results": page, "timestamp": int(time.time())}
    if start + page_size < len(names):
        answer["nextToken"] = str(start + page_size)
    return answer
