"""The few MQTT 3.1.1 packets a load generator needs, encoded and parsed by hand.

A general client (paho-mqtt) spends most of its time per message in Python bookkeeping; the load
generator instead writes pre-encoded PUBLISH packets in bulk and reads PUBACKs in bulk, so only
these packets are needed (MQTT 3.1.1, OASIS standard, sections 2 and 3).

>>> remaining_length(127), remaining_length(128)
(b'\\x7f', b'\\x80\\x01')
>>> publish_prefix("fw/v1/smoke/D-1/reading")[:4]
b'\\x00\\x17fw'
>>> split_pubacks(b"\\x40\\x02\\x00\\x01\\x40\\x02\\x00\\x02\\x40")
([1, 2], b'@')
"""

from __future__ import annotations

import struct
from typing import Final

PROTOCOL_LEVEL: Final = 4  # MQTT 3.1.1
CONNACK: Final = 0x20
PUBLISH_QOS1: Final = 0x32
PUBLISH: Final = 0x30
PUBACK: Final = 0x40
SUBACK: Final = 0x90
PINGRESP: Final = 0xD0
DISCONNECT_PACKET: Final = b"\xe0\x00"
MAX_PACKET_ID: Final = 65535

CONNACK_REASONS: Final = {
    1: "unacceptable protocol version",
    2: "client identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorised",
}

_PUBACK_PAIR: Final = struct.Struct(">2xH")


def remaining_length(value: int) -> bytes:
    """The variable-length integer of a fixed header (section 2.2.3)."""
    out = bytearray()
    while True:
        byte = value % 128
        value //= 128
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


REMAINING_LENGTH: Final = tuple(remaining_length(n) for n in range(16384))
"""Pre-encoded lengths for every packet a 4 KiB payload can make: a lookup instead of a loop."""


def _string(value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return struct.pack(">H", len(raw)) + raw


def connect(
    client_id: str,
    *,
    username: str | None = None,
    password: str | None = None,
    keepalive_s: int = 0,
    clean_session: bool = True,
) -> bytes:
    """A CONNECT packet; keep-alive 0 means the broker never expects a PINGREQ."""
    flags = 0x02 if clean_session else 0
    payload = _string(client_id)
    if username is not None:
        flags |= 0x80
        payload += _string(username)
        if password is not None:
            flags |= 0x40
            payload += _string(password)
    variable = _string("MQTT") + bytes([PROTOCOL_LEVEL, flags]) + struct.pack(">H", keepalive_s)
    body = variable + payload
    return bytes([0x10]) + remaining_length(len(body)) + body


def connack_error(packet: bytes) -> str | None:
    """None when the CONNACK accepts the connection, else the broker's reason."""
    if len(packet) < 4 or packet[0] != CONNACK:
        return f"expected CONNACK, got {packet[:4].hex() or 'nothing'}"
    code = packet[3]
    if code == 0:
        return None
    return CONNACK_REASONS.get(code, f"refused with return code {code}")


def subscribe(packet_id: int, filters: list[str], qos: int = 1) -> bytes:
    body = struct.pack(">H", packet_id) + b"".join(_string(f) + bytes([qos]) for f in filters)
    return bytes([0x82]) + remaining_length(len(body)) + body


def publish_prefix(topic: str) -> bytes:
    """The topic part of a PUBLISH variable header, computed once per device and topic."""
    return _string(topic)


def publish_qos1(prefix: bytes, packet_id: int, payload: bytes) -> bytes:
    """One QoS 1 PUBLISH packet from a pre-encoded topic prefix."""
    return b"%c%b%b%b%b" % (
        PUBLISH_QOS1,
        REMAINING_LENGTH[len(prefix) + 2 + len(payload)],
        prefix,
        packet_id.to_bytes(2, "big"),
        payload,
    )


def puback(packet_id: int) -> bytes:
    return b"\x40\x02" + packet_id.to_bytes(2, "big")


def split_pubacks(buffer: bytes) -> tuple[list[int], bytes]:
    """Packet ids of the PUBACKs at the front of `buffer`, and the bytes left over.

    The common case, a buffer of nothing but PUBACKs, takes one C-level pass; anything else
    (a PINGRESP, a partial packet) goes through the packet-by-packet path.
    """
    whole = len(buffer) - len(buffer) % 4
    head = buffer[:whole]
    count = whole // 4
    if head[0::4].count(PUBACK) == count and head[1::4].count(2) == count:
        return [pid for (pid,) in _PUBACK_PAIR.iter_unpack(head)], buffer[whole:]
    ids: list[int] = []
    pos = 0
    while pos + 2 <= len(buffer):
        kind, length = buffer[pos], buffer[pos + 1]
        if length & 0x80:
            raise ValueError(f"unexpected long packet 0x{kind:02x} from the broker")
        if pos + 2 + length > len(buffer):
            break
        if kind == PUBACK:
            ids.append(int.from_bytes(buffer[pos + 2 : pos + 4], "big"))
        elif kind != PINGRESP:
            raise ValueError(f"unexpected packet 0x{kind:02x} from the broker")
        pos += 2 + length
    return ids, buffer[pos:]
