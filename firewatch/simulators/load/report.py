"""What a load run did: messages published and acknowledged, per device, kind and type.

`build_report` is pure, so the counting is tested without a broker.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from firewatch.kernel.contract import DeviceKind, MessageType
from firewatch.simulators.load.devices import LoadDevice
from firewatch.simulators.load.payloads import CYCLE_LENGTH, CYCLES, KINDS, TYPES, message_type_for
from firewatch.simulators.load.publisher import WorkerResult, split


@dataclass(frozen=True, slots=True)
class DeviceCount:
    device_id: str
    kind: DeviceKind
    published: int
    """Messages written: seq 0 .. published-1."""
    acked: int
    """Messages acknowledged; PUBACKs come in order (MQTT 3.1.1 section 4.6): seq 0 .. acked-1."""


def _type_counts(kind: DeviceKind, messages: int) -> list[int]:
    """How many of a device's first `messages` messages go to each of TYPES."""
    full, rest = divmod(messages, CYCLE_LENGTH)
    counts = [0] * len(TYPES)
    cycle = CYCLES[kind]
    for i, t in enumerate(cycle):
        counts[t] += full + (1 if i < rest else 0)
    return counts


@dataclass(frozen=True, slots=True)
class LoadReport:
    target_per_s: float
    scheduled: int
    """Messages the schedule asked for over the whole run (a bursty run's mean is the target
    only over whole burst periods)."""
    bursty: bool
    processes: int
    duration_s: float
    """From the common start to the last PUBACK."""
    published: int
    acked: int
    achieved_per_s: float
    """Acknowledged messages per second over `duration_s`."""
    devices: tuple[DeviceCount, ...]
    stopped_early: bool = False
    counts: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    """published / acked -> kind -> message type -> messages."""

    @property
    def lost(self) -> int:
        """Written but never acknowledged (0 unless a connection broke)."""
        return self.published - self.acked

    @property
    def per_kind(self) -> dict[str, int]:
        """Acknowledged messages per device kind."""
        return {kind: sum(types.values()) for kind, types in self.counts["acked"].items()}

    @property
    def per_type(self) -> dict[str, int]:
        """Acknowledged messages per topic type (reading, event, status)."""
        return {
            str(t): sum(types[str(t)] for types in self.counts["acked"].values()) for t in TYPES
        }

    def expected(self) -> Iterator[tuple[str, DeviceKind, MessageType, int]]:
        """(device_id, kind, message type, seq) of every acknowledged message."""
        for device in self.devices:
            for seq in range(device.acked):
                yield device.device_id, device.kind, message_type_for(device.kind, seq), seq

    def summary(self) -> dict[str, Any]:
        """Plain data for a JSON line or a log."""
        return {
            "target_per_s": self.target_per_s,
            "scheduled": self.scheduled,
            "achieved_per_s": round(self.achieved_per_s, 1),
            "duration_s": round(self.duration_s, 3),
            "published": self.published,
            "acked": self.acked,
            "lost": self.lost,
            "devices": len(self.devices),
            "processes": self.processes,
            "bursty": self.bursty,
            "stopped_early": self.stopped_early,
            "per_kind": self.per_kind,
            "per_type": self.per_type,
        }


def build_report(
    devices: Sequence[LoadDevice],
    results: Sequence[WorkerResult],
    *,
    target_per_s: float,
    scheduled: int,
    bursty: bool,
    stopped_early: bool,
) -> LoadReport:
    """Combine the workers' results; pure, so it is tested without a broker."""
    workers = len(results)
    shares = split(devices, workers)
    rows: list[DeviceCount] = []
    counts: dict[str, dict[str, dict[str, int]]] = {
        which: {str(k): {str(t): 0 for t in TYPES} for k in KINDS}
        for which in ("published", "acked")
    }
    for result in sorted(results, key=lambda r: r.index):
        for device, published, acked in zip(
            shares[result.index], result.published, result.acked, strict=True
        ):
            rows.append(DeviceCount(device.device_id, device.kind, published, acked))
            for which, n in (("published", published), ("acked", acked)):
                for t, c in zip(TYPES, _type_counts(device.kind, n), strict=True):
                    counts[which][str(device.kind)][str(t)] += c
    order = {d.device_id: i for i, d in enumerate(devices)}
    rows.sort(key=lambda r: order[r.device_id])
    acked = sum(r.acked for r in rows)
    start = min((r.started for r in results), default=0.0)
    finish = max((r.finished for r in results), default=0.0)
    duration = max(finish - start, 1e-9)
    return LoadReport(
        target_per_s=target_per_s,
        scheduled=scheduled,
        bursty=bursty,
        processes=workers,
        duration_s=duration,
        published=sum(r.published for r in rows),
        acked=acked,
        achieved_per_s=acked / duration,
        devices=tuple(rows),
        stopped_early=stopped_early,
        counts=counts,
    )
