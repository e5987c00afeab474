"""What opens and moves cases: venue scans, hazard evidence, confirmed fire alerts.

The `finding_*` functions are pure: a record in, the findings it stands for out. The `apply_*`
functions apply them to the store. A failed checklist item opens (or updates) the case for its
hazard at the venue; a rectification scan sends the case it names, and the venue's open cases
whose items it reports fixed, to verification (核查). A scan is applied once: its key
(venue, ts, seq) is recorded with the outcome, so a replay from `venue_scan` changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

import psycopg

from firewatch.cases import hazards
from firewatch.cases.errors import ConflictError
from firewatch.cases.moves import move
from firewatch.cases.opening import Finding, Opened, open_case
from firewatch.cases.records import Actor, Kind, Reason, Role, Source, Stage
from firewatch.cases.settings import CasesSettings
from firewatch.ingest.records import VenueScan
from firewatch.kernel.kinds import FIELDS
from firewatch.rules.evidence import Category, Evidence

RECTIFIABLE = frozenset({Stage.REPORTED, Stage.REGISTERED, Stage.DISPATCHED, Stage.HANDLING})
"""Stages a rectification scan moves to verification from."""


class ScanOutcome(StrEnum):
    NOTHING_FOUND = "nothing_found"  # every item ok, no case named
    CASES_OPENED = "cases_opened"  # failed items opened or updated cases
    RECTIFIED = "rectified"  # cases went to verification (and maybe others were opened)
    RECTIFICATION_UNMATCHED = "rectification_unmatched"  # no open case for what it names
    ALREADY_APPLIED = "already_applied"


@dataclass(frozen=True, slots=True)
class ScanApplied:
    outcome: ScanOutcome
    opened: tuple[Opened, ...] = ()
    rectified: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ConfirmedAlert:
    """What the alerting stage hands over for a confirmed fire alert."""

    alert_id: str
    venue_id: str
    at: datetime
    summary: str
    sensed: frozenset[str] = frozenset()  # the alert's criteria (kernel.kinds: smoke, lel, ...)


def scan_actor(scan: VenueScan) -> Actor:
    return Actor(f"scan:{scan.inspector}", Role.SYSTEM)


def scan_ref(scan: VenueScan) -> str:
    return f"venue_scan:{scan.venue_id}:{scan.ts.isoformat()}:{scan.seq}"


def findings_from_scan(scan: VenueScan) -> tuple[Finding, ...]:
    """One finding per failed checklist item (of any scan type), in checklist order."""
    seen: set[str] = set()
    found = []
    for item in scan.items:
        hazard = hazards.hazard_for_item(item.item)
        if item.ok or hazard in seen:
            continue
        seen.add(hazard)
        summary = f"{scan.scan_type} by {scan.inspector}: {item.item} failed" + (
            f" ({item.note})" if item.note else ""
        )
        found.append(
            Finding(
                venue_id=scan.venue_id,
                hazard=hazard,
                kind=Kind.HAZARD,
                source=Source.SCAN,
                source_ref=f"{scan_ref(scan)}:{item.item}",
                at=scan.ts,
                actor=scan_actor(scan),
                summary=summary,
                note=item.note or "",
                attachments=(scan_ref(scan),),
            )
        )
    return tuple(found)


def _scan_item_ref(evidence: Evidence) -> str | None:
    """For evidence a rule drew from a scan's failed item: the same key the scan itself is
    applied under, so that the scan and the rule's evidence count as one finding."""
    for ref in evidence.readings:
        if getattr(ref, "table", None) == "venue_scan" and ref.field.startswith("items."):
            item = ref.field.removeprefix("items.")
            return f"venue_scan:{ref.device_id}:{ref.ts.isoformat()}:{ref.seq}:{item}"
    return None


def finding_from_evidence(evidence: Evidence) -> Finding | None:
    """A finding for hazard evidence; None for fire and trouble evidence (not for cases)."""
    if evidence.category is not Category.HAZARD:
        return None
    hazard = hazards.hazard_for_evidence(evidence.hazard or evidence.rule_id)
    scan_item = _scan_item_ref(evidence)
    if scan_item is not None:
        return Finding(
            venue_id=evidence.venue_id,
            hazard=hazard,
            kind=Kind.HAZARD,
            source=Source.SCAN,
            source_ref=scan_item,
            at=evidence.at,
            actor=Actor(f"rule:{evidence.rule_id}", Role.SYSTEM),
            summary=evidence.summary,
            attachments=(scan_item.rsplit(":", 1)[0],),
        )
    ref = (
        f"{evidence.rule_id}:{evidence.rule_version}:{evidence.subject_id}:"
        f"{evidence.at.isoformat()}"
    )
    return Finding(
        venue_id=evidence.venue_id,
        hazard=hazard,
        kind=Kind.HAZARD,
        source=Source.EVIDENCE,
        source_ref=ref,
        at=evidence.at,
        actor=Actor(f"rule:{evidence.rule_id}", Role.SYSTEM),
        summary=evidence.summary,
        attachments=tuple(f"device:{d}" for d in evidence.device_ids),
    )


_GAS: Final = FIELDS["lel_pct"].criterion


def finding_from_alert(alert: ConfirmedAlert) -> Finding:
    """A gas leak (a kitchen detector's % LEL) is followed up as one, anything else as a fire."""
    return Finding(
        venue_id=alert.venue_id,
        hazard=hazards.GAS_INCIDENT if _GAS in alert.sensed else hazards.FIRE_INCIDENT,
        kind=Kind.INCIDENT,
        source=Source.ALERT,
        source_ref=alert.alert_id,
        at=alert.at,
        actor=Actor(f"alert:{alert.alert_id}", Role.SYSTEM),
        summary=alert.summary,
        attachments=(f"alert:{alert.alert_id}",),
    )


def apply_evidence(
    conn: psycopg.Connection, evidence: Evidence, now: datetime, settings: CasesSettings
) -> Opened | None:
    finding = finding_from_evidence(evidence)
    return None if finding is None else open_case(conn, finding, now, settings)


def open_incident(
    conn: psycopg.Connection, alert: ConfirmedAlert, now: datetime, settings: CasesSettings
) -> Opened:
    """An incident case (registered at once) for a confirmed fire alert; idempotent per alert."""
    return open_case(conn, finding_from_alert(alert), now, settings)


def apply_scan(
    conn: psycopg.Connection, scan: VenueScan, now: datetime, settings: CasesSettings
) -> ScanApplied:
    with conn.transaction():
        key = (scan.venue_id, scan.ts, scan.seq)
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (scan_ref(scan),))
        done = conn.execute(
            "SELECT 1 FROM case_scan_applied WHERE venue_id = %s AND ts = %s AND seq = %s", key
        ).fetchone()
        if done is not None:
            return ScanApplied(ScanOutcome.ALREADY_APPLIED)
        opened = tuple(open_case(conn, f, now, settings) for f in findings_from_scan(scan))
        rectified: tuple[str, ...] = ()
        if scan.scan_type == "rectification":
            rectified = _rectify(conn, scan, now)
        if rectified:
            outcome = ScanOutcome.RECTIFIED
        elif scan.scan_type == "rectification":
            outcome = ScanOutcome.RECTIFICATION_UNMATCHED
        else:
            outcome = ScanOutcome.CASES_OPENED if opened else ScanOutcome.NOTHING_FOUND
        conn.execute(
            "INSERT INTO case_scan_applied (venue_id, ts, seq, outcome, case_ids, applied_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (*key, str(outcome), [o.case_id for o in opened] + list(rectified), now),
        )
    return ScanApplied(outcome, opened, rectified)


def _rectify(conn: psycopg.Connection, scan: VenueScan, now: datetime) -> tuple[str, ...]:
    """Send the named case, and open cases whose items the scan reports ok, to verification."""
    fixed = {i.item for i in scan.items if i.ok}
    targets: list[tuple[str, Reason]] = []
    rows = conn.execute(
        "SELECT case_id, hazard, stage FROM hazard_case WHERE venue_id = %s"
        " AND stage NOT IN ('closed', 'cancelled') ORDER BY opened_at, case_id",
        (scan.venue_id,),
    ).fetchall()
    for case_id, hazard, stage in rows:
        if Stage(stage) not in RECTIFIABLE:
            continue
        if case_id == scan.case_id:
            targets.append((case_id, Reason.RECTIFICATION_SCAN))
        elif hazards.items_of(hazard) & fixed:
            targets.append((case_id, Reason.RECTIFICATION_ITEM))
    moved = []
    for case_id, reason in targets:
        for attempt in range(3):
            try:
                move(
                    conn,
                    case_id,
                    Stage.VERIFYING,
                    scan_actor(scan),
                    now=now,
                    at=scan.ts,
                    because=reason,
                    attachments=(scan_ref(scan),),
                    note=f"rectification scan by {scan.inspector}",
                )
            except ConflictError:
                if attempt == 2:
                    raise
                continue
            moved.append(case_id)
            break
    return tuple(moved)
