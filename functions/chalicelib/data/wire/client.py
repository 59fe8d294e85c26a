"""A lean DynamoDB client for ingest's steady path: JSON over one kept-alive connection.

Why it exists (issue 19; figures and the decision in docs/architecture.md, "A hand
client for ingest's steady path"): ingest makes two DynamoDB requests per telemetry
message (the bus item's Query and the cycle's conditional PutItem). Through PynamoDB and
botocore they cost 2.6-3.2 ms of CPU each in hooks, the endpoint ruleset, signing,
urllib3, the parsers and the models, and building the client ~73 ms of a cold
container's first message. Here a request is a JSON body, a SigV4 signature
(``signing.py``) and one round trip in its own HTTP/1.1 (``transport.py``): ~0.45-0.6
ms against a stand-in that closed every connection (~0.25 ms of that was the bare socket
work; it keeps them alive now, as AWS does: infra/local_aws/keepalive.py), ~0.12 ms kept
alive (``http.client`` took ~0.86 and ~0.27); building it
0.1 ms. Fleet bench: ~16 -> ~10.5 ms per 32-meter message with ``http.client``; cold
first message 639 -> 449 ms.

It sends the operations ingest's paths call and nothing else: the single-item ones,
the Queries the stores page themselves (``TelemetryStore._cycle_pages``), BatchGetItem
(``SettlementStore.accounts``) and TransactWriteItems (``transact.py``: a settling
message's settlements, a bucket closed with its cycle). Everything else in the data layer
stays on PynamoDB.

Behaviour that matters:
- HTTPS with certificate and host verification (the default context, or the one given)
  for AWS, a refused certificate never retried; plain HTTP only when the endpoint says
  ``http://`` (the local stand-in). The HTTP/1.1 itself is transport.py's.
- Retries, with full-jitter waits, a throttled request, a 5xx, a reply whose CRC32
  does not match, and a connection that failed or timed out; a kept-alive connection
  the far end closed while idle is reopened at once, once, without counting an attempt.
  A write retried after a timeout can meet its own first attempt: a conditional put then
  answers ConditionalCheckFailed, as it does through botocore, which retries the same way.
- Never retries a refusal (4xx other than throttling): errors.py has one class per mode.
"""

from __future__ import annotations

import json
import os
import random
import re
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from .errors import (
    AccessRefusedError,
    ConditionalCheckFailedError,
    ConnectionFailedError,
    RequestRefusedError,
    ServiceUnavailableError,
    ThrottledError,
    TransactionCanceledError,
    TruncatedAnswerError,
    UnreadableAnswerError,
    UntrustedEndpointError,
    WireError,
    cancellation_reasons,
)
from .signing import Credentials, JsonPostSigner, Signer, amz_date
from .transport import StaleConnectionError, Transport

SERVICE = "dynamodb"
TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
ENV_ENDPOINT_DYNAMODB = "AWS_ENDPOINT_URL_DYNAMODB"  # botocore's names: one setting for both
ENV_ENDPOINT = "AWS_ENDPOINT_URL"

# PynamoDB's defaults are 3 retries, 15 s to connect and 30 s to read. A single-item
# request answers in milliseconds; a connection silent for 5 s is better abandoned
# and retried than waited on while the message's Lambda timeout runs.
MAX_ATTEMPTS = 4
CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 5.0
BASE_WAIT_S = 0.025
MAX_WAIT_S = 1.0

THROTTLING = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "LimitExceededException",
    }
)
REFUSED_IDENTITY = frozenset(
    {
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignatureException",
        "MissingAuthenticationTokenException",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "AccessDenied",
    }
)
CONDITION_FAILED = "ConditionalCheckFailedException"
CANCELLED = "TransactionCanceledException"

CredentialSource = Credentials | Callable[[], Credentials]
_XML_CODE = re.compile(r"<Code>([^<]*)</Code>")
_XML_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")


def endpoint_url(region: str, env: Mapping[str, str] | None = None) -> str:
    """The endpoint botocore would use: its standard variables, else AWS's regional one."""
    source = os.environ if env is None else env
    return (
        source.get(ENV_ENDPOINT_DYNAMODB)
        or source.get(ENV_ENDPOINT)
        or f"https://dynamodb.{region}.amazonaws.com"
    )


class DynamoWire:
    """Sends DynamoDB JSON-protocol operations to one table's endpoint. Build one per
    process (the container does) and share it: it keeps the connection and the day's
    signing key."""

    def __init__(
        self,
        table: str,
        region: str,
        endpoint: str,
        credentials: CredentialSource,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(endpoint)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"DynamoDB endpoint {endpoint!r} is not an http(s) URL")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
        self.table = table
        self.region = region
        self.endpoint = endpoint
        self._tls = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._tls else 80)
        default_port = 443 if self._tls else 80
        self._host_header = self._host if self._port == default_port else parts.netloc
        self._path = parts.path or "/"
        self._credentials = credentials
        self._signer = Signer(region, SERVICE)
        self._attempts = max_attempts
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._sleep = sleep
        self._clock = clock
        self._post_signer = JsonPostSigner(
            self._signer, self._host_header, self._path, CONTENT_TYPE
        )
        self._request_line = f"POST {self._path} HTTP/1.1\r\n"
        self._transport: Transport | None = None
        self._lock = threading.Lock()
        self._ssl = ssl_context  # None: the default context, made on first use
        self.requests = 0  # sent, retries included (the benches count them)

    # --- operations (the payload is DynamoDB's own JSON request, TableName included) ---

    def query(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.call("Query", payload)

    def get_item(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.call("GetItem", payload)

    def put_item(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.call("PutItem", payload)

    def update_item(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.call("UpdateItem", payload)

    def call(self, operation: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """DynamoDB's answer as JSON; raises a WireError subclass for every failure."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        failure: WireError | None = None
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(random.uniform(0, min(MAX_WAIT_S, BASE_WAIT_S * 2 ** (attempt - 1))))
            try:
                status, headers, data = self._exchange(operation, body)
            except ssl.SSLCertVerificationError as exc:
                raise UntrustedEndpointError(
                    f"DynamoDB {operation} at {self.endpoint}: the certificate was refused "
                    f"({exc.verify_message})",
                    operation=operation,
                ) from exc
            except OSError as exc:
                failure = ConnectionFailedError(
                    f"DynamoDB {operation} at {self.endpoint}: no answer ({exc!r})",
                    operation=operation,
                )
                failure.__cause__ = exc
                continue
            except UnreadableAnswerError as exc:
                failure = type(exc)(
                    f"DynamoDB {operation} at {self.endpoint}: {exc}", operation=operation
                )
                failure.__cause__ = exc
                if isinstance(exc, TruncatedAnswerError):
                    continue  # the connection dropped mid-answer: as one that failed
                raise failure from exc
            if status == 200 and _crc_ok(headers, data):
                answer: dict[str, Any] = json.loads(data) if data else {}
                return answer
            failure = _failure(operation, status, headers, data)
            if not isinstance(failure, (ThrottledError, ServiceUnavailableError)):
                raise failure
        assert failure is not None  # the loop ran at least once
        raise failure

    def close(self) -> None:
        with self._lock:
            self._drop()

    # --- the connection ---

    def _exchange(self, operation: str, body: bytes) -> tuple[int, Mapping[str, str], bytes]:
        with self._lock:
            request = self._request(operation, body)
            transport = self._open()
            self.requests += 1
            try:
                answer = transport.exchange(request)
            except StaleConnectionError:
                # kept alive too long: the far end closed it between requests. Reopened
                # once without counting an attempt (urllib3 and http.client do the same).
                self.requests += 1
                answer = transport.exchange(request)
            return answer.status, answer.headers, answer.body

    def _open(self) -> Transport:
        if self._transport is None:
            tls = None
            if self._tls:
                if self._ssl is None:  # made once: loading the CA bundle is ~ms
                    self._ssl = ssl.create_default_context()  # verifies certificate and host
                tls = self._ssl
            self._transport = Transport(
                self._host,
                self._port,
                tls=tls,
                connect_timeout_s=self._connect_timeout_s,
                read_timeout_s=self._read_timeout_s,
            )
        return self._transport

    def _drop(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _request(self, operation: str, body: bytes) -> bytes:
        """The whole request as bytes: one ``sendall``."""
        headers = self._signed_headers(operation, body)
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        # Content-Length unsigned, as botocore leaves it (a proxy may re-frame the body).
        return f"{self._request_line}{lines}Content-Length: {len(body)}\r\n\r\n".encode() + body

    def _signed_headers(self, operation: str, body: bytes) -> dict[str, str]:
        credentials = self._credentials
        if callable(credentials):
            credentials = credentials()
        timestamp = amz_date(self._clock())
        target = TARGET_PREFIX + operation
        headers = {
            "Host": self._host_header,
            "X-Amz-Date": timestamp,
            "X-Amz-Target": target,
            "Content-Type": CONTENT_TYPE,
        }
        if credentials.session_token:
            headers["X-Amz-Security-Token"] = credentials.session_token
        headers["Authorization"] = self._post_signer.authorization(
            credentials, timestamp, target, body
        )
        return headers


def _crc_ok(headers: Mapping[str, str], data: bytes) -> bool:
    """DynamoDB sends the CRC32 of every body (botocore checks it too); a mismatch is a
    reply damaged on the way, retried."""
    expected = headers.get("x-amz-crc32")
    return expected is None or int(expected) == zlib.crc32(data)


def _failure(operation: str, status: int, headers: Mapping[str, str], data: bytes) -> WireError:
    aws_type, message, body = _aws_error(headers, data)
    where = f"DynamoDB {operation} answered {status}"
    detail = f"{where} {aws_type or 'without an error type'}: {message or '(no message)'}"
    kwargs: dict[str, Any] = {
        "operation": operation,
        "status": status,
        "aws_type": aws_type,
        "aws_message": message,
    }
    if status == 200:  # the body did not match its checksum
        return ServiceUnavailableError(f"{where} with a damaged body (CRC32)", **kwargs)
    if aws_type == CONDITION_FAILED:
        return ConditionalCheckFailedError(detail, **kwargs)
    if aws_type == CANCELLED:
        return TransactionCanceledError(detail, reasons=cancellation_reasons(body), **kwargs)
    if aws_type in THROTTLING or status == 429:
        return ThrottledError(detail, **kwargs)
    if status >= 500:
        return ServiceUnavailableError(detail, **kwargs)
    if aws_type in REFUSED_IDENTITY or status in {401, 403}:
        return AccessRefusedError(detail, **kwargs)
    return RequestRefusedError(detail, **kwargs)


def _aws_error(
    headers: Mapping[str, str], data: bytes
) -> tuple[str | None, str | None, dict[str, Any]]:
    """DynamoDB's ``{"__type": "...#Name", "message": "..."}``; an XML error's Code and
    Message; any other body's text as the message. And the JSON body ({} if none)."""
    aws_type = headers.get("x-amzn-errortype")
    message: str | None = None
    try:
        body = json.loads(data) if data else {}
    except ValueError:
        body = None
    if isinstance(body, dict):
        aws_type = str(body.get("__type") or aws_type or "") or None
        found = body.get("message") or body.get("Message")
        message = None if found is None else str(found)
    elif data:  # the Query protocol's XML (moto's IAM refusals), or a proxy's page
        text = data.decode(errors="replace")
        code, said = _XML_CODE.search(text), _XML_MESSAGE.search(text)
        aws_type = aws_type or (code.group(1) if code else None)
        message = said.group(1) if said else text[:500]
    if aws_type:
        aws_type = aws_type.rsplit("#", 1)[-1].split(":", 1)[0]
    return aws_type, message, body if isinstance(body, dict) else {}
