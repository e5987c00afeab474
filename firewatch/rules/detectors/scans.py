"""Scan items failed: every checklist line of an enterprise-code (企业码) scan with `ok: false`
is hazard evidence for the venue, named after the item (cases map item names to hazards).

>>> from zoneinfo import ZoneInfo
>>> from firewatch.rules.detectors.base import LocalDay
>>> from firewatch.rules.testing import scan, spec_of
>>> rule = spec_of("scan_failed", source="scan", scope="venue", category="hazard", level="yellow")
>>> det = ScanFailed(rule, rule.params, LocalDay(ZoneInfo("Asia/Shanghai")))
>>> out = []
>>> det.feed(scan("V-7", 0.0, exits_unlocked=False, gas_safe=True), 0.0, out)
>>> [(e.hazard, e.summary, e.readings[0].field) for e in out]
[('exits_unlocked', 'V-7: exits_unlocked failed at inspection by INSP-1', 'items.exits_unlocked')]
"""

from __future__ import annotations

from typing import Any

from firewatch.rules.detectors.base import Detector
from firewatch.rules.evidence import Evidence, ReadingRef


class ScanFailed(Detector):
    __slots__ = ()

    def feed(self, record: Any, t: float, out: list[Evidence]) -> None:
        types = self.spec.match.scan_types
        if (types and record.scan_type not in types) or not self.now_ok(t):
            return
        venue = record.venue_id
        for item in record.items:
            if item.ok:
                continue
            note = f": {item.note}" if item.note else ""
            ref = ReadingRef(venue, record.ts, record.seq, f"items.{item.item}", False, self.table)
            out.append(
                self.evidence(
                    subject=venue,
                    venue_id=venue,
                    device_ids=(),
                    at=record.ts,
                    summary=f"{item.item} failed at {record.scan_type} by {record.inspector}{note}",
                    readings=(ref,),
                    hazard=item.item,
                )
            )
