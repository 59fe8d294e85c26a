"""The wire client's own HTTP/1.1 (chalicelib/data/wire/transport.py) against a loopback
server that sends scripted bytes: answers in small packets, odd header case, closing
answers, HTTP/1.0, chunked bodies, and the answers it must refuse; and its TLS against a
self-signed certificate."""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chalicelib.data.wire import (
    ConnectionFailedError,
    Credentials,
    DynamoWire,
    MalformedAnswerError,
    OversizedHeadersError,
    TruncatedAnswerError,
    UnframedAnswerError,
    UntrustedEndpointError,
    transport,
)

OK = {"Items": [{"pk": {"S": "a"}, "v": {"S": "ü ☃ " + "x" * 3000}}], "Count": 1}
BODY = json.dumps(OK).encode()


def answer(
    *,
    status: str = "HTTP/1.1 200 OK",
    headers: tuple[str, ...] = (),
    body: bytes = BODY,
    length: bool = True,
) -> bytes:
    lines = [status, "Content-Type: application/x-amz-json-1.0", *headers]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def chunked(body: bytes, size: int = 700) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    framed = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(part), part) for part in parts)
    return answer(headers=("Transfer-Encoding: chunked",), body=framed + b"0\r\n\r\n", length=False)


@dataclass
class Script:
    raw: bytes  # the answer's bytes, sent as they are
    piece: int = 0  # > 0: in packets of this many bytes, a pause between them
    close: bool = False  # close the connection after the answer


class RawServer:
    """Reads each request (headers and Content-Length body) and sends the next Script."""

    def __init__(self, scripts: list[Script], tls: ssl.SSLContext | None = None) -> None:
        self.scripts = list(scripts)
        self.requests: list[bytes] = []
        self.connections = 0
        self._tls = tls
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen()
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls is not None:
            try:
                conn = self._tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):  # the client refused the certificate
                conn.close()
                return
        stream = conn.makefile("rb")
        with conn:
            while True:
                head = stream.readline()
                if not head:
                    return
                length = 0
                while (line := stream.readline()) not in (b"\r\n", b""):
                    head += line
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                self.requests.append(head + b"\r\n" + stream.read(length))
                script = self.scripts.pop(0) if self.scripts else Script(answer())
                step = script.piece or max(1, len(script.raw))
                for start in range(0, len(script.raw), step):
                    conn.sendall(script.raw[start : start + step])
                    if script.piece:
                        time.sleep(0.002)
                if script.close:
                    return

    def close(self) -> None:
        self._sock.close()


Serve = Callable[..., RawServer]


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers: list[RawServer] = []

    def start(*scripts: Script, tls: ssl.SSLContext | None = None) -> RawServer:
        servers.append(RawServer(list(scripts), tls))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _wire(server: RawServer, host: str = "127.0.0.1", **kwargs: object) -> DynamoWire:
    scheme = "https" if server._tls else "http"
    return DynamoWire(
        "t",
        "ap-northeast-1",
        f"{scheme}://{host}:{server.port}",
        Credentials("AKID", "secret"),
        sleep=lambda _s: None,
        **kwargs,  # type: ignore[arg-type]
    )


def test_the_request_is_http_1_1_with_its_length_and_signature(serve: Serve) -> None:
    server = serve()
    _wire(server).query({"TableName": "t", "k": "ü"})

    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST / HTTP/1.1"
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers["Host"] == f"127.0.0.1:{server.port}"
    assert headers["Content-Length"] == str(len(body))
    assert json.loads(body) == {"TableName": "t", "k": "ü"}
    assert headers["X-Amz-Target"] == "DynamoDB_20120810.Query"
    assert "SignedHeaders=content-type;host;x-amz-date;x-amz-target," in headers["Authorization"]


def test_an_answer_in_many_small_packets_is_read_whole(serve: Serve) -> None:
    raw = answer(headers=(f"x-amz-crc32: {zlib.crc32(BODY)}",))
    server = serve(Script(raw, piece=41), Script(chunked(BODY), piece=29))
    wire = _wire(server)

    assert wire.query({}) == OK
    assert wire.query({}) == OK
    assert server.connections == 1  # and the connection was kept


def test_header_names_are_read_in_any_case(serve: Serve) -> None:
    """HTTP names are case-insensitive: the CRC32 in odd case is still checked (a wrong
    one means a retry), and CONTENT-LENGTH still frames the body."""
    wrong_crc = answer(headers=("X-AMZ-Crc32: 1",), length=False)
    wrong_crc = wrong_crc.replace(b"\r\n\r\n", f"\r\nCONTENT-length: {len(BODY)}\r\n\r\n".encode())
    server = serve(Script(wrong_crc), Script(answer(headers=(f"X-Amz-CRC32: {zlib.crc32(BODY)}",))))
    wire = _wire(server)

    assert wire.query({}) == OK
    assert len(server.requests) == 2  # the first answer's checksum was found and failed


def test_connection_close_closes_after_the_answer(serve: Serve) -> None:
    server = serve(
        Script(answer(headers=("Connection: Close",))), Script(answer()), Script(answer())
    )
    wire = _wire(server, max_attempts=1)

    for _ in range(3):
        assert wire.query({}) == OK

    assert server.connections == 2  # a new one after the answer that said close, then kept


def test_an_http_1_0_answer_closes_the_connection(serve: Serve) -> None:
    server = serve(Script(answer(status="HTTP/1.0 200 OK")), Script(answer()))
    wire = _wire(server, max_attempts=1)

    assert wire.query({}) == OK
    assert wire.query({}) == OK
    assert server.connections == 2


def test_an_idle_connection_the_far_end_closed_is_not_reused(serve: Serve) -> None:
    """Polled before reuse, as urllib3 does: the request goes out once, on a new one."""
    server = serve(Script(answer(), close=True), Script(answer()))
    wire = _wire(server, max_attempts=1)

    wire.query({})
    time.sleep(0.2)  # the server's close has arrived
    assert wire.query({}) == OK

    assert wire.requests == 2 and server.connections == 2


def test_a_connection_closed_between_the_poll_and_the_send_is_reopened_once(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport, "_dropped", lambda _sock: False)  # the poll saw nothing
    server = serve(Script(answer(), close=True), Script(answer()))
    wire = _wire(server, max_attempts=1)

    wire.query({})
    time.sleep(0.2)
    assert wire.query({}) == OK  # one attempt, yet it succeeded: the resend is free

    assert wire.requests == 3 and server.connections == 2


def test_a_chunked_answer_is_decoded(serve: Serve) -> None:
    server = serve(Script(chunked(BODY)), Script(chunked(b"{}", size=1)))
    wire = _wire(server)

    assert wire.query({}) == OK
    assert wire.put_item({}) == {}
    assert server.connections == 1


def test_an_interim_100_answer_is_skipped(serve: Serve) -> None:
    server = serve(Script(b"HTTP/1.1 100 Continue\r\n\r\n" + answer()))
    assert _wire(server).query({}) == OK


def test_a_truncated_body_is_retried_then_refused(serve: Serve) -> None:
    cut = answer()[:-100]
    server = serve(Script(cut, close=True), Script(answer()))
    assert _wire(server).query({}) == OK  # the second attempt is whole
    assert len(server.requests) == 2

    server = serve(*[Script(cut, close=True)] * 2)
    with pytest.raises(TruncatedAnswerError, match=r"Query at .* closed after \d+ of the answer"):
        _wire(server, max_attempts=2).query({})
    assert len(server.requests) == 2


def test_a_connection_closed_without_an_answer_is_a_connection_failure(serve: Serve) -> None:
    server = serve(*[Script(b"", close=True)] * 2)
    with pytest.raises(ConnectionFailedError, match="no answer"):
        _wire(server, max_attempts=2).query({})
    assert server.connections == 2


@pytest.mark.parametrize(
    "raw",
    [
        b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
        b"HTTP/2 200\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 OK 200\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 2O0 OK\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\n{}\r\n0\r\n\r\n",
    ],
    ids=[
        "not http",
        "http/2",
        "4-digit status",
        "no status",
        "letter in status",
        "no colon",
        "folded",
        "two lengths",
        "negative length",
        "bad chunk",
    ],
)
def test_a_malformed_answer_is_refused_and_not_retried(serve: Serve, raw: bytes) -> None:
    server = serve(Script(raw, close=True))
    with pytest.raises(MalformedAnswerError) as raised:
        _wire(server).query({})
    assert raised.value.operation == "Query"
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    ],
    ids=["no length", "gzip"],
)
def test_an_answer_without_framing_we_read_is_refused(serve: Serve, raw: bytes) -> None:
    server = serve(Script(raw, close=True))
    with pytest.raises(UnframedAnswerError):
        _wire(server).query({})
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\n" + b"X-Big: " + b"a" * 70_000 + b"\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\n" + b"X-Many: 1\r\n" * 101 + b"Content-Length: 2\r\n\r\n{}",
    ],
    ids=["bytes", "lines"],
)
def test_oversized_headers_are_refused(serve: Serve, raw: bytes) -> None:
    server = serve(Script(raw, close=True))
    with pytest.raises(OversizedHeadersError):
        _wire(server).query({})


# --- TLS ---


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for ``localhost`` (and nothing else) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "powerlet test CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _tls_server(serve: Serve, certificate: tuple[Path, Path]) -> RawServer:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return serve(Script(answer()), Script(chunked(BODY), piece=9), tls=context)


def test_tls_with_the_authority_is_accepted_and_kept_alive(
    serve: Serve, certificate: tuple[Path, Path]
) -> None:
    server = _tls_server(serve, certificate)
    trusted = ssl.create_default_context(cafile=str(certificate[0]))
    wire = _wire(server, host="localhost", ssl_context=trusted)

    assert wire.query({}) == OK
    assert wire.query({}) == OK
    assert server.connections == 1
    assert server.requests[0].startswith(b"POST / HTTP/1.1\r\nHost: localhost:")


def test_tls_without_the_authority_is_refused_at_once(
    serve: Serve, certificate: tuple[Path, Path]
) -> None:
    server = _tls_server(serve, certificate)
    with pytest.raises(UntrustedEndpointError, match="certificate was refused") as raised:
        _wire(server, host="localhost").query({})  # the default context: the system's CAs
    assert isinstance(raised.value.__cause__, ssl.SSLCertVerificationError)
    assert not server.requests


def test_tls_for_another_host_name_is_refused(serve: Serve, certificate: tuple[Path, Path]) -> None:
    server = _tls_server(serve, certificate)
    trusted = ssl.create_default_context(cafile=str(certificate[0]))
    with pytest.raises(UntrustedEndpointError, match="certificate was refused"):
        _wire(server, host="127.0.0.1", ssl_context=trusted).query({})  # not "localhost"
    assert not server.requests
