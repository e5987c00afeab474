"""The models stage on the live stream: committed batches in, fire-risk scores out.

`RiskStage` is an `ingest.stream.Consumer`. For each batch it turns every smoke and charging
reading into features (`models.features`), scores them all at once with the loaded models
(the fire classifier and the anomaly model of the reading's kind), adds the per-device baseline
deviation, the detector's own alarm and the rule evidence it has been handed
(`take_evidence`), and fuses them (`models.fusion`) into a score per device, per venue and per
community. A score is handed to the sink only when it matters (`should_emit`): its level
changed, it moved by 5 points, or 15 minutes passed. Without any model loaded, the same runs on
baselines, alarms and rules alone.

The classifier, and likewise the baseline and anomaly deviation, must speak on two readings in
a row before its points count (the smaller of the last two), the same verification a detector
applies to its own alarm: one noisy sample never raises a device.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final, Protocol

import numpy as np

from firewatch.ingest.records import DeviceEvent, Reading, VenueScan
from firewatch.ingest.stream import Batch
from firewatch.kernel.contract import DeviceKind, Level
from firewatch.kernel.kinds import KINDS
from firewatch.models.artifact import ArtifactInfo
from firewatch.models.classifier import FireClassifier
from firewatch.models.elliptic import EllipticModel
from firewatch.models.features import FEATURES, FeatureTracker
from firewatch.models.forest import ForestModel
from firewatch.models.fusion import (
    DEVICE_ALARM_POINTS,
    Basis,
    Reason,
    RiskScore,
    Source,
    VenueHazards,
    device_points,
    rule_reason,
    standing_reasons,
    venue_risk,
)
from firewatch.models.levels import YELLOW_AT, Calibration, level_of
from firewatch.rules.evidence import Evidence, ReadingRef, Scope

log = logging.getLogger("firewatch.models")

BASELINE: Final = Calibration(((4.0, 0.0), (8.0, 35.0), (20.0, 45.0)))
"""Robust deviations from the device's own baseline to points: yellow at most."""
EVIDENCE_HOLD_S: Final = 300.0
REFRESH_S: Final = 900.0
MOVE_POINTS: Final = 5
EXPLAIN_TOP: Final = 3


class Emit(StrEnum):
    """Why a score is written."""

    FIRST = "first"
    LEVEL = "level_changed"
    MOVED = "score_moved"
    REFRESH = "refresh"


def should_emit(
    last: tuple[int, Level, datetime] | None, score: int, level: Level, at: datetime
) -> Emit | None:
    """Whether (and why) a subject's new score is written, given the last one written.

    >>> from datetime import UTC, datetime, timedelta
    >>> t = datetime(2026, 5, 1, tzinfo=UTC)
    >>> should_emit(None, 3, Level.BLUE, t)
    <Emit.FIRST: 'first'>
    >>> should_emit((3, Level.BLUE, t), 5, Level.BLUE, t + timedelta(seconds=60)) is None
    True
    >>> should_emit((30, Level.BLUE, t), 36, Level.YELLOW, t)
    <Emit.LEVEL: 'level_changed'>
    """
    if last is None:
        return Emit.FIRST
    points, was, when = last
    if level != was:
        return Emit.LEVEL
    if abs(score - points) >= MOVE_POINTS:
        return Emit.MOVED
    if (at - when).total_seconds() >= REFRESH_S:
        return Emit.REFRESH
    return None


@dataclass(frozen=True, slots=True)
class Loaded:
    """A model ready to score, with its calibration to points and what it is."""

    model: FireClassifier | ForestModel | EllipticModel
    calibration: Calibration
    info: ArtifactInfo


@dataclass(frozen=True, slots=True)
class ModelSet:
    """What was loaded at start-up; `refused` says which artifacts were not, and why."""

    classifiers: Mapping[DeviceKind, Loaded] = field(default_factory=dict)
    anomaly: Mapping[DeviceKind, Loaded] = field(default_factory=dict)
    refused: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        return [m.info.label for m in [*self.classifiers.values(), *self.anomaly.values()]]


class RiskSink(Protocol):
    def write(self, scores: Sequence[RiskScore]) -> None: ...


@dataclass(slots=True)
class _Device:
    venue_id: str
    community: str
    kind: DeviceKind = DeviceKind.SMOKE
    model_points: int = 0  # classifier, after the two-in-a-row check
    last_model: int = 0  # the latest reading's classifier points
    deviation: int = 0  # baseline or anomaly, after the two-in-a-row check
    last_deviation: int = 0
    anomalous: bool = False  # the deviation is the anomaly model's, not the baseline's
    metric: str = ""
    z: float = 0.0
    reading: Reading | None = None
    row: list[float] = field(default_factory=list)
    alarm: bool = False
    alarm_ref: ReadingRef | None = None
    evidence: dict[str, tuple[Evidence, datetime]] = field(default_factory=dict)
    points: int = 0
    emitted: tuple[int, Level, datetime] | None = None


@dataclass(slots=True)
class _Venue:
    community: str
    devices: dict[str, Reason] = field(default_factory=dict)
    hazards: VenueHazards = field(default_factory=VenueHazards)
    emitted: tuple[int, Level, datetime] | None = None
    points: int = 0


class RiskStage:
    def __init__(
        self,
        models: ModelSet | None = None,
        sink: RiskSink | None = None,
        *,
        venues: Mapping[str, VenueHazards] | None = None,
    ) -> None:
        self.models = models or ModelSet()
        self.sink = sink
        self._tracker = FeatureTracker()
        self._devices: dict[str, _Device] = {}
        self._venues: dict[str, _Venue] = {}
        self._communities: dict[str, tuple[int, Level, datetime] | None] = {}
        self._members: dict[str, dict[str, int]] = {}  # community -> venue -> points
        self._static = dict(venues or {})
        self._out: list[RiskScore] = []

    # -- inputs besides the stream ---------------------------------------------------------

    def take_evidence(self, evidence: Iterable[Evidence]) -> list[RiskScore]:
        """Rule evidence (from the rules stage, before its batch reaches `consume`)."""
        for e in evidence:
            for device_id in e.device_ids or ((e.subject_id,) if e.scope == Scope.DEVICE else ()):
                d = self._device(device_id, e.venue_id, "")
                d.evidence[e.rule_id] = (e, e.at + timedelta(seconds=EVIDENCE_HOLD_S))
                self._rescore(device_id, d, e.at)
        return self._flush()

    def set_open_cases(self, counts: Mapping[str, int]) -> None:
        """Open hazard cases per venue (from the cases stage), for the venues' standing risk."""
        for venue_id, n in counts.items():
            v = self._venue(venue_id, "")
            v.hazards = VenueHazards(v.hazards.failed_items, n, v.hazards.category,
                                     v.hazards.last_inspection)  # fmt: skip

    # -- the stream ------------------------------------------------------------------------

    def consume(self, batch: Batch) -> None:
        self.score(batch.records)

    def score(self, records: Sequence[object]) -> list[RiskScore]:
        """Score a batch's records; the scores written (also handed to the sink)."""
        rows: dict[DeviceKind, list[list[float]]] = {k: [] for k in FEATURES}
        readings: dict[DeviceKind, list[Reading]] = {k: [] for k in FEATURES}
        zs: dict[DeviceKind, list[tuple[str, float]]] = {k: [] for k in FEATURES}
        tracker = self._tracker
        for r in records:
            if isinstance(r, Reading):
                row = tracker.update(r)
                if row is not None:
                    rows[r.kind].append(row)
                    readings[r.kind].append(r)
                    zs[r.kind].append(tracker.baseline_z(r))
            elif isinstance(r, DeviceEvent):
                self._event(r)
            elif isinstance(r, VenueScan):
                self._scan(r)
        for kind, kind_rows in rows.items():
            if kind_rows:
                self._score_kind(kind, kind_rows, readings[kind], zs[kind])
        return self._flush()

    def _score_kind(
        self, kind: DeviceKind, rows: list[list[float]], readings: list[Reading],
        zs: list[tuple[str, float]],
    ) -> None:  # fmt: skip
        x = np.array(rows, dtype=np.float64)
        classifier = self.models.classifiers.get(kind)
        anomaly = self.models.anomaly.get(kind)
        model_pts: list[float] = (
            classifier.calibration.points_many(classifier.model.score_many(x)).tolist()
            if classifier else []
        )  # fmt: skip
        odd_pts: list[float] = (
            anomaly.calibration.points_many(anomaly.model.score_many(x)).tolist()
            if anomaly else []
        )  # fmt: skip
        base_pts = BASELINE.points_many(np.array([z for _, z in zs])).tolist()
        for i, r in enumerate(readings):
            d = self._devices.get(r.device_id) or self._device(
                r.device_id, r.venue_id, r.community, r.kind
            )
            d.reading, d.row = r, rows[i]
            if r.alarm is not None and r.kind is DeviceKind.SMOKE:
                d.alarm = r.alarm
                d.alarm_ref = (ReadingRef(r.device_id, r.ts, r.seq, "alarm", True)
                               if r.alarm else None)  # fmt: skip
            if model_pts:
                now = int(model_pts[i])
                d.model_points = now if now < d.last_model else d.last_model
                d.last_model = now
            dev = int(base_pts[i])
            odd = int(odd_pts[i]) if odd_pts else 0
            now = dev if dev > odd else odd
            d.deviation = now if now < d.last_deviation else d.last_deviation
            d.last_deviation = now
            d.anomalous = odd >= dev and anomaly is not None
            d.metric, d.z = zs[i]
            self._rescore(r.device_id, d, r.ts)

    # -- fusion ----------------------------------------------------------------------------

    def _parts(self, d: _Device, at: datetime) -> tuple[list[tuple[Source, int]], bool]:
        parts: list[tuple[Source, int]] = []
        if d.model_points > 0:
            parts.append((Source.CLASSIFIER, d.model_points))
        if d.deviation > 0:
            parts.append((Source.ANOMALY if d.anomalous else Source.BASELINE, d.deviation))
        if d.alarm:
            parts.append((Source.DEVICE, DEVICE_ALARM_POINTS))
        held_any = False
        if d.evidence:
            model = d.model_points if self.models.classifiers.get(d.kind) else None
            for rule_id, (e, until) in list(d.evidence.items()):
                if at > until:
                    del d.evidence[rule_id]
                    continue
                reason, held = rule_reason(e, model)
                held_any |= held
                parts.append((Source.RULE, reason.points))
        return parts, held_any

    def _reasons(self, device_id: str, d: _Device, at: datetime) -> list[Reason]:
        """The reasons behind a device's score: built only when the score is written."""
        out: list[Reason] = []
        r = d.reading
        classifier = self.models.classifiers.get(d.kind)
        if d.model_points > 0 and classifier is not None and r is not None:
            out.append(self._model_reason(classifier, d.model_points, d.row, r))
        if d.deviation > 0 and r is not None:
            anomaly = self.models.anomaly.get(d.kind)
            if d.anomalous and anomaly is not None:
                out.append(Reason(Source.ANOMALY, anomaly.info.name, anomaly.info.version,
                                  d.deviation, f"an unusual combination of readings for a "
                                  f"{d.kind} device", _refs(r)))  # fmt: skip
            else:
                out.append(Reason(Source.BASELINE, d.metric, None, d.deviation,
                                  f"{d.metric} {d.z:.0f} deviations from this device's "
                                  "baseline", (_ref(r, d.metric),)))  # fmt: skip
        if d.alarm:
            refs = (d.alarm_ref,) if d.alarm_ref is not None else ()
            out.append(Reason(Source.DEVICE, device_id, None, DEVICE_ALARM_POINTS,
                              "the detector reports its own alarm", refs))  # fmt: skip
        model = d.model_points if classifier is not None else None
        for e, _ in d.evidence.values():
            out.append(rule_reason(e, model)[0])
        return sorted(out, key=lambda x: -x.points)

    def _model_reason(self, loaded: Loaded, points: int, row: list[float], r: Reading) -> Reason:
        assert isinstance(loaded.model, FireClassifier)
        top = loaded.model.contributions(row)[:EXPLAIN_TOP] if points >= 20 else []
        why = ", ".join(f"{n} {v:+.1f}" for n, v in top if v > 0)
        detail = f"fire pattern, {points} points" + (f" ({why})" if why else "")
        return Reason(Source.CLASSIFIER, loaded.info.name, loaded.info.version, points, detail,
                      _refs(r))  # fmt: skip

    def _rescore(self, device_id: str, d: _Device, at: datetime) -> None:
        parts, held = self._parts(d, at)
        score, basis, level = device_points(parts, held)
        d.points = score
        if should_emit(d.emitted, score, level, at) is not None:
            d.emitted = (score, level, at)
            self._out.append(RiskScore(Scope.DEVICE, device_id, d.venue_id, d.community, at,
                                       score, level, basis,
                                       tuple(self._reasons(device_id, d, at))))  # fmt: skip
        v = self._venues.get(d.venue_id)
        old = v.devices.get(device_id) if v is not None else None
        if (old is not None and v is not None and old.points == score and v.emitted is not None
                and (at - v.emitted[2]).total_seconds() < REFRESH_S):  # fmt: skip
            return
        self._venue_update(d.venue_id, d.community, at, (device_id, score, level))

    def _venue_update(
        self, venue_id: str, community: str, at: datetime,
        device: tuple[str, int, Level] | None = None,
    ) -> None:  # fmt: skip
        v = self._venue(venue_id, community)
        if device is not None:
            device_id, score, level = device
            old = v.devices.get(device_id)
            if old is not None and old.points == score and v.emitted is not None and (
                at - v.emitted[2]).total_seconds() < REFRESH_S:  # fmt: skip
                return
            v.devices[device_id] = Reason(Source.VENUE, device_id, None, score,
                                          f"device {device_id}: {score} ({level})")  # fmt: skip
        standing = standing_reasons(v.hazards, at)
        points, basis, vlevel = venue_risk(list(v.devices.values()), standing)
        v.points = points
        self._members.setdefault(v.community, {})[venue_id] = points
        why = should_emit(v.emitted, points, vlevel, at)
        if why is None:
            return
        v.emitted = (points, vlevel, at)
        ranked = sorted([*v.devices.values(), *standing], key=lambda r: -r.points)[:5]
        self._out.append(RiskScore(Scope.VENUE, venue_id, venue_id, v.community, at, points,
                                   vlevel, basis, tuple(ranked)))  # fmt: skip
        self._community_update(v.community, at)

    def _community_update(self, community: str, at: datetime) -> None:
        members = self._members.get(community, {})
        vid, top = max(members.items(), key=lambda m: m[1])
        level = level_of(top)
        if should_emit(self._communities.get(community), top, level, at) is None:
            return
        self._communities[community] = (top, level, at)
        raised = sum(1 for p in members.values() if p >= YELLOW_AT)
        reason = Reason(
            Source.VENUE,
            vid,
            None,
            top,
            f"highest venue {vid}; {raised} of {len(members)} venues raised",
        )
        self._out.append(RiskScore(Scope.COMMUNITY, community, None, community, at, top, level,
                                   Basis.SINGLE if top else Basis.NONE, (reason,)))  # fmt: skip

    # -- bookkeeping -----------------------------------------------------------------------

    def _device(self, device_id: str, venue_id: str, community: str,
                kind: DeviceKind | None = None) -> _Device:  # fmt: skip
        d = self._devices.get(device_id)
        if d is None:
            d = self._devices[device_id] = _Device(venue_id, community)
            if kind is not None:
                d.kind = kind
        elif community and not d.community:
            d.community = community
        return d

    def _venue(self, venue_id: str, community: str) -> _Venue:
        v = self._venues.get(venue_id)
        if v is None:
            v = self._venues[venue_id] = _Venue(community, hazards=self._static.get(
                venue_id, VenueHazards()))  # fmt: skip
        elif community and not v.community:
            v.community = community
        return v

    def _event(self, e: DeviceEvent) -> None:
        if e.event not in ("alarm", "alarm_cleared", "silenced"):
            return
        d = self._device(e.device_id, e.venue_id, e.community, e.kind)
        d.alarm = e.event == "alarm"
        d.alarm_ref = (
            ReadingRef(e.device_id, e.ts, e.seq, "event", e.event, table="device_event")
            if d.alarm
            else None
        )
        self._rescore(e.device_id, d, e.ts)

    def _scan(self, s: VenueScan) -> None:
        v = self._venue(s.venue_id, s.community)
        h = v.hazards
        failed = tuple(i.item for i in s.items if not i.ok)
        if s.scan_type == "rectification":
            fixed = {i.item for i in s.items if i.ok}
            failed = tuple(i for i in h.failed_items if i not in fixed)
        inspected = s.ts if s.scan_type == "inspection" else h.last_inspection
        v.hazards = VenueHazards(failed, h.open_cases, h.category, inspected)
        self._venue_update(s.venue_id, s.community, s.ts)

    def _flush(self) -> list[RiskScore]:
        out, self._out = self._out, []
        if out and self.sink is not None:
            self.sink.write(out)
        return out


def _ref(r: Reading, metric: str) -> ReadingRef:
    value = getattr(r, metric, None) if metric else None
    return ReadingRef(r.device_id, r.ts, r.seq, metric or "reading",
                      value if isinstance(value, float | int | bool | str) else None)  # fmt: skip


_REF_FIELDS: Final = {kind: k.evidence for kind, k in KINDS.items()}


def _refs(r: Reading) -> tuple[ReadingRef, ...]:
    return tuple(
        ReadingRef(r.device_id, r.ts, r.seq, name, getattr(r, name))
        for name in _REF_FIELDS.get(r.kind, ())
        if getattr(r, name) is not None
    )
