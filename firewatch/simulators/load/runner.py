"""`run_load`: N devices at R messages/s through several publisher processes, and its report.

Published means written to the broker; acknowledged means the broker answered with a PUBACK,
i.e. it took responsibility for the message. A benchmark checks zero loss against `acked`.
"""

from __future__ import annotations

import ipaddress
import multiprocessing
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Final, cast

from firewatch.simulators.errors import LoadError
from firewatch.simulators.load.devices import LoadDevice, check_devices, generate_devices
from firewatch.simulators.load.publisher import Ready, WorkerPlan, WorkerResult, split, work
from firewatch.simulators.load.report import LoadReport, build_report
from firewatch.simulators.load.schedule import Burst, Schedule

DEFAULT_WINDOW: Final = 2000
"""Messages in flight per connection: enough to hide the round trip, small for the broker."""
CONNECT_TIMEOUT_S: Final = 30.0


@dataclass(frozen=True, slots=True)
class LoadProgress:
    elapsed_s: float
    duration_s: float
    published: int
    acked: int
    target: int
    """Messages the schedule asked for by now."""


def ensure_loopback(host: str, port: int) -> None:
    """Load is only ever aimed at this machine: every address of `host` must be loopback."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise LoadError(f"MQTT broker host {host!r} cannot be resolved: {exc}") from None
    addresses = {str(info[4][0]) for info in infos}
    foreign = sorted(a for a in addresses if not ipaddress.ip_address(str(a)).is_loopback)
    if foreign:
        raise LoadError(
            f"load generation targets only loopback brokers; "
            f"{host} resolves to {', '.join(foreign)}"
        )


def default_processes() -> int:
    """Publisher processes: one per four cores. One process writes 90,000+ messages/s here,
    more than a single Mosquitto thread takes; on a small machine a second one only takes CPU
    from the broker (measured on 2 cores: 93,000/s with one, 86,000/s with two)."""
    return max(1, min(8, (os.cpu_count() or 1) // 4))


def run_load(
    host: str,
    port: int,
    devices: Sequence[LoadDevice] | int,
    rate: float,
    duration_s: float,
    *,
    processes: int | None = None,
    bursty: bool = False,
    burst: Burst | None = None,
    username: str | None = None,
    password: str | None = None,
    window: int = DEFAULT_WINDOW,
    client_id: str = "fw-load",
    progress: Callable[[LoadProgress], None] | None = None,
    progress_interval_s: float = 0.5,
) -> LoadReport:
    """Publish contract messages from `devices` (or that many generated ones) at `rate`
    messages/s in total for `duration_s` seconds, at QoS 1, and count every PUBACK.

    `bursty` uses `burst` (default: 5 s at 3x the mean every 20 s). Ctrl-C stops the
    publishers, waits for the messages in flight and returns a report with `stopped_early`.
    """
    ensure_loopback(host, port)
    chosen = generate_devices(devices) if isinstance(devices, int) else check_devices(devices)
    if not 0 < window < 65535:
        raise LoadError(f"window must be between 1 and 65534 messages, got {window}")
    if duration_s <= 0:
        raise LoadError(f"duration must be above 0 s, got {duration_s}")
    workers = max(1, min(processes or default_processes(), len(chosen)))
    shape = (burst or Burst()) if bursty else None
    schedule = Schedule(rate / workers, shape)
    plans = [
        WorkerPlan(
            index=i,
            host=host,
            port=port,
            client_id=f"{client_id}-{os.getpid()}-{i}",
            username=username,
            password=password,
            devices=share,
            first_device=i,
            stride=workers,
            schedule=schedule,
            duration_s=duration_s,
            window=window,
        )
        for i, share in enumerate(split(chosen, workers))
    ]
    results, stopped = _run_workers(plans, progress, progress_interval_s)
    report = build_report(
        chosen,
        results,
        target_per_s=rate,
        scheduled=schedule.due(duration_s) * workers,
        bursty=bursty,
        stopped_early=stopped,
    )
    errors = [r.error for r in results if r.error]
    if errors:
        raise LoadError("load run failed: " + "; ".join(errors), report)
    return report


def _run_workers(
    plans: list[WorkerPlan],
    progress: Callable[[LoadProgress], None] | None,
    interval_s: float,
) -> tuple[list[WorkerResult], bool]:
    ctx = multiprocessing.get_context("spawn")
    counters = ctx.RawArray("q", 2 * len(plans))
    start_time = ctx.RawValue("d", 0.0)
    go, stop = ctx.Event(), ctx.Event()
    pipes: list[Connection] = []
    children = []
    try:
        for plan in plans:
            receiver, sender = ctx.Pipe(duplex=False)
            child = ctx.Process(
                target=work,
                kwargs={
                    "plan": plan,
                    "conn": sender,
                    "go": go,
                    "stop": stop,
                    "start_time": start_time,
                    "counters": counters,
                },
                name=f"load-publisher-{plan.index}",
                daemon=True,
            )
            child.start()
            sender.close()
            pipes.append(receiver)
            children.append(child)
        _await_ready(plans, pipes)
        start_time.value = time.monotonic() + 0.05
        go.set()
        return _collect(
            plans,
            pipes,
            stop=stop,
            start=start_time.value,
            counters=counters,
            progress=progress,
            interval_s=interval_s,
        )
    finally:
        stop.set()
        go.set()
        for child in children:
            child.join(timeout=5)
            if child.is_alive():
                child.terminate()
                child.join()


def _await_ready(plans: list[WorkerPlan], pipes: list[Connection]) -> None:
    deadline = time.monotonic() + CONNECT_TIMEOUT_S
    waiting = set(range(len(pipes)))
    while waiting:
        left = deadline - time.monotonic()
        ready = cast(list[Connection], wait([pipes[i] for i in waiting], timeout=max(left, 0)))
        if not ready:
            plan = plans[min(waiting)]
            raise LoadError(
                f"publisher {plan.client_id} did not connect to MQTT broker "
                f"{plan.host}:{plan.port} within {CONNECT_TIMEOUT_S:.0f} s"
            )
        for pipe in ready:
            i = pipes.index(pipe)
            try:
                message = pipe.recv()
            except EOFError:
                raise LoadError(
                    f"publisher {plans[i].client_id} exited before connecting"
                ) from None
            if isinstance(message, Ready) and message.error:
                raise LoadError(f"cannot publish load: {message.error}")
            waiting.discard(i)


def _collect(
    plans: list[WorkerPlan],
    pipes: list[Connection],
    *,
    stop: Any,
    start: float,
    counters: Any,
    progress: Callable[[LoadProgress], None] | None,
    interval_s: float,
) -> tuple[list[WorkerResult], bool]:
    results: dict[int, WorkerResult] = {}
    stopped = False
    duration = plans[0].duration_s
    schedule = plans[0].schedule
    while len(results) < len(plans):
        try:
            open_pipes = [p for i, p in enumerate(pipes) if i not in results]
            for pipe in cast(list[Connection], wait(open_pipes, timeout=interval_s)):
                i = pipes.index(pipe)
                try:
                    results[i] = pipe.recv()
                except EOFError:
                    raise LoadError(
                        f"publisher {plans[i].client_id} died without a report"
                    ) from None
            if progress is not None:
                elapsed = min(time.monotonic() - start, duration)
                progress(
                    LoadProgress(
                        elapsed_s=max(elapsed, 0.0),
                        duration_s=duration,
                        published=sum(counters[2 * i] for i in range(len(plans))),
                        acked=sum(counters[2 * i + 1] for i in range(len(plans))),
                        target=schedule.due(max(elapsed, 0.0)) * len(plans),
                    )
                )
        except KeyboardInterrupt:
            stop.set()
            stopped = True
    return [results[i] for i in range(len(plans))], stopped
