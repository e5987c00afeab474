"""Enterprise-code (企业码) scans: a self-check, an inspection that finds hazards, a fix.

Scans come from the platform bridge, whose clock is good: `ts` is RFC 3339 in local time.
The rectification names the case it answers; the simulator cannot know the engine's case id,
so it sends a stand-in (`CASE-{venue}-{date}`) — a live harness that wants the real one must
look it up (`GET /api/v1/cases?venue_id=`) and substitute it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from firewatch.kernel import topics
from firewatch.kernel.contract import CHECKLIST_ITEMS, VenueType
from firewatch.simulators.devices.base import LOCAL, encode
from firewatch.simulators.records import Message, Outcome, Script
from firewatch.simulators.scenarios.context import Context

NINE_SMALL = (*(t for t in VenueType if t.value.startswith("small_")), VenueType.STREET_SHOP)
LOCAL_ITEM = "kitchen_flue_cleaned"  # a venue's own checklist line, outside the contract's list


def scan(
    venue_id: str,
    now: datetime,
    seq: int,
    *,
    scan_type: str,
    inspector: str,
    items: list[dict[str, Any]],
    case_id: str | None = None,
) -> Message:
    body: dict[str, Any] = {
        "ts": now.astimezone(LOCAL).isoformat(timespec="seconds"),
        "seq": seq,
        "venue_id": venue_id,
        "scan_type": scan_type,
        "inspector": inspector,
        "items": items,
    }
    if case_id is not None:
        body["case_id"] = case_id
    return Message(now, topics.scan(venue_id), encode(body))


def inspection_rectification(ctx: Context) -> Script:
    """A self-check finds nothing; an inspector finds three hazards; six hours later, fixed.

    Source: the inspection workflow (巡查 → 发现 → 上报 → 立案 → 处置 → 核查 → 结案), the
    contract's checklist items plus one of the venue's own.
    """
    venue = ctx.venue(NINE_SMALL, {})
    rng = ctx.rng
    owner = f"OWNER-{venue.venue_id}"
    inspector = f"INSP-{rng.randint(1, 60):04d}"
    failed = [*rng.sample(CHECKLIST_ITEMS, 2), LOCAL_ITEM]
    notes = {item: f"现场发现问题: {item}" for item in failed}
    checklist = [*CHECKLIST_ITEMS, LOCAL_ITEM]
    self_check_at = ctx.at(60.0)
    inspected_at = ctx.at(1800.0)
    fixed_at = inspected_at + timedelta(hours=6)
    case_id = f"CASE-{venue.venue_id}-{inspected_at.astimezone(LOCAL):%Y%m%d}"
    inspection = [
        {"item": i, "ok": i not in failed} | ({"note": notes[i]} if i in failed else {})
        for i in checklist
    ]
    messages = (
        scan(venue.venue_id, self_check_at, 0, scan_type="self_check", inspector=owner,
             items=[{"item": i, "ok": True} for i in CHECKLIST_ITEMS]),
        scan(venue.venue_id, inspected_at, 1, scan_type="inspection", inspector=inspector,
             items=inspection),
        scan(venue.venue_id, fixed_at, 2, scan_type="rectification", inspector=owner,
             items=[{"item": i, "ok": True, "note": "已整改"} for i in failed], case_id=case_id),
    )  # fmt: skip
    return ctx.script(
        messages, venue=venue, device_ids=(),
        what=f"inspection by {inspector} failed {', '.join(failed)}; rectified 6 h later",
        onset=inspected_at, end=fixed_at, expected=Outcome.HAZARD_CASE, bound_s=300,
        bound="hazard case within 300 s of the failed inspection, closed by the rectification",
        source="inspection workflow (巡查 → 发现 → 上报 → 立案 → 处置 → 核查 → 结案)",
    )  # fmt: skip
