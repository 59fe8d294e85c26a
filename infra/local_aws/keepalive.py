"""HTTP/1.1 persistent connections for the stand-in, as DynamoDB's endpoint keeps them.

werkzeug's development server (moto's) answers every request with ``Connection: close``
on purpose. Removing that header alone is not enough: after each answer werkzeug drains
the request stream (``run_wsgi``'s ``execute``: while the socket turns readable within
10 ms, ``rfile.read(10_000_000)``), which on a kept connection reads the client's *next*
request and then blocks until the client gives up and closes. That is why the earlier
attempt left a second request, sent as soon as the first answer arrived, unanswered
until the client's 5 s read timeout.

Here each request's body is framed by the request itself (RFC 9112 6.3): the WSGI input
is bounded by Content-Length (or de-chunked), werkzeug's drain sees an exhausted stream,
and whatever of the body the application left unread is read and discarded after the
answer, so the next request line starts where it should. Answers are framed by werkzeug
(Content-Length, or chunked when the application gives none). The connection closes when
the client asks (``Connection: close``, or an HTTP/1.0 request), when a large body was
left unread, when the application failed, and after ``timeout`` seconds idle, so a
thread per idle client connection cannot pile up.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Callable, Iterable, Iterator
from typing import Any, BinaryIO, cast

from werkzeug.serving import DechunkedInput, WSGIRequestHandler

DEFAULT_IDLE_TIMEOUT_S = 20.0
# A body the application did not read is discarded up to this size to keep the
# connection; beyond it the connection is closed instead (as werkzeug caps its drain).
MAX_DRAIN_BYTES = 1 << 20
FAILED_KEY = "powerlet.failed"  # set in the WSGI environ by ``mark_failures``

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class RequestBody(io.RawIOBase):
    """One request's body: reads stop at its Content-Length, never into the next request."""

    def __init__(self, stream: BinaryIO, length: int) -> None:
        self._stream = stream
        self.remaining = length

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > self.remaining:
            size = self.remaining
        if size == 0:
            return b""
        data = self._stream.read(size)
        if not data:  # the client closed mid-body
            raise ConnectionAbortedError("the connection closed inside a request body")
        self.remaining -= len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > self.remaining:
            size = self.remaining
        if size == 0:
            return b""
        data = self._stream.readline(size)
        if not data:
            raise ConnectionAbortedError("the connection closed inside a request body")
        self.remaining -= len(data)
        return data


class _Exhausted(io.RawIOBase):
    """What werkzeug's post-answer drain reads: nothing (the body is framed here)."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return 0


class KeepAliveRequestHandler(WSGIRequestHandler):
    """A werkzeug request handler that keeps HTTP/1.1 connections open between requests.
    Combine it ahead of another handler (``class H(KeepAliveRequestHandler, Moto...)``)."""

    protocol_version = "HTTP/1.1"
    timeout = DEFAULT_IDLE_TIMEOUT_S  # socketserver applies it to the connection's socket

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes; without this, Nagle's algorithm holds
        # the second until the client's delayed ACK of the first (tens of ms a request).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket_rfile = cast(io.BufferedReader, self.rfile)  # socketserver's makefile("rb")
        self._body: RequestBody | DechunkedInput | None = None
        self._answering = False  # inside run_wsgi (http.server's own errors always close)

    def handle_one_request(self) -> None:
        # Wait for the next request line here, so an idle timeout closes the connection
        # quietly (http.server would log it as "Request timed out").
        try:
            self._socket_rfile.peek(1)
        except TimeoutError:
            self.close_connection = True
            return
        super().handle_one_request()

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.request_version != "HTTP/1.1":  # HTTP/1.0 keep-alive is not offered
            self.close_connection = True
        return True

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        if environ.get("wsgi.input_terminated"):  # chunked request body
            body: RequestBody | DechunkedInput = DechunkedInput(self._socket_rfile)
        else:
            length = _content_length(environ)
            if length is None:  # no framing to find the next request by: close after it
                self.close_connection = True
            body = RequestBody(self._socket_rfile, length or 0)
        environ["wsgi.input"] = self._body = body
        return environ

    def run_wsgi(self) -> None:
        self._body = None
        self._answering = True
        self.rfile = io.BufferedReader(_Exhausted())  # werkzeug's drain reads this
        try:
            super().run_wsgi()
        finally:
            self.rfile = self._socket_rfile
            self._answering = False
        if getattr(self, "environ", {}).get(FAILED_KEY):
            # The answer may be cut short of its Content-Length: nothing after it is sound.
            self.close_connection = True
        if not self.close_connection and not self._discard_unread_body():
            self.close_connection = True

    def send_header(self, keyword: str, value: str) -> None:
        # werkzeug sends "Connection: close" on every answer; it is kept only when this
        # connection is closing anyway (the client asked, or the body cannot be drained).
        if (
            self._answering
            and keyword.lower() == "connection"
            and value.lower() == "close"
            and not self.close_connection
            and self._body_drainable()
        ):
            return
        super().send_header(keyword, value)

    def _body_drainable(self) -> bool:
        body = self._body
        if isinstance(body, RequestBody):
            return body.remaining <= MAX_DRAIN_BYTES
        return body is None or getattr(body, "_done", False)  # a chunked body read to its end

    def _discard_unread_body(self) -> bool:
        body = self._body
        if body is None:
            return True
        if not self._body_drainable():
            return False
        try:
            while body.read(65536):
                pass
        except (OSError, ValueError):  # the client went away or sent a malformed chunk
            return False
        return True


def mark_failures(app: WsgiApp) -> WsgiApp:
    """Wrap a WSGI app so the handler knows it raised (and closes the connection)."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            result = app(environ, start_response)
        except Exception:
            environ[FAILED_KEY] = True
            raise
        return _Marked(result, environ)

    return wrapped


class _Marked:
    def __init__(self, result: Iterable[bytes], environ: dict[str, Any]) -> None:
        self._result = result
        self._environ = environ

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._result
        except Exception:
            self._environ[FAILED_KEY] = True
            raise

    def close(self) -> None:
        close = getattr(self._result, "close", None)
        if close is not None:
            close()


def _content_length(environ: dict[str, Any]) -> int | None:
    """The request's body length: 0 without the header, None if it is not one number."""
    raw = environ.get("CONTENT_LENGTH") or "0"
    if not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw)
