"""What the simulators give: MQTT messages on a timeline, and the ground truth of each scenario.

Both are frozen, slotted records. A `Message` is exactly what a device (or the broker, for a Last
Will) puts on the wire; a `GroundTruth` says what really happened and what the engine is expected
to make of it, so that tests and back-tests can score the engine against it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """What the engine should end up doing about a scenario."""

    ALARM = "alarm"  # a confirmed fire alarm to the responsible micro fire station
    HAZARD_CASE = "hazard_case"  # a hazard case (隐患) opened for the venue
    TROUBLE_ONLY = "trouble_only"  # a device trouble (maintenance), no alarm, no case
    NOTHING = "nothing"  # normal life or a nuisance: no alarm, no case


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT publication. `at` is the (simulated) moment it leaves the device.

    `will` marks the retained `offline` that the broker publishes as the device's Last Will when
    its connection drops; a player makes the broker send it by dropping that device's connection
    rather than by publishing it.
    """

    at: datetime
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False
    will: bool = False

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form; payloads are UTF-8 text in this stage's own traffic."""
        return {
            "at": self.at.isoformat(),
            "topic": self.topic,
            "payload": self.payload.decode("utf-8", errors="backslashreplace"),
            "qos": self.qos,
            "retain": self.retain,
            "will": self.will,
        }


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """What really happened in one scenario, and the engine outcome expected of it.

    `onset` is the moment the bound counts from (ignition, venting, the scan, sleep onset...);
    `bound_s` is how long after it the engine must have reached `expected` (None when nothing
    is expected). `device_alarm_window_s`, for fires, is when the leading detector's own signal
    crosses its alarm level in the published tests the curves follow, in seconds after onset.
    """

    scenario: str
    venue_id: str
    device_ids: tuple[str, ...]
    what: str
    start: datetime
    onset: datetime
    end: datetime
    expected: Outcome
    bound_s: int | None
    bound: str
    source: str
    device_alarm_window_s: tuple[float, float] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "venue_id": self.venue_id,
            "device_ids": list(self.device_ids),
            "what": self.what,
            "start": self.start.isoformat(),
            "onset": self.onset.isoformat(),
            "end": self.end.isoformat(),
            "expected": str(self.expected),
            "bound_s": self.bound_s,
            "bound": self.bound,
            "source": self.source,
            "device_alarm_window_s": (
                list(self.device_alarm_window_s) if self.device_alarm_window_s else None
            ),
        }


@dataclass(frozen=True, slots=True)
class Script:
    """A scenario's traffic, in publication order, and its ground truth."""

    messages: tuple[Message, ...]
    truth: GroundTruth


def truth_lines(truths: tuple[GroundTruth, ...] | list[GroundTruth]) -> str:
    """Ground truth as JSON Lines, one scenario a line, byte-stable for the same input."""
    return "".join(
        json.dumps(t.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n" for t in truths
    )


def traffic_lines(messages: tuple[Message, ...] | list[Message]) -> str:
    """Traffic as JSON Lines, for replays and for comparing two runs byte for byte."""
    return "".join(
        json.dumps(m.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n" for m in messages
    )
