"""The one MQTT codec: the few packets the ingest subscription and the load generator need,
encoded and parsed in bulk (MQTT 5 and 3.1.1, OASIS standards, sections 2 and 3).

Why our own: the engine acknowledges after commit, so the client sits on the hot path of every
message, and a general client's per-message work (callbacks, per-packet reads, state for
features we never use) cost more CPU than decoding and storing together
(bench/ingest_throughput.py); the load generator writes pre-encoded PUBLISH packets and reads
PUBACKs in bulk for the same reason. CONNECT, SUBSCRIBE, PUBLISH both ways, PUBACK both ways,
PINGREQ, DISCONNECT.

>>> connect_packet("fw", 60, mqtt5=True, session_expiry_s=3600, receive_maximum=100)[:2]
b'\\x10\\x17'
>>> buf = publish_packet("fw/v1/smoke/S1/reading", b'{"seq":1}', 7, mqtt5=True)
>>> parsed, used = parse_packets(buf, mqtt5=True)
>>> parsed[0], used == len(buf)
((50, 'fw/v1/smoke/S1/reading', b'{"seq":1}', 7, 1), True)
>>> publish_qos1(publish_prefix("t"), 1, b"x") == publish_packet("t", b"x", 1, mqtt5=False)
True
>>> split_pubacks(b"\\x40\\x02\\x00\\x01\\x40\\x02\\x00\\x02\\x40")
([1, 2], b'@')
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Final

CONNECT: Final = 0x10
CONNACK: Final = 0x20
PUBLISH: Final = 0x30
PUBACK: Final = 0x40
SUBSCRIBE: Final = 0x82
SUBACK: Final = 0x90
PINGREQ: Final = b"\xc0\x00"
PINGRESP: Final = 0xD0
DISCONNECT_PACKET: Final = b"\xe0\x00"
DISCONNECT: Final = 0xE0
PUBLISH_QOS1: Final = PUBLISH | 0x02
MAX_PACKET_ID: Final = 65535

Packet = tuple[int, str, bytes, int, int]
"""(packet type and flags, topic or "", payload or body, packet id, qos)."""

_topics: dict[bytes, str] = {}  # a few thousand devices repeat their topics all day


def varint(value: int) -> bytes:
    """MQTT's variable byte integer (remaining length, property length)."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


REMAINING_LENGTH: Final = tuple(varint(n) for n in range(16384))
"""Pre-encoded lengths for every packet a 4 KiB payload can make: a lookup instead of a loop."""


def _string(value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return struct.pack("!H", len(raw)) + raw


def _packet(first: int, body: bytes) -> bytes:
    return bytes([first]) + varint(len(body)) + body


def connect_packet(
    client_id: str,
    keepalive_s: int,
    *,
    mqtt5: bool,
    session_expiry_s: int = 0,
    receive_maximum: int = 65535,
    username: str | None = None,
    password: str | None = None,
    will: tuple[str, bytes] | None = None,
    clean: bool = False,
) -> bytes:
    """CONNECT; a persistent session unless `clean` (clean start / clean session); `will` is a
    (topic, payload) the broker publishes, retained at QoS 1, if we vanish. Keep-alive 0: the
    broker never expects a PINGREQ."""
    flags = (0x80 if username is not None else 0) | (0x40 if password is not None else 0)
    flags |= 0x02 if clean else 0
    if will is not None:
        flags |= 0x04 | 0x08 | 0x20  # will, will QoS 1, will retain
    header = _string("MQTT") + bytes([5 if mqtt5 else 4, flags]) + struct.pack("!H", keepalive_s)
    if mqtt5:
        props = (
            b"\x11"
            + struct.pack("!I", session_expiry_s)
            + b"\x21"
            + struct.pack("!H", receive_maximum)
        )
        header += varint(len(props)) + props
    payload = _string(client_id)
    if will is not None:
        payload += (b"\x00" if mqtt5 else b"") + _string(will[0]) + _string(will[1])
    if username is not None:
        payload += _string(username)
    if password is not None:
        payload += _string(password)
    return _packet(CONNECT, header + payload)


def subscribe_packet(packet_id: int, topic_filters: str | Sequence[str], *, mqtt5: bool) -> bytes:
    """QoS 1; with MQTT 5 also No Local, so our own publications do not come back."""
    filters = [topic_filters] if isinstance(topic_filters, str) else list(topic_filters)
    body = struct.pack("!H", packet_id) + (b"\x00" if mqtt5 else b"")
    options = b"\x05" if mqtt5 else b"\x01"  # qos 1 (| no local)
    body += b"".join(_string(f) + options for f in filters)
    return _packet(SUBSCRIBE, body)


def publish_packet(
    topic: str, payload: bytes, packet_id: int, *, mqtt5: bool, retain: bool = False
) -> bytes:
    """A QoS 1 PUBLISH (for tests and the engine's own few publications)."""
    body = _string(topic) + struct.pack("!H", packet_id) + (b"\x00" if mqtt5 else b"") + payload
    return _packet(PUBLISH | 0x02 | (0x01 if retain else 0), body)


def publish_prefix(topic: str) -> bytes:
    """The topic part of a PUBLISH variable header, computed once per device and topic."""
    return _string(topic)


def publish_qos1(prefix: bytes, packet_id: int, payload: bytes) -> bytes:
    """One MQTT 3.1.1 QoS 1 PUBLISH from a pre-encoded topic prefix (the load generator's)."""
    return b"%c%b%b%b%b" % (
        PUBLISH_QOS1,
        REMAINING_LENGTH[len(prefix) + 2 + len(payload)],
        prefix,
        packet_id.to_bytes(2, "big"),
        payload,
    )


_PUBACK_PAIR: Final = struct.Struct(">2xH")


def split_pubacks(buffer: bytes) -> tuple[list[int], bytes]:
    """Packet ids of the PUBACKs (3.1.1: no reason code) at the front of `buffer`, and the
    bytes left over. A buffer of nothing but PUBACKs takes one C-level pass; anything else (a
    PINGRESP, a partial packet) goes through `parse_packets`."""
    whole = len(buffer) - len(buffer) % 4
    head = buffer[:whole]
    count = whole // 4
    if head[0::4].count(PUBACK) == count and head[1::4].count(2) == count:
        return [pid for (pid,) in _PUBACK_PAIR.iter_unpack(head)], buffer[whole:]
    packets, used = parse_packets(buffer, mqtt5=False)
    ids = []
    for first, _, body, _, _ in packets:
        if first == PUBACK:
            ids.append(int.from_bytes(body[:2], "big"))
        elif first != PINGRESP:
            raise ValueError(f"unexpected packet 0x{first:02x} from the broker")
    return ids, buffer[used:]


def pubacks(packet_ids: list[int]) -> bytes:
    """PUBACKs for several messages in one write (a success PUBACK has no reason code)."""
    return b"".join(b"\x40\x02" + pid.to_bytes(2, "big") for pid in packet_ids)


def _skip_properties(data: bytes, at: int) -> int:
    length, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return at + length
        shift += 7


def packet_end(data: bytes, at: int = 0) -> int:
    """Where the (complete) packet that starts at `at` ends: its remaining length is read."""
    return _skip_properties(data, at + 1)


def parse_packets(data: bytes, *, mqtt5: bool) -> tuple[list[Packet], int]:
    """Every complete packet at the start of `data`, and how many bytes they took."""
    packets: list[Packet] = []
    size = len(data)
    at = 0
    topics = _topics
    while at + 2 <= size:
        first = data[at]
        length, shift, cursor = 0, 0, at + 1
        while True:
            if cursor >= size:
                return packets, at
            byte = data[cursor]
            cursor += 1
            length |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
            shift += 7
        end = cursor + length
        if end > size:
            return packets, at
        kind = first & 0xF0
        if kind == PUBLISH:
            qos = (first >> 1) & 0x03
            topic_end = cursor + 2 + ((data[cursor] << 8) | data[cursor + 1])
            raw_topic = data[cursor + 2 : topic_end]
            topic = topics.get(raw_topic)
            if topic is None:
                topic = raw_topic.decode("utf-8", "replace")
                if len(topics) < 200_000:
                    topics[raw_topic] = topic
            cursor = topic_end
            packet_id = 0
            if qos:
                packet_id = (data[cursor] << 8) | data[cursor + 1]
                cursor += 2
            if mqtt5:
                cursor = _skip_properties(data, cursor)
            packets.append((first, topic, data[cursor:end], packet_id, qos))
        else:
            packets.append((first, "", data[cursor:end], 0, 0))
        at = end
    return packets, at


def connack_refusal(body: bytes, *, mqtt5: bool) -> str | None:
    """None when the broker accepted the connection, else its reason as text."""
    code = body[1] if len(body) > 1 else 255
    if code == 0:
        return None
    names = {
        0x04: "bad user name or password", 0x05: "not authorised",
        0x86: "bad user name or password", 0x87: "not authorised",
        0x85: "client identifier not valid", 0x88: "server unavailable",
        0x84: "unsupported protocol version", 0x01: "unsupported protocol version",
    }  # fmt: skip
    return f"{names.get(code, 'refused')} (reason code {code:#04x}, MQTT {5 if mqtt5 else 3.1})"


def connack_problem(reply: bytes, *, mqtt5: bool) -> str | None:
    """None when `reply` (the first bytes the broker sent) is a CONNACK accepting us."""
    if len(reply) < 4 or reply[0] != CONNACK:
        return f"expected CONNACK, got {reply[:4].hex() or 'nothing'}"
    return connack_refusal(reply[2:], mqtt5=mqtt5)


def suback_granted(body: bytes, *, mqtt5: bool) -> bool:
    codes = body[_skip_properties(body, 2) :] if mqtt5 else body[2:]
    return bool(codes) and all(code < 0x80 for code in codes)
