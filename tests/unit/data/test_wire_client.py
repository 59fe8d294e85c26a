"""The wire client's behaviour on the network: retries, refusals, kept-alive connections
and timeouts, against a scripted HTTP server on loopback."""

from __future__ import annotations

import json
import socket
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from chalicelib.data.errors import ConditionFailedError
from chalicelib.data.wire import (
    AccessRefusedError,
    ConditionalCheckFailedError,
    ConnectionFailedError,
    Credentials,
    DynamoWire,
    RequestRefusedError,
    ServiceUnavailableError,
    ThrottledError,
)

OK = {"Items": [{"pk": {"S": "a"}}], "Count": 1}


@dataclass
class Reply:
    status: int = 200
    body: object = field(default_factory=lambda: OK)
    close: bool = False  # close the connection after replying, without saying so
    silent: bool = False  # never answer
    crc: int | None = None  # a wrong checksum header


class ScriptedServer:
    """Answers each request with the next Reply (HTTP/1.1, kept alive unless told)."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = list(replies)
        self.requests: list[dict[str, str]] = []
        self.connections = 0
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen()
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        stream = conn.makefile("rb")
        with conn:
            while True:
                line = stream.readline()
                if not line:
                    return
                headers = {}
                while (header := stream.readline()) not in (b"\r\n", b""):
                    name, _, value = header.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                stream.read(int(headers.get("content-length", 0)))
                self.requests.append(headers)
                reply = self.replies.pop(0) if self.replies else Reply()
                if reply.silent:
                    threading.Event().wait(5)
                    return
                body = json.dumps(reply.body).encode()
                crc = zlib.crc32(body) if reply.crc is None else reply.crc
                conn.sendall(
                    f"HTTP/1.1 {reply.status} X\r\nContent-Type: application/x-amz-json-1.0\r\n"
                    f"Content-Length: {len(body)}\r\nx-amz-crc32: {crc}\r\n\r\n".encode()
                    + body
                )
                if reply.close:
                    conn.shutdown(socket.SHUT_RDWR)
                    return

    def close(self) -> None:
        self._sock.close()


Serve = Callable[..., ScriptedServer]


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers: list[ScriptedServer] = []

    def start(*replies: Reply) -> ScriptedServer:
        servers.append(ScriptedServer(list(replies)))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _wire(server: ScriptedServer, **kwargs: object) -> tuple[DynamoWire, list[float]]:
    waits: list[float] = []
    wire = DynamoWire(
        "t",
        "ap-northeast-1",
        f"http://127.0.0.1:{server.port}",
        Credentials("AKID", "secret"),
        sleep=waits.append,
        **kwargs,  # type: ignore[arg-type]
    )
    return wire, waits


def _error(aws_type: str, message: str = "said so") -> dict[str, str]:
    return {"__type": f"com.amazonaws.dynamodb.v20120810#{aws_type}", "message": message}


def test_a_5xx_is_retried_after_a_wait(serve: Serve) -> None:
    server = serve(Reply(500, _error("InternalServerError")), Reply())
    wire, waits = _wire(server)

    assert wire.query({"TableName": "t"}) == OK
    assert len(server.requests) == 2 and len(waits) == 1
    assert server.requests[0]["x-amz-target"] == "DynamoDB_20120810.Query"
    assert server.requests[0]["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKID/")


def test_throttling_is_retried_and_reported_when_it_persists(serve: Serve) -> None:
    throttled = Reply(400, _error("ProvisionedThroughputExceededException", "slow down"))
    server = serve(throttled, Reply(400, _error("ThrottlingException")), Reply())
    wire, waits = _wire(server)
    assert wire.put_item({"TableName": "t"}) == OK
    assert len(waits) == 2

    server = serve(*[throttled] * 3)
    wire, waits = _wire(server, max_attempts=3)
    with pytest.raises(ThrottledError, match="slow down") as raised:
        wire.put_item({"TableName": "t"})
    assert raised.value.aws_type == "ProvisionedThroughputExceededException"
    assert raised.value.operation == "PutItem"
    assert len(server.requests) == 3


def test_a_refusal_is_not_retried(serve: Serve) -> None:
    server = serve(Reply(400, _error("ValidationException", "One or more parameter values")))
    wire, waits = _wire(server)

    with pytest.raises(RequestRefusedError) as raised:
        wire.update_item({"TableName": "t"})

    assert raised.value.aws_type == "ValidationException"
    assert raised.value.aws_message == "One or more parameter values"
    assert "UpdateItem answered 400 ValidationException" in str(raised.value)
    assert len(server.requests) == 1 and not waits


def test_a_failed_condition_has_its_own_class(serve: Serve) -> None:
    server = serve(Reply(400, _error("ConditionalCheckFailedException", "The conditional")))
    wire, _waits = _wire(server)

    with pytest.raises(ConditionalCheckFailedError) as raised:
        wire.put_item({"TableName": "t"})

    assert isinstance(raised.value, ConditionFailedError)  # the data layer's name for it
    assert not isinstance(raised.value, RequestRefusedError)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("status", "aws_type"),
    [
        (400, "UnrecognizedClientException"),
        (400, "InvalidSignatureException"),
        (403, "AccessDenied"),
    ],
)
def test_an_identity_refusal_is_access_refused(serve: Serve, status: int, aws_type: str) -> None:
    server = serve(Reply(status, _error(aws_type)))
    wire, _waits = _wire(server)
    with pytest.raises(AccessRefusedError) as raised:
        wire.get_item({"TableName": "t"})
    assert raised.value.aws_type == aws_type and raised.value.status == status


def test_a_5xx_that_persists_is_service_unavailable(serve: Serve) -> None:
    server = serve(*[Reply(503, _error("ServiceUnavailable", "busy"))] * 4)
    wire, waits = _wire(server)
    with pytest.raises(ServiceUnavailableError, match="503 ServiceUnavailable: busy"):
        wire.query({"TableName": "t"})
    assert len(server.requests) == 4 and len(waits) == 3


def test_a_damaged_reply_is_retried(serve: Serve) -> None:
    server = serve(Reply(crc=1), Reply())
    wire, _waits = _wire(server)
    assert wire.query({"TableName": "t"}) == OK
    assert len(server.requests) == 2


def test_the_connection_is_kept_and_reopened_once_when_the_far_end_closed_it(serve: Serve) -> None:
    """One attempt only: the second request succeeds because a kept-alive connection the
    server closed while idle is reopened at once, without counting an attempt."""
    server = serve(Reply(), Reply(close=True), Reply(), Reply())
    wire, waits = _wire(server, max_attempts=1)

    wire.query({"TableName": "t"})
    wire.query({"TableName": "t"})  # the server closes after answering this one
    assert server.connections == 1  # kept alive so far
    wire.query({"TableName": "t"})  # meets the closed connection, reopens it
    wire.query({"TableName": "t"})

    assert server.connections == 2 and len(server.requests) == 4 and not waits


def test_no_answer_is_a_connection_failure_after_every_attempt(serve: Serve) -> None:
    server = serve(Reply(silent=True), Reply(silent=True))
    wire, waits = _wire(server, max_attempts=2, read_timeout_s=0.2)
    with pytest.raises(ConnectionFailedError, match="no answer"):
        wire.query({"TableName": "t"})
    assert len(waits) == 1 and server.connections == 2


def test_nobody_listening_is_a_connection_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    wire = DynamoWire(
        "t",
        "ap-northeast-1",
        f"http://127.0.0.1:{port}",
        Credentials("a", "b"),
        sleep=lambda s: None,
    )
    with pytest.raises(ConnectionFailedError) as raised:
        wire.query({})
    assert isinstance(raised.value.__cause__, ConnectionRefusedError)
