"""One publisher connection: a share of the devices, pre-encoded QoS 1 PUBLISH packets written in
bulk, PUBACKs read in bulk, a bounded window of messages in flight.

It runs as a child process of `run_load` (one per connection, so the publishers use every core)
and is the only place of the load generator that reads the clocks: `time.monotonic` to pace and
`time.time` for the devices' `ts`, as a field device would.
"""

from __future__ import annotations

import contextlib
import select
import signal
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from firewatch.kernel import topics, wire
from firewatch.simulators.load.devices import LoadDevice
from firewatch.simulators.load.payloads import (
    BODIES,
    CYCLE_LENGTH,
    CYCLES,
    TEMPLATE,
    TYPES,
    rfc3339_bytes,
)
from firewatch.simulators.load.schedule import Schedule

MAX_BATCH: Final = 1000
"""Packets written per send call: large enough to amortise the system call, small enough to pace."""
READ_SIZE: Final = 1 << 18
TICK_S: Final = 0.002
"""Pacing step: below the schedule's rate, messages go out in batches this often."""
ACK_TIMEOUT_S: Final = 15.0
"""A broker that acknowledges nothing for this long while messages are in flight is broken."""
RFC3339_EVERY: Final = 4
"""Every fourth device sends RFC 3339 timestamps, the others epoch milliseconds."""
_PACKET_IDS: Final = tuple(i.to_bytes(2, "big") for i in range(wire.MAX_PACKET_ID + 1))


class Flag(Protocol):
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


class Connection(Protocol):
    def send(self, obj: object) -> None: ...


class Counters(Protocol):
    def __setitem__(self, index: int, value: int) -> None: ...


class StartTime(Protocol):
    value: float


@dataclass(frozen=True, slots=True)
class WorkerPlan:
    """What one publisher connection does; picklable, sent to the child process."""

    index: int
    host: str
    port: int
    client_id: str
    username: str | None
    password: str | None
    devices: tuple[LoadDevice, ...]
    first_device: int
    """Index in the whole run of this worker's first device (worker i has devices i, i+P, ...)."""
    stride: int
    schedule: Schedule
    duration_s: float
    window: int


@dataclass(frozen=True, slots=True)
class WorkerResult:
    index: int
    published: tuple[int, ...]
    """Per device of the plan: messages written, so seq 0 .. published-1."""
    acked: tuple[int, ...]
    """Per device of the plan: messages the broker acknowledged (PUBACK)."""
    started: float
    finished: float
    """time.monotonic of the first send and of the last PUBACK (or of the end when nothing came)."""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Ready:
    index: int
    error: str | None = None


def _connect(plan: WorkerPlan) -> socket.socket:
    sock = socket.create_connection((plan.host, plan.port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    sock.sendall(
        wire.connect_packet(
            plan.client_id,
            0,
            mqtt5=False,
            clean=True,
            username=plan.username,
            password=plan.password,
        )
    )
    reply = b""
    while len(reply) < 4:
        chunk = sock.recv(4 - len(reply))
        if not chunk:
            raise ConnectionError("the broker closed the connection before CONNACK")
        reply += chunk
    problem = wire.connack_problem(reply, mqtt5=False)
    if problem is not None:
        sock.close()
        raise ConnectionError(f"the broker refused the connection: {problem}")
    sock.settimeout(None)
    return sock


class _Publisher:
    """The send/acknowledge loop of one connection; state in flat lists for speed."""

    def __init__(self, plan: WorkerPlan, sock: socket.socket) -> None:
        self.plan = plan
        self.sock = sock
        n = len(plan.devices)
        self.seqs = [0] * n
        self.acked = [0] * n
        self.slot_device = [0] * (wire.MAX_PACKET_ID + 1)
        self.packet_id = 0
        self.inflight = 0
        self.sent = 0
        self.acked_total = 0
        self.pending = b""
        self.last_ack = 0.0
        self.cycles = [CYCLES[d.kind] for d in plan.devices]
        self.bodies = [BODIES[d.kind] for d in plan.devices]
        self.prefixes = [
            tuple(wire.publish_prefix(topics.device(d.kind, d.device_id, t)) for t in TYPES)
            for d in plan.devices
        ]
        global_index = [plan.first_device + i * plan.stride for i in range(n)]
        self.variant = global_index
        self.style = [1 if g % RFC3339_EVERY == RFC3339_EVERY - 1 else 0 for g in global_index]
        self.next_device = 0

    def send(self, count: int) -> None:
        """Write `count` messages, round robin over the devices, at the current time."""
        epoch_ms = int(time.time() * 1000)
        stamps = (b"%d" % epoch_ms, rfc3339_bytes(epoch_ms))
        seqs, cycles, bodies, prefixes = self.seqs, self.cycles, self.bodies, self.prefixes
        variant, style, slot_device = self.variant, self.style, self.slot_device
        lengths, ids, template = wire.REMAINING_LENGTH, _PACKET_IDS, TEMPLATE
        n = len(seqs)
        d, pid = self.next_device, self.packet_id
        out = []
        for _ in range(count):
            seq = seqs[d]
            seqs[d] = seq + 1
            kind_type = cycles[d][seq % CYCLE_LENGTH]
            options = bodies[d][kind_type]
            body = template % (stamps[style[d]], seq, options[(seq + variant[d]) % len(options)])
            prefix = prefixes[d][kind_type]
            pid = pid + 1 if pid < 65535 else 1
            slot_device[pid] = d
            out.append(
                b"2%b%b%b%b" % (lengths[len(prefix) + 2 + len(body)], prefix, ids[pid], body)
            )
            d = d + 1 if d + 1 < n else 0
        self.next_device, self.packet_id = d, pid
        self.sock.sendall(b"".join(out))
        self.sent += count
        self.inflight += count

    def receive(self, timeout: float) -> None:
        """Read whatever PUBACKs arrive within `timeout` seconds and account for them."""
        readable, _, _ = select.select([self.sock], [], [], timeout)
        if not readable:
            return
        data = self.sock.recv(READ_SIZE)
        if not data:
            raise ConnectionError(
                f"MQTT broker {self.plan.host}:{self.plan.port} closed the connection of "
                f"{self.plan.client_id} with {self.inflight} messages unacknowledged"
            )
        ids, self.pending = wire.split_pubacks(self.pending + data)
        if ids:
            acked, slot_device = self.acked, self.slot_device
            for pid in ids:
                acked[slot_device[pid]] += 1
            self.inflight -= len(ids)
            self.acked_total += len(ids)
            self.last_ack = time.monotonic()

    def run(self, start: float, stop: Flag, counters: Counters) -> WorkerResult:
        """Send what the schedule asks for every TICK_S (at once when behind), read PUBACKs
        in between, then wait for the messages still in flight."""
        plan = self.plan
        end = start + plan.duration_s
        base = plan.index * 2
        next_send = start
        waiting_since = start
        while (now := time.monotonic()) < end and not stop.is_set():
            if now >= next_send:
                behind = plan.schedule.due(now - start) - self.sent
                room = plan.window - self.inflight
                if behind > 0 and room > 0:
                    self.send(min(behind, room, MAX_BATCH))
                    counters[base] = self.sent
                caught_up = behind <= min(room, MAX_BATCH)
                next_send = now + TICK_S if caught_up else now
            before = self.acked_total
            self.receive(min(next_send, end) - now if self.inflight < plan.window else 0.5)
            if self.acked_total != before or self.inflight == 0:
                waiting_since = now
                counters[base + 1] = self.acked_total
            elif now - waiting_since > ACK_TIMEOUT_S:
                raise TimeoutError(self._silence())
        self._top_up(stop)
        finish_by = time.monotonic() + ACK_TIMEOUT_S
        while self.inflight > 0:
            if time.monotonic() > finish_by:
                raise TimeoutError(self._silence())
            self.receive(0.5)
            counters[base + 1] = self.acked_total
        return self.result(start)

    def _top_up(self, stop: Flag) -> None:
        """Send the last tick's share, so that a paced run sends exactly what was scheduled;
        a run that could not keep up does not send its backlog after the end."""
        schedule = self.plan.schedule
        remaining = schedule.due(self.plan.duration_s) - self.sent
        if stop.is_set() or remaining > 2 * TICK_S * schedule.rate_at(self.plan.duration_s) + 1:
            return
        while remaining > 0:
            room = self.plan.window - self.inflight
            if room > 0:
                batch = min(remaining, room)
                self.send(batch)
                remaining -= batch
            self.receive(0.0 if room > 0 else 0.5)

    def _silence(self) -> str:
        return (
            f"MQTT broker {self.plan.host}:{self.plan.port} acknowledged nothing for "
            f"{ACK_TIMEOUT_S:.0f} s with {self.inflight} messages of {self.plan.client_id} "
            "in flight"
        )

    def result(self, start: float, error: str | None = None) -> WorkerResult:
        finished = self.last_ack if self.last_ack else time.monotonic()
        return WorkerResult(
            index=self.plan.index,
            published=tuple(self.seqs),
            acked=tuple(self.acked),
            started=start,
            finished=finished,
            error=error,
        )


def work(
    *,
    plan: WorkerPlan,
    conn: Connection,
    go: Flag,
    stop: Flag,
    start_time: StartTime,
    counters: Counters,
) -> None:
    """Child-process entry: connect, report ready, wait for the common start, publish, report."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent turns Ctrl-C into `stop`
    try:
        sock = _connect(plan)
    except OSError as exc:
        where = f"MQTT broker {plan.host}:{plan.port}"
        conn.send(Ready(plan.index, f"client {plan.client_id} to {where}: {exc}"))
        return
    conn.send(Ready(plan.index))
    with sock:
        go.wait()
        start = start_time.value
        delay = start - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        publisher = _Publisher(plan, sock)
        try:
            result = publisher.run(start, stop, counters)
        except (OSError, ValueError) as exc:
            result = publisher.result(start, error=f"{plan.client_id}: {exc}")
        else:
            with contextlib.suppress(OSError):
                sock.sendall(wire.DISCONNECT_PACKET)
    conn.send(result)


def split(devices: Sequence[LoadDevice], workers: int) -> list[tuple[LoadDevice, ...]]:
    """Device shares, dealt like cards so that every worker gets the kind mix."""
    return [tuple(devices[i::workers]) for i in range(workers)]
