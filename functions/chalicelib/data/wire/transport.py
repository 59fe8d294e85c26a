"""The wire client's HTTP/1.1: one request out, one answer in, over a kept-alive socket.

Why not ``http.client`` (issue 19; figures in docs/architecture.md, "A hand client for
ingest's steady path"): its request builder calls ``putheader`` per header and its
answer parser runs every header block through the ``email`` package, ~40 % of a call's
CPU under cProfile. DynamoDB's answers are simple: a status line, a dozen headers and a
Content-Length body. Here the request is one ``sendall`` of bytes built once, and the
answer is read into one buffer and split on CRLF by hand.

What it reads (RFC 9112): ``HTTP/1.x`` status lines, ``name: value`` header lines
(names lower-cased, repeats joined with ", " as RFC 9110 5.3 allows), a body framed by
Content-Length or by chunked transfer coding, and interim 1xx answers (skipped). What it
refuses, each with its own class (errors.py): a status line that is not HTTP/1.x
(MalformedAnswerError, as is a header line without a colon, a folded line or a bad
length), a header section over 64 KiB or 100 lines (http.client's limits;
OversizedHeadersError), a body with no framing or a transfer coding other than chunked
(UnframedAnswerError), and a connection that ends mid-answer (TruncatedAnswerError).

Keep-alive as urllib3 (the pool under botocore) does it: before a kept connection is
reused it is polled; if it is readable, the far end closed it (or sent something
unasked), so it is dropped and a new one opened. An answer that says
``Connection: close``, or any HTTP/1.0 answer, closes the connection after it is read.
A reused connection that still fails before the first byte of the answer (the far end
closed it between the poll and the send) raises StaleConnectionError, which the client
answers by reopening once without counting an attempt, as it did on http.client's
RemoteDisconnected.
"""

from __future__ import annotations

import select
import socket
import ssl
from dataclasses import dataclass

from .errors import (
    MalformedAnswerError,
    OversizedHeadersError,
    TruncatedAnswerError,
    UnframedAnswerError,
)

MAX_HEADER_BYTES = 65536
MAX_HEADER_LINES = 100
_RECV = 65536
_NO_BODY = frozenset({204, 304})
_HEX = b"0123456789abcdefABCDEF"


class StaleConnectionError(ConnectionError):
    """A reused connection failed before any of its answer arrived."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes


class Transport:
    """One connection to one host, reopened when it drops. Not thread-safe: the client
    holds its lock around ``exchange``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: ssl.SSLContext | None,
        connect_timeout_s: float,
        read_timeout_s: float,
    ) -> None:
        self._host = host
        self._port = port
        self._tls = tls
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._literal = _address_family(host)
        self._sock: socket.socket | None = None
        self._buffer = b""  # bytes read past the current answer (none on a sane server)
        self.connections = 0  # opened so far

    def exchange(self, request: bytes) -> Answer:
        """Send a whole request and read its answer. Raises OSError subclasses for a
        failed connection (StaleConnectionError for a reused one that died idle) and
        the errors.py classes for an answer it will not read."""
        sock = self._sock
        reused = sock is not None and not _dropped(sock)
        if not reused:
            self.close()
            sock = self._open()
        assert sock is not None
        try:
            try:
                sock.sendall(request)
            except (ConnectionResetError, BrokenPipeError) as exc:
                if reused:
                    raise StaleConnectionError(str(exc)) from exc
                raise
            answer, keep = self._read_answer(sock, reused)
        except BaseException:
            self.close()
            raise
        if not keep or self._buffer:  # bytes past the answer: nothing we can trust after it
            self.close()
        return answer

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._buffer = b""

    def _open(self) -> socket.socket:
        if self._literal is None:  # a name: resolved for every new connection, as urllib3 does
            sock = socket.create_connection(
                (self._host, self._port), timeout=self._connect_timeout_s
            )
        else:  # an IP address (the local stand-in): no resolver call
            sock = socket.socket(self._literal, socket.SOCK_STREAM)
            try:
                sock.settimeout(self._connect_timeout_s)
                sock.connect((self._host, self._port))
            except BaseException:
                sock.close()
                raise
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tls is not None:
                sock = self._tls.wrap_socket(sock, server_hostname=self._host)
            sock.settimeout(self._read_timeout_s)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self.connections += 1
        return sock

    # --- reading the answer ---

    def _read_answer(self, sock: socket.socket, reused: bool) -> tuple[Answer, bool]:
        while True:
            head = self._read_head(sock, reused)
            status, version, headers = _parse_head(head)
            if 100 <= status < 200:  # interim (100 Continue, 103): the real answer follows
                reused = False
                continue
            body = self._read_body(sock, status, headers)
            connection = headers.get("connection", "").lower()
            keep = version == "HTTP/1.1" and "close" not in connection
            return Answer(status, headers, body), keep

    def _read_head(self, sock: socket.socket, reused: bool) -> bytes:
        data = self._buffer
        start = 0
        while True:
            end = data.find(b"\r\n\r\n", start)
            if 0 <= end <= MAX_HEADER_BYTES:
                self._buffer = data[end + 4 :]
                return data[:end]
            if end > MAX_HEADER_BYTES or len(data) > MAX_HEADER_BYTES:
                raise OversizedHeadersError(
                    f"DynamoDB's answer headers exceed {MAX_HEADER_BYTES} bytes"
                )
            start = max(0, len(data) - 3)
            chunk = _recv(sock, stale=reused and not data)
            if not chunk and data:
                raise TruncatedAnswerError(
                    "the connection closed before the answer's headers ended"
                )
            if not chunk:  # as http.client's RemoteDisconnected: a failed connection
                raise ConnectionAbortedError("the connection closed without an answer")
            data += chunk

    def _read_body(self, sock: socket.socket, status: int, headers: dict[str, str]) -> bytes:
        if status in _NO_BODY:
            return b""
        coding = headers.get("transfer-encoding")
        if coding is not None:
            if coding.strip().lower() != "chunked":
                raise UnframedAnswerError(f"an answer in transfer coding {coding!r}")
            return self._read_chunked(sock)
        length = headers.get("content-length")
        if length is None:
            raise UnframedAnswerError("an answer with neither Content-Length nor chunked coding")
        if not (
            length.isascii() and length.isdigit()
        ):  # also refuses "5, 6": repeats that disagree
            raise MalformedAnswerError(f"an answer with Content-Length {length!r}")
        return self._read_exactly(sock, int(length))

    def _read_exactly(self, sock: socket.socket, size: int) -> bytes:
        data = self._buffer
        if len(data) < size:
            parts = [data]
            have = len(data)
            while have < size:
                chunk = _recv(sock)
                if not chunk:
                    raise TruncatedAnswerError(
                        f"the connection closed after {have} of the answer's {size} bytes"
                    )
                parts.append(chunk)
                have += len(chunk)
            data = b"".join(parts)
        self._buffer = data[size:]
        return data[:size]

    def _read_line(self, sock: socket.socket) -> bytes:
        while (end := self._buffer.find(b"\r\n")) < 0:
            if len(self._buffer) > MAX_HEADER_BYTES:
                raise OversizedHeadersError("a chunk-size or trailer line exceeds 64 KiB")
            chunk = _recv(sock)
            if not chunk:
                raise TruncatedAnswerError("the connection closed inside a chunked answer")
            self._buffer += chunk
        line, self._buffer = self._buffer[:end], self._buffer[end + 2 :]
        return line

    def _read_chunked(self, sock: socket.socket) -> bytes:
        parts: list[bytes] = []
        while True:
            size_text = self._read_line(sock).split(b";", 1)[0].strip()  # extensions ignored
            if not size_text or size_text.strip(_HEX):
                raise MalformedAnswerError(f"a chunk size of {size_text[:40]!r}")
            size = int(size_text, 16)
            if size == 0:
                while self._read_line(sock):  # trailers, unused, up to the blank line
                    pass
                return b"".join(parts)
            parts.append(self._read_exactly(sock, size))
            if self._read_exactly(sock, 2) != b"\r\n":
                raise MalformedAnswerError("a chunk not followed by CRLF")


def _parse_head(head: bytes) -> tuple[int, str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0]
    version, _, rest = status_line.partition(" ")
    code = rest[:3]
    if (
        version not in ("HTTP/1.1", "HTTP/1.0")
        or len(code) != 3
        or not (code.isascii() and code.isdigit())
        or rest[3:4] not in ("", " ")
    ):
        raise MalformedAnswerError(f"an answer whose status line is {status_line[:80]!r}")
    if len(lines) > MAX_HEADER_LINES + 1:
        raise OversizedHeadersError(f"an answer with more than {MAX_HEADER_LINES} header lines")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or line[0] in " \t":
            raise MalformedAnswerError(f"an answer header line {line[:80]!r}")
        name = name.lower()
        value = value.strip()
        seen = headers.get(name)
        headers[name] = value if seen is None else f"{seen}, {value}"
    return int(code), version, headers


def _address_family(host: str) -> socket.AddressFamily | None:
    """The family of an IP-address host, None for a name."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except OSError:
            continue
        return family
    return None


def _recv(sock: socket.socket, *, stale: bool = False) -> bytes:
    """Up to 64 KiB; b"" at the end of the stream. ``stale``: nothing of the answer has
    arrived on a reused connection, so a reset means it died idle (StaleConnectionError)."""
    try:
        data = sock.recv(_RECV)
    except (ConnectionResetError, BrokenPipeError) as exc:
        if stale:
            raise StaleConnectionError(str(exc)) from exc
        raise
    if not data and stale:
        raise StaleConnectionError("the kept-alive connection was closed by the far end")
    return data


def _dropped(sock: socket.socket) -> bool:
    """urllib3's ``is_connection_dropped``: an idle connection that is readable has been
    closed by the far end (or holds bytes nobody asked for); either way, not reusable."""
    if sock.fileno() < 0:
        return True
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))
