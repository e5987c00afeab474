"""Loopback ports: pick a free one, wait until a server listens on one, and ask it for MQTT."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

LOOPBACK = "127.0.0.1"
_RETRY_S = 0.05


def free_port(host: str = LOOPBACK) -> int:
    """A port nobody listens on right now; a server started a moment later may still lose it to
    another process, so callers that pick a port also retry on a bind failure."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(
    host: str, port: int, timeout: float, alive: Callable[[], bool] = lambda: True
) -> bool:
    """True once a TCP connection to host:port succeeds; False after `timeout` seconds or as soon
    as `alive()` says the server process is gone (no point waiting for a dead process)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return True
        except OSError:
            time.sleep(_RETRY_S)
    return False


def _connect_packet(client_id: str) -> bytes:
    """An MQTT 3.1.1 CONNECT with a clean session and no credentials."""
    ident = client_id.encode()
    body = b"\x00\x04MQTT\x04\x02\x00\x0a" + len(ident).to_bytes(2, "big") + ident
    return bytes([0x10, len(body)]) + body


def mqtt_answers(host: str, port: int, timeout: float = 2.0) -> bool:
    """True if the server answers an MQTT CONNECT with a CONNACK.

    A refusal (bad credentials, not authorised) counts as an answer: it proves that the broker
    is up and speaks MQTT, which a bare TCP accept does not. The probe disconnects politely so
    that the broker logs a client, not a protocol error.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(_connect_packet(f"firewatch-probe-{os.getpid()}"))
            answer = sock.recv(4)
            if len(answer) >= 2 and answer[0] == 0x20:
                sock.sendall(b"\xe0\x00")
                return True
    except OSError:
        return False
    return False


def wait_for_mqtt(
    host: str, port: int, timeout: float, alive: Callable[[], bool] = lambda: True
) -> bool:
    """True once the broker on host:port answers MQTT; False on time-out or when `alive()` fails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        if mqtt_answers(host, port, timeout=min(2.0, max(0.1, deadline - time.monotonic()))):
            return True
        time.sleep(_RETRY_S)
    return False
