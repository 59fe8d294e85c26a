"""Just enough of the MQTT 3.1.1 and 5 wire format for the policy gate: frame packets, read
the fields a policy decides on (client id, topic, topic filters), and write the few
packets the gate answers with itself (CONNACK, PUBACK, SUBACK refusals).

Everything else passes through as the bytes it came in.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

from .errors import MqttProtocolError

CONNECT, CONNACK, PUBLISH, PUBACK = 1, 2, 3, 4
SUBSCRIBE, SUBACK, DISCONNECT = 8, 9, 14
MQTT_311, MQTT_5 = 4, 5
NOT_AUTHORIZED_V5 = 0x87  # CONNACK, PUBACK, SUBACK reason code "Not authorized"
CONNACK_NOT_AUTHORIZED_V3 = 0x05
SUBACK_FAILURE_V3 = 0x80
PROPERTY_TOPIC_ALIAS = 0x23
MAX_PACKET_BYTES = 268_435_455  # the largest remaining length MQTT can encode

_BYTE, _U16, _U32, _VARINT, _STRING, _BINARY, _PAIR = range(7)
_PROPERTY_TYPES = {
    **dict.fromkeys((0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A), _BYTE),
    **dict.fromkeys((0x13, 0x21, 0x22, 0x23), _U16),
    **dict.fromkeys((0x02, 0x11, 0x18, 0x27), _U32),
    0x0B: _VARINT,
    **dict.fromkeys((0x03, 0x08, 0x12, 0x15, 0x1A, 0x1C, 0x1F), _STRING),
    **dict.fromkeys((0x09, 0x16), _BINARY),
    0x26: _PAIR,
}


@dataclass(frozen=True)
class Packet:
    first: int  # packet type << 4 | flags
    body: bytes

    @property
    def kind(self) -> int:
        return self.first >> 4

    def encode(self) -> bytes:
        return bytes([self.first]) + encode_varint(len(self.body)) + self.body


async def read_packet(reader: asyncio.StreamReader) -> Packet | None:
    """The next packet, or None at the end of the stream."""
    try:
        first = (await reader.readexactly(1))[0]
        length, shift = 0, 0
        for _ in range(4):
            byte = (await reader.readexactly(1))[0]
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        else:
            raise MqttProtocolError("remaining length longer than 4 bytes")
        return Packet(first, await reader.readexactly(length))
    except asyncio.IncompleteReadError:
        return None


def encode_varint(value: int) -> bytes:
    if not 0 <= value <= MAX_PACKET_BYTES:
        raise MqttProtocolError(f"{value} does not fit a variable byte integer")
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def encode_string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack("!H", len(raw)) + raw


class _Cursor:
    def __init__(self, buf: bytes, pos: int = 0) -> None:
        self.buf, self.pos = buf, pos

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.buf):
            raise MqttProtocolError("packet shorter than its fields")
        chunk = self.buf[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int(struct.unpack("!H", self.take(2))[0])

    def varint(self) -> int:
        value, shift = 0, 0
        for _ in range(4):
            byte = self.u8()
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value
        raise MqttProtocolError("variable byte integer longer than 4 bytes")

    def binary(self) -> bytes:
        return self.take(self.u16())

    def string(self) -> str:
        try:
            return self.binary().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MqttProtocolError("a string is not UTF-8") from exc

    def properties(self) -> tuple[bytes, dict[int, object]]:
        """MQTT 5 properties: their raw bytes (length included) and the single-valued ones."""
        start = self.pos
        end = self.varint() + self.pos
        values: dict[int, object] = {}
        while self.pos < end:
            ident = self.varint()
            kind = _PROPERTY_TYPES.get(ident)
            if kind is None:
                raise MqttProtocolError(f"unknown MQTT 5 property 0x{ident:02x}")
            value: object
            if kind == _BYTE:
                value = self.u8()
            elif kind == _U16:
                value = self.u16()
            elif kind == _U32:
                value = int(struct.unpack("!I", self.take(4))[0])
            elif kind == _VARINT:
                value = self.varint()
            elif kind == _STRING:
                value = self.string()
            elif kind == _BINARY:
                value = self.binary()
            else:
                value = (self.string(), self.string())
            values.setdefault(ident, value)
        if self.pos != end:
            raise MqttProtocolError("properties overrun their length")
        return self.buf[start:end], values

    def rest(self) -> bytes:
        return self.buf[self.pos :]


@dataclass(frozen=True)
class Connect:
    protocol_name: str
    level: int
    flags: int
    keep_alive: int
    properties: bytes  # raw, length included; empty before MQTT 5
    client_id: str

    @property
    def has_will(self) -> bool:
        return bool(self.flags & 0x04)

    def with_username(self, username: str) -> Packet:
        """The same CONNECT with ``username`` and no password (mosquitto's
        ``use_identity_as_username``: the certificate names the principal)."""
        flags = (self.flags & 0x02) | 0x80  # keep Clean Start; no will, no password
        body = (
            encode_string(self.protocol_name)
            + bytes([self.level, flags])
            + struct.pack("!H", self.keep_alive)
            + self.properties
            + encode_string(self.client_id)
            + encode_string(username)
        )
        return Packet(CONNECT << 4, body)


def parse_connect(packet: Packet) -> Connect:
    if packet.kind != CONNECT:
        raise MqttProtocolError("the first packet is not CONNECT")
    cursor = _Cursor(packet.body)
    name, level, flags, keep_alive = cursor.string(), cursor.u8(), cursor.u8(), cursor.u16()
    if (name, level) not in {("MQTT", MQTT_311), ("MQTT", MQTT_5)}:
        raise MqttProtocolError(f"unsupported protocol {name!r} level {level}")
    properties = cursor.properties()[0] if level == MQTT_5 else b""
    return Connect(name, level, flags, keep_alive, properties, cursor.string())


def connack_not_authorized(level: int) -> Packet:
    if level == MQTT_5:
        return Packet(CONNACK << 4, bytes([0, NOT_AUTHORIZED_V5, 0]))
    return Packet(CONNACK << 4, bytes([0, CONNACK_NOT_AUTHORIZED_V3]))


@dataclass(frozen=True)
class Publish:
    topic: str  # empty when an MQTT 5 topic alias stands for it
    qos: int
    retain: bool
    packet_id: int | None
    topic_alias: int | None


def parse_publish(packet: Packet, level: int) -> Publish:
    qos = (packet.first >> 1) & 0x03
    if qos == 3:
        raise MqttProtocolError("PUBLISH with QoS 3")
    cursor = _Cursor(packet.body)
    topic = cursor.string()
    packet_id = cursor.u16() if qos else None
    alias = None
    if level == MQTT_5:
        value = cursor.properties()[1].get(PROPERTY_TOPIC_ALIAS)
        alias = value if isinstance(value, int) else None
    return Publish(topic, qos, bool(packet.first & 0x01), packet_id, alias)


def puback(packet_id: int, level: int, reason: int = 0) -> Packet:
    body = struct.pack("!H", packet_id)
    if level == MQTT_5 and reason:
        body += bytes([reason])
    return Packet(PUBACK << 4, body)


@dataclass(frozen=True)
class Subscribe:
    packet_id: int
    properties: bytes  # raw, length included; empty before MQTT 5
    entries: tuple[tuple[str, int], ...]  # (topic filter, options byte)

    def encode(self) -> Packet:
        body = struct.pack("!H", self.packet_id) + self.properties
        for topic_filter, options in self.entries:
            body += encode_string(topic_filter) + bytes([options])
        return Packet(SUBSCRIBE << 4 | 0x02, body)


def parse_subscribe(packet: Packet, level: int) -> Subscribe:
    cursor = _Cursor(packet.body)
    packet_id = cursor.u16()
    properties = cursor.properties()[0] if level == MQTT_5 else b""
    entries = []
    while cursor.pos < len(packet.body):
        entries.append((cursor.string(), cursor.u8()))
    if not entries:
        raise MqttProtocolError("SUBSCRIBE without a topic filter")
    return Subscribe(packet_id, properties, tuple(entries))


@dataclass(frozen=True)
class Suback:
    packet_id: int
    properties: bytes
    codes: tuple[int, ...]

    def encode(self) -> Packet:
        return Packet(
            SUBACK << 4, struct.pack("!H", self.packet_id) + self.properties + bytes(self.codes)
        )


def parse_suback(packet: Packet, level: int) -> Suback:
    cursor = _Cursor(packet.body)
    packet_id = cursor.u16()
    properties = cursor.properties()[0] if level == MQTT_5 else b""
    return Suback(packet_id, properties, tuple(cursor.rest()))


def subscribe_refused(level: int) -> int:
    return NOT_AUTHORIZED_V5 if level == MQTT_5 else SUBACK_FAILURE_V3


def no_properties(level: int) -> bytes:
    return b"\x00" if level == MQTT_5 else b""
