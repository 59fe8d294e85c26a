"""Read mosquitto's log lines into the events the emulation needs.

mosquitto 2.0 has no hook for connects, disconnects or "who published this", but
it logs all three (``connection_messages true``; ``log_type debug`` for PUBLISH).
The log goes to stderr, which mosquitto does not buffer, so a line arrives at
once. The wording matched here is mosquitto 2.0's (``src/handle_connect.c``,
``src/loop.c``, ``src/handle_publish.c``); a line that matches nothing is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# AWS presence disconnectReason values for each way mosquitto reports a lost client.
CLIENT_INITIATED_DISCONNECT = "CLIENT_INITIATED_DISCONNECT"
CONNECTION_LOST = "CONNECTION_LOST"
MQTT_KEEP_ALIVE_TIMEOUT = "MQTT_KEEP_ALIVE_TIMEOUT"
DUPLICATE_CLIENTID = "DUPLICATE_CLIENTID"
CLIENT_ERROR = "CLIENT_ERROR"
SERVER_INITIATED_DISCONNECT = "SERVER_INITIATED_DISCONNECT"


@dataclass(frozen=True)
class ClientConnected:
    client_id: str
    ip_address: str
    username: str | None


@dataclass(frozen=True)
class ClientDisconnected:
    client_id: str
    reason: str


@dataclass(frozen=True)
class PublishReceived:
    client_id: str
    topic: str
    size_bytes: int
    retain: bool


BrokerEvent = ClientConnected | ClientDisconnected | PublishReceived

_PREFIX = re.compile(r"^\d+: ")
_CONNECTED = re.compile(
    # The flags may hold parentheses: the AWS IoT SDK sends a username such as
    # "?SDK=...&Metadata=(CRTVersion=0.36.1;...)", so the client id ends at the
    # first " (p<version>" and the flags run to the final ")."
    r"^New client connected from (?P<ip>.+):\d+ as (?P<cid>.+?) \((?P<flags>p\d.*)\)\.$"
)
_USERNAME = re.compile(r"u'(?P<user>.*)'")
_PUBLISH = re.compile(
    r"^Received PUBLISH from (?P<cid>.+) \(d\d, q\d, r(?P<retain>\d), m\d+, "
    r"'(?P<topic>.*)', \.\.\. \((?P<size>\d+) bytes\)\)$"
)
_DISCONNECTS = (
    (re.compile(r"^Client (?P<cid>.+) disconnected\.$"), CLIENT_INITIATED_DISCONNECT),
    (re.compile(r"^Client (?P<cid>.+) closed its connection\.$"), CONNECTION_LOST),
    (re.compile(r"^Socket error on client (?P<cid>.+), disconnecting\.$"), CONNECTION_LOST),
    (
        re.compile(r"^Client (?P<cid>.+) has exceeded timeout, disconnecting\.$"),
        MQTT_KEEP_ALIVE_TIMEOUT,
    ),
    (
        re.compile(r"^Client (?P<cid>.+) already connected, closing old connection\.$"),
        DUPLICATE_CLIENTID,
    ),
    (re.compile(r"^Client (?P<cid>.+) disconnected(?: due to|,) .+\.$"), CLIENT_ERROR),
)
_UNKNOWN_CLIENT = "<unknown>"


def parse_line(line: str) -> BrokerEvent | None:
    text = _PREFIX.sub("", line.rstrip("\r\n"), count=1)
    if text.startswith("Received PUBLISH"):
        match = _PUBLISH.match(text)
        if match:
            return PublishReceived(
                match["cid"], match["topic"], int(match["size"]), match["retain"] == "1"
            )
        return None
    match = _CONNECTED.match(text)
    if match:
        user = _USERNAME.search(match["flags"])
        return ClientConnected(match["cid"], match["ip"], user["user"] if user else None)
    for pattern, reason in _DISCONNECTS:
        match = pattern.match(text)
        if match and match["cid"] != _UNKNOWN_CLIENT:
            return ClientDisconnected(match["cid"], reason)
    return None
