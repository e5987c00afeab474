"""Small builders for rule tests and doctests: records at epoch seconds, a rule from keywords.

>>> reading("SMK-1", 5.0, temp_c=21.5).temp_c, spec_of("threshold", when="temp_c >= 57").id
(21.5, 't.rule')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from firewatch.ingest.records import DeviceEvent, DeviceStatus, Reading, ScanItem, VenueScan
from firewatch.kernel.contract import DeviceKind
from firewatch.rules.detectors.base import moment
from firewatch.rules.errors import RuleLibraryError
from firewatch.rules.loader import parse_text
from firewatch.rules.spec import RuleSpec

COMMUNITY, GRID, STATION = "Xinhua", "G-01", "MS01"


def reading(device_id: str, t: float, *, kind: str = "smoke", venue: str = "V-1", seq: int = 0,
            **fields: Any) -> Reading:  # fmt: skip
    ts = moment(t)
    return Reading(ts, ts, device_id, DeviceKind(kind), venue, COMMUNITY, GRID, STATION, seq,
                   **fields)  # fmt: skip


def event(device_id: str, t: float, name: str, *, kind: str = "smoke", venue: str = "V-1",
          seq: int = 0, **fields: Any) -> DeviceEvent:  # fmt: skip
    ts = moment(t)
    return DeviceEvent(ts, ts, device_id, DeviceKind(kind), venue, COMMUNITY, GRID, STATION, seq,
                       name, **fields)  # fmt: skip


def status(device_id: str, t: float, *, kind: str = "smoke", venue: str = "V-1", seq: int = 0,
           **fields: Any) -> DeviceStatus:  # fmt: skip
    ts = moment(t)
    return DeviceStatus(ts, ts, device_id, DeviceKind(kind), venue, COMMUNITY, GRID, STATION, seq,
                        **fields)  # fmt: skip


def scan(venue: str, t: float, *, scan_type: str = "inspection", seq: int = 0,
         **items: bool) -> VenueScan:  # fmt: skip
    ts = moment(t)
    checklist = tuple(ScanItem(name, ok) for name, ok in items.items())
    return VenueScan(ts, ts, venue, COMMUNITY, GRID, STATION, seq, scan_type, "INSP-1", checklist)


def spec_of(
    rule_type: str,
    *,
    kind: str | None = "smoke",
    source: str = "reading",
    event: str | None = None,
    scope: str = "device",
    category: str = "fire",
    level: str = "red",
    hazard: str | None = None,
    **params: Any,
) -> RuleSpec:
    """A rule `t.rule` written from keywords, through the real parser."""
    on: dict[str, Any] = {"message": source}
    if kind is not None and source != "scan":
        on["kind"] = kind
    if event is not None:
        on["event"] = event
    rule: dict[str, Any] = {
        "id": "t.rule", "version": 1, "type": rule_type, "scope": scope, "category": category,
        "level": level, "description": "a rule for a test", "match": on, **params,
    }  # fmt: skip
    if hazard is not None or (category == "hazard" and rule_type != "scan_failed"):
        rule["hazard"] = hazard or "t_hazard"
    rules, problems = parse_text(yaml.safe_dump({"rules": [rule]}), Path("<test>"))
    if problems:
        raise RuleLibraryError(problems)
    return rules[0]
