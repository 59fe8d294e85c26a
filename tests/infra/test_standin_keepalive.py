"""The stand-in keeps HTTP/1.1 connections alive as DynamoDB's endpoint does
(local_aws/keepalive.py): two requests on one connection get two answers, whether the
second follows at once, is pipelined, or follows a body the application never read; a
client's ``Connection: close`` and HTTP/1.0 close it; an idle connection is closed after
the idle timeout; a client that goes away mid-request leaves the server serving. Checked
on raw sockets against the real stand-in (moto and its guards, in a child process), with
botocore's pool and the lean client counting their connections, and on the handler alone
with a trivial application, where the server counts the connections it accepts."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import boto3
import pytest
from werkzeug.serving import make_server

from chalicelib.data.wire import Credentials, DynamoWire
from local_aws.keepalive import KeepAliveRequestHandler, mark_failures
from local_aws.processes import die_with_parent
from local_aws.stack import free_port

IDLE_TIMEOUT_S = 1.0
REGION = "ap-northeast-1"
TABLE = "keepalive"
_LIST_TABLES = (
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/x-amz-json-1.0\r\n"
    b"X-Amz-Target: DynamoDB_20120810.ListTables\r\n"
    # moto routes by the credential scope's service (it does not check the signature)
    b"Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/ap-northeast-1/dynamodb/"
    b"aws4_request, SignedHeaders=host, Signature=0\r\n"
    b"Content-Length: 2\r\n\r\n{}"
)


# --- reading answers off a raw socket ---


class Reader:
    """HTTP/1.1 answers off one socket (Content-Length or chunked bodies)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("the server closed the connection")
        self.buffer += chunk

    def _take_line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while size := int(self._take_line().split(b";")[0], 16):
                body += self._take(size)
                self._take(2)
            self._take(2)
        else:
            body = self._take(int(headers.get("content-length", "0")))
        return int(status_line.split()[1]), headers, body

    def closed_by_server(self) -> bool:
        """True if the server closes the connection with nothing more sent."""
        try:
            return not self.buffer and self.sock.recv(1) == b""
        except TimeoutError:
            return False


@pytest.fixture
def connect() -> Iterator[Callable[[int], Reader]]:
    opened: list[socket.socket] = []

    def _connect(port: int) -> Reader:
        sock = socket.create_connection(("127.0.0.1", port), timeout=3)
        opened.append(sock)
        return Reader(sock)

    yield _connect
    for sock in opened:
        sock.close()


# --- the real stand-in, in a child process ---


@pytest.fixture(scope="module")
def standin() -> Iterator[int]:
    port = free_port()
    argv = ["-m", "local_aws", "serve", "--port", str(port), "--idle-timeout", str(IDLE_TIMEOUT_S)]
    server = subprocess.Popen(
        [sys.executable, *argv],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, f"the stand-in exited with {server.returncode}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the stand-in did not listen"
                time.sleep(0.1)
        _client("dynamodb", port).create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def _client(service: str, port: int) -> Any:
    return boto3.client(
        service,
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _pool(client: Any, port: int) -> Any:
    """botocore's urllib3 pool for the stand-in."""
    return client._endpoint.http_session._manager.connection_from_url(f"http://127.0.0.1:{port}")


def _pool_connections(client: Any, port: int) -> int:
    """Connections botocore's pool made (a redial of a dropped one is not counted)."""
    return int(_pool(client, port).num_connections)


def _pooled_local_ports(client: Any, port: int) -> list[int]:
    return [
        conn.sock.getsockname()[1]
        for conn in _pool(client, port).pool.queue
        if conn is not None and conn.sock is not None
    ]


def test_a_second_request_sent_at_once_is_answered_on_the_same_connection(
    standin: int, connect: Callable[[int], Reader]
) -> None:
    reader = connect(standin)
    for _ in range(3):
        reader.sock.sendall(_LIST_TABLES)  # each as soon as the previous answer is read
        status, headers, body = reader.answer()
        assert status == 200
        assert "close" not in headers.get("connection", "").lower()
        assert TABLE in json.loads(body)["TableNames"]


def test_pipelined_requests_are_answered_in_order(
    standin: int, connect: Callable[[int], Reader]
) -> None:
    reader = connect(standin)
    reader.sock.sendall(_LIST_TABLES + _LIST_TABLES)
    assert [reader.answer()[0] for _ in range(2)] == [200, 200]


def test_a_body_the_application_does_not_read_is_skipped_before_the_next_request(
    standin: int, connect: Callable[[int], Reader]
) -> None:
    # The guard answers its counter without reading the body: left in the stream, the
    # body would be read as the next request line.
    unread = b"GET /_powerlet/scans HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nGET /"
    reader = connect(standin)
    reader.sock.sendall(unread)
    status, _, body = reader.answer()
    assert status == 200
    assert "refused" in json.loads(body)
    reader.sock.sendall(_LIST_TABLES)
    assert reader.answer()[0] == 200


def test_a_chunked_request_body_is_read_to_its_end(
    standin: int, connect: Callable[[int], Reader]
) -> None:
    chunked = _LIST_TABLES.replace(
        b"Content-Length: 2\r\n\r\n{}",
        b"Transfer-Encoding: chunked\r\n\r\n1\r\n{\r\n1\r\n}\r\n0\r\n\r\n",
    )
    reader = connect(standin)
    reader.sock.sendall(chunked)
    assert reader.answer()[0] == 200
    reader.sock.sendall(_LIST_TABLES)
    assert reader.answer()[0] == 200


def test_the_clients_connection_close_is_honoured(
    standin: int, connect: Callable[[int], Reader]
) -> None:
    reader = connect(standin)
    reader.sock.sendall(_LIST_TABLES)
    assert "connection" not in reader.answer()[1]  # kept
    reader.sock.sendall(_LIST_TABLES.replace(b"Host:", b"Connection: close\r\nHost:"))
    status, headers, _ = reader.answer()
    assert status == 200
    assert headers["connection"].lower() == "close"
    assert reader.closed_by_server()


def test_an_http_1_0_request_is_answered_and_closed(
    standin: int, connect: Callable[[int], Reader]
) -> None:
    reader = connect(standin)
    reader.sock.sendall(_LIST_TABLES)
    assert "connection" not in reader.answer()[1]  # kept
    reader.sock.sendall(_LIST_TABLES.replace(b"HTTP/1.1", b"HTTP/1.0"))
    status, headers, _ = reader.answer()
    assert (status, headers["connection"].lower()) == (200, "close")
    assert reader.closed_by_server()


def test_an_idle_connection_stays_open_then_closes_after_the_timeout(
    standin: int, connect: Callable[[int], Reader]
) -> None:
    reader = connect(standin)
    reader.sock.sendall(_LIST_TABLES)
    assert reader.answer()[0] == 200
    time.sleep(IDLE_TIMEOUT_S / 2)
    reader.sock.sendall(_LIST_TABLES)  # within the timeout: still open
    assert reader.answer()[0] == 200
    started = time.monotonic()
    assert reader.closed_by_server()
    assert IDLE_TIMEOUT_S * 0.8 <= time.monotonic() - started <= IDLE_TIMEOUT_S + 1.5


def test_a_client_that_goes_away_mid_request_leaves_the_server_serving(
    standin: int, connect: Callable[[int], Reader]
) -> None:
    kept = connect(standin)
    kept.sock.sendall(_LIST_TABLES)
    kept.answer()
    gone = connect(standin)
    gone.sock.sendall(_LIST_TABLES)
    gone.answer()
    gone.sock.sendall(_LIST_TABLES.replace(b"Content-Length: 2", b"Content-Length: 100"))
    gone.sock.close()  # after the head and part of the body
    kept.sock.sendall(_LIST_TABLES)  # the other kept connection is still served
    assert kept.answer()[0] == 200
    fresh = connect(standin)
    fresh.sock.sendall(_LIST_TABLES)
    assert fresh.answer()[0] == 200


def test_botocore_reuses_one_pooled_connection(standin: int) -> None:
    client = _client("dynamodb", standin)
    ports = set()
    for index in range(20):
        client.put_item(TableName=TABLE, Item={"pk": {"S": f"boto-{index}"}})
        assert client.get_item(TableName=TABLE, Key={"pk": {"S": f"boto-{index}"}})["Item"]
        ports.update(_pooled_local_ports(client, standin))
    assert _pool_connections(client, standin) == 1
    assert len(ports) == 1  # one TCP connection for all 40 calls


def test_botocore_reconnects_after_the_stand_in_closed_an_idle_connection(
    standin: int,
) -> None:
    client = _client("dynamodb", standin)
    client.list_tables()
    [before] = _pooled_local_ports(client, standin)
    time.sleep(IDLE_TIMEOUT_S + 0.5)
    assert TABLE in client.list_tables()["TableNames"]  # urllib3 saw the close and redialled
    [after] = _pooled_local_ports(client, standin)
    assert after != before


def test_other_services_answer_on_a_kept_connection(standin: int) -> None:
    s3 = _client("s3", standin)
    s3.create_bucket(Bucket="keepalive", CreateBucketConfiguration={"LocationConstraint": REGION})
    for index in range(5):
        s3.put_object(Bucket="keepalive", Key=f"k{index}", Body=b"x" * 70_000)
        assert s3.get_object(Bucket="keepalive", Key=f"k{index}")["Body"].read() == b"x" * 70_000
    [s3_port] = _pooled_local_ports(s3, standin)
    s3.head_object(Bucket="keepalive", Key="k0")  # no body, no framing needed
    s3.list_objects_v2(Bucket="keepalive")
    assert _pooled_local_ports(s3, standin) == [s3_port]
    sts = _client("sts", standin)
    assert sts.get_caller_identity()["Account"]
    cognito = _client("cognito-idp", standin)
    pool = cognito.create_user_pool(PoolName="keepalive")["UserPool"]["Id"]
    [cognito_port] = _pooled_local_ports(cognito, standin)
    assert cognito.describe_user_pool(UserPoolId=pool)["UserPool"]["Id"] == pool
    assert _pooled_local_ports(cognito, standin) == [cognito_port]


def test_the_lean_client_keeps_one_connection(standin: int) -> None:
    wire = DynamoWire(
        TABLE,
        REGION,
        f"http://127.0.0.1:{standin}",
        Credentials("testing", "testing"),
        sleep=lambda s: None,
    )
    try:
        for index in range(50):
            wire.put_item({"TableName": TABLE, "Item": {"pk": {"S": f"wire-{index}"}}})
            got = wire.get_item({"TableName": TABLE, "Key": {"pk": {"S": f"wire-{index}"}}})
            assert got["Item"]["pk"] == {"S": f"wire-{index}"}
        assert wire.requests == 100
        assert wire._transport is not None
        assert wire._transport.connections == 1
        time.sleep(IDLE_TIMEOUT_S + 0.5)  # the stand-in closes it; the client's poll sees that
        assert wire.get_item({"TableName": TABLE, "Key": {"pk": {"S": "wire-0"}}})["Item"]
        assert (wire.requests, wire._transport.connections) == (101, 2)
    finally:
        wire.close()


# --- the handler alone, the server counting the connections it accepts ---


class _CountingServer:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        handler = type("Handler", (KeepAliveRequestHandler,), {"timeout": IDLE_TIMEOUT_S})
        self.server = make_server(
            "127.0.0.1", 0, mark_failures(app), threaded=True, request_handler=handler
        )
        self.accepted = 0
        get_request = self.server.get_request

        def counted() -> tuple[socket.socket, Any]:
            self.accepted += 1
            return get_request()

        self.server.get_request = counted  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _echo(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    if environ["PATH_INFO"] == "/ignore":  # answers without reading the body
        body = b"ignored"
    elif environ["PATH_INFO"] == "/fail":
        start_response("200 OK", [("Content-Length", "100")])
        return _failing()  # type: ignore[return-value]
    else:
        body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def _failing() -> Iterator[bytes]:
    yield b"part of the answer"
    raise RuntimeError("the application failed mid-answer")


@pytest.fixture
def echo() -> Iterator[_CountingServer]:
    server = _CountingServer(_echo)
    yield server
    server.stop()


def _post(path: str, body: bytes) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def test_the_server_accepts_one_connection_for_many_requests(
    echo: _CountingServer, connect: Callable[[int], Reader]
) -> None:
    reader = connect(echo.port)
    for index in range(5):
        reader.sock.sendall(_post("/", f"body {index}".encode()))
        assert reader.answer()[2] == f"body {index}".encode()
    reader.sock.sendall(_post("/ignore", b"GET / HTTP/1.1\r\n\r\n") + _post("/", b"after"))
    assert reader.answer()[2] == b"ignored"
    assert reader.answer()[2] == b"after"
    assert echo.accepted == 1


def test_a_large_unread_body_closes_instead_of_being_drained(
    echo: _CountingServer, connect: Callable[[int], Reader]
) -> None:
    reader = connect(echo.port)
    reader.sock.sendall(
        b"POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n" + b"x" * 1000
    )
    status, headers, _ = reader.answer()
    assert (status, headers["connection"]) == (200, "close")
    assert reader.closed_by_server()


def test_an_application_failure_mid_answer_closes_the_connection(
    echo: _CountingServer, connect: Callable[[int], Reader]
) -> None:
    reader = connect(echo.port)
    reader.sock.sendall(_post("/fail", b""))
    reader.sock.settimeout(IDLE_TIMEOUT_S / 2)  # less than the idle timeout
    with pytest.raises(EOFError):  # cut short: the client learns at once, not at a timeout
        reader.answer()
