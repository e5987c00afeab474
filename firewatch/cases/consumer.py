"""The cases stage as the engine runs it: an ingest `Consumer` for venue scans, and the
entry points the rules stage (hazard evidence) and the alerting stage (confirmed fire alerts)
call.

Scans are stored by ingest before they reach us, and each one we apply is recorded, so what a
failure here misses is caught up from `venue_scan` by `catch_up` (run at start).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from firewatch.cases.intake import (
    ConfirmedAlert,
    ScanApplied,
    apply_evidence,
    apply_scan,
    open_incident,
)
from firewatch.cases.opening import Opened
from firewatch.cases.settings import CasesSettings
from firewatch.ingest import positions
from firewatch.ingest.records import ScanItem, VenueScan
from firewatch.ingest.stream import Batch
from firewatch.kernel.clock import Clock
from firewatch.rules.evidence import Evidence

log = logging.getLogger("firewatch.cases")

Connect = Callable[[], psycopg.Connection]
STAGE = "cases"


class CaseIntake:
    """Opens and moves cases from scans, evidence and alerts; one connection, reopened on loss.

    It is an `ingest.stream.Consumer` (`consume`); `take_evidence` is what the rules stage
    hands hazard evidence to; `open_incident` what the alerting stage calls on confirmation.
    """

    def __init__(self, connect: Connect, clock: Clock, settings: CasesSettings) -> None:
        self._connect = connect
        self._clock = clock
        self._settings = settings
        self._conn: psycopg.Connection | None = None
        self.applied: list[ScanApplied] = []  # the last batch's outcomes, for the demo and tests

    def __enter__(self) -> CaseIntake:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _with_conn(self, work: Callable[[psycopg.Connection], Any]) -> Any:
        """Run `work` on the connection; once more on a fresh one if the server went away."""
        for attempt in (1, 2):
            if self._conn is None or self._conn.closed:
                self._conn = self._connect()
                self._conn.autocommit = True  # each apply_* runs its own transaction
            try:
                return work(self._conn)
            except psycopg.OperationalError:
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def consume(self, batch: Batch) -> None:
        scans = [r for r in batch.records if isinstance(r, VenueScan)]
        if scans:
            self.applied = self.take_scans(scans)

    def take_scans(self, scans: Sequence[VenueScan]) -> list[ScanApplied]:
        now = self._clock.now()
        return list(
            self._with_conn(lambda c: [apply_scan(c, s, now, self._settings) for s in scans])
        )

    def take_evidence(self, evidence: Iterable[Evidence]) -> list[Opened]:
        """Hazard evidence opens or updates cases; fire and trouble evidence is not ours."""
        now = self._clock.now()
        items = list(evidence)

        def work(conn: psycopg.Connection) -> list[Opened]:
            out = [apply_evidence(conn, e, now, self._settings) for e in items]
            return [o for o in out if o is not None]

        opened: list[Opened] = self._with_conn(work)
        return opened

    def take_batch(
        self, batch: Batch, evidence: Sequence[Evidence], position: int, partition: str
    ) -> list[ScanApplied]:
        """A stored batch's scans and the evidence it gave, with the stage's watermark, in one
        transaction: after a crash it is redone whole or not at all."""
        scans = [r for r in batch.records if isinstance(r, VenueScan)]
        now = self._clock.now()

        def work(conn: psycopg.Connection) -> list[ScanApplied]:
            with conn.transaction():
                applied = [apply_scan(conn, s, now, self._settings) for s in scans]
                for e in evidence:
                    apply_evidence(conn, e, now, self._settings)
                positions.advance(conn, STAGE, partition, position, now)
            return applied

        applied: list[ScanApplied] = self._with_conn(work)
        if scans:
            self.applied = applied
        return applied

    def open_incident(self, alert_id: str, venue_id: str, at: datetime, summary: str,
                      sensed: frozenset[str] = frozenset()) -> Opened:  # fmt: skip
        """An incident case for a confirmed alert (follow-up and investigation): a fire's, or a
        gas leak's when it sensed combustible gas."""
        alert = ConfirmedAlert(alert_id, venue_id, at, summary, sensed)
        opened: Opened = self._with_conn(
            lambda c: open_incident(c, alert, self._clock.now(), self._settings)
        )
        return opened

    def catch_up(self, since: datetime) -> list[ScanApplied]:
        """Apply the stored scans since `since` that were never applied (a crash, an outage)."""
        rows = self._with_conn(lambda c: missed_scans(c, since))
        return self.take_scans(rows) if rows else []


def missed_scans(conn: psycopg.Connection, since: datetime) -> list[VenueScan]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT s.*, v.community, v.grid, v.station_id FROM venue_scan s"
            " JOIN venue v USING (venue_id)"
            " WHERE s.ts >= %s AND NOT EXISTS (SELECT 1 FROM case_scan_applied a"
            "   WHERE a.venue_id = s.venue_id AND a.ts = s.ts AND a.seq = s.seq)"
            " ORDER BY s.received_at, s.scan_id",
            (since,),
        ).fetchall()
    return [
        VenueScan(
            ts=r["ts"],
            received_at=r["received_at"],
            venue_id=r["venue_id"],
            community=r["community"],
            grid=r["grid"],
            station_id=r["station_id"],
            seq=r["seq"],
            scan_type=r["scan_type"],
            inspector=r["inspector"],
            items=tuple(ScanItem(i["item"], i["ok"], i.get("note")) for i in r["items"]),
            case_id=r["case_id"],
            extra=r["extra"] or {},
        )
        for r in rows
    ]
