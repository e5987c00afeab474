"""What the engine did about each scenario of the day, from the store, against its ground truth.

Expected, per `GroundTruth.expected`:
- alarm: a fire alert confirmed and a station called within the scenario's bound after onset;
  where a device that takes a command is involved (a charging port, a gas valve), a command
  that the device answered;
- hazard_case: a hazard case opened within the bound, and no station called;
- trouble_only: a maintenance notice within the bound, no fire confirmed, no station, no case;
- nothing: no fire confirmed, no station called, no case and no maintenance notice.
Pre-alarms to a venue's own contacts (pending alerts) are allowed everywhere: that is what they
are for. A bound that ends after the part of the day that was played is not judged.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import psycopg
from psycopg.rows import dict_row

from firewatch.simulators.records import GroundTruth, Outcome

_FACTS: Final = """
WITH a AS (SELECT * FROM alert WHERE venue_id = %(venue)s AND opened_at >= %(since)s),
     n AS (SELECT n.*, a.kind FROM notification n JOIN a USING (alert_id))
SELECT
  (SELECT min(confirmed_at) FROM a WHERE kind = 'fire') AS confirmed,
  (SELECT min(created_at) FROM n WHERE purpose = 'confirmed'
     AND recipient = ANY(%(stations)s)) AS called,
  (SELECT min(acked_at - confirmed_at) FROM a WHERE kind = 'fire') AS answered_in,
  (SELECT count(*) FROM a WHERE kind = 'fire' AND confirmed_at IS NULL) AS pre_alarms,
  (SELECT string_agg(DISTINCT coalesce(resolution, state), ', ') FROM a
     WHERE kind = 'fire' AND confirmed_at IS NULL) AS pre_alarm_ends,
  (SELECT count(*) FROM n WHERE purpose = 'reminder') AS reminders,
  (SELECT count(*) FROM alert_escalation e JOIN a USING (alert_id)) AS escalations,
  (SELECT min(created_at) FROM n WHERE kind = 'trouble' AND purpose = 'maintenance')
     AS maintenance,
  (SELECT min(opened_at) FROM hazard_case WHERE venue_id = %(venue)s AND kind = 'hazard'
     AND opened_at >= %(since)s) AS case_opened,
  (SELECT string_agg(DISTINCT hazard, ', ') FROM hazard_case WHERE venue_id = %(venue)s
     AND kind = 'hazard' AND opened_at >= %(since)s) AS hazards,
  (SELECT count(*) FROM actuation c JOIN a USING (alert_id)) AS commands,
  (SELECT count(answered_at) FROM actuation c JOIN a USING (alert_id)) AS answered
"""


@dataclass(frozen=True, slots=True)
class Verdict:
    truth: GroundTruth
    ok: bool | None  # None: its bound reaches past the part of the day that was played
    did: str  # what the engine did, in words

    def line(self) -> str:
        mark = {True: "ok   ", False: "WRONG", None: "--   "}[self.ok]
        return f"  {mark} {self.truth.scenario:<25} expected {self.truth.expected!s:<13} {self.did}"


def judge(conn: psycopg.Connection, truths: Sequence[GroundTruth], *, stations: Collection[str],
          commanded: Collection[str], played_to: datetime) -> list[Verdict]:  # fmt: skip
    """`stations`: every fire station's phones; `commanded`: the ids of devices that take a
    command (charging ports, gas valves)."""
    out = []
    for t in truths:
        facts = (
            conn.cursor(row_factory=dict_row)
            .execute(_FACTS, {"venue": t.venue_id, "since": t.start, "stations": list(stations)})
            .fetchone()
        )
        assert facts is not None
        out.append(_verdict(t, facts, bool(set(t.device_ids) & set(commanded)), played_to))
    return out


def _after(t: GroundTruth, when: datetime | None) -> float | None:
    return None if when is None else (when - t.onset).total_seconds()


def _in_bound(t: GroundTruth, when: datetime | None) -> bool:
    after = _after(t, when)
    return after is not None and t.bound_s is not None and after <= t.bound_s


def _verdict(t: GroundTruth, f: dict[str, Any], commanded: bool, played_to: datetime) -> Verdict:
    words = _words(t, f)
    fire = f["confirmed"] is not None or f["called"] is not None
    if t.expected == Outcome.ALARM:
        ok = _in_bound(t, f["called"]) and (not commanded or f["answered"] > 0)
    elif t.expected == Outcome.HAZARD_CASE:
        ok = _in_bound(t, f["case_opened"]) and not fire
    elif t.expected == Outcome.TROUBLE_ONLY:
        ok = _in_bound(t, f["maintenance"]) and not fire and f["case_opened"] is None
    else:
        ok = not fire and f["case_opened"] is None and f["maintenance"] is None
    bound_end = (t.onset - played_to).total_seconds() + (t.bound_s or 0)
    if not ok and t.expected != Outcome.NOTHING and bound_end > 0:
        return Verdict(t, None, f"{words} (its bound ends after the part of the day played)")
    return Verdict(t, ok, words)


def _words(t: GroundTruth, f: dict[str, Any]) -> str:
    said = []
    if f["confirmed"] is not None:
        said.append(f"fire confirmed {_after(t, f['confirmed']):.0f} s after onset")
    if f["called"] is not None:
        said.append(f"station called at {_after(t, f['called']):.0f} s (bound {t.bound_s} s)"
                    if t.bound_s else "station called")  # fmt: skip
    if f["answered_in"] is not None:
        said.append(f"answered in {f['answered_in'].total_seconds():.0f} s")
    if f["commands"]:
        said.append(f"device commands answered {f['answered']} of {f['commands']}")
    if f["reminders"] or f["escalations"]:
        said.append(f"{f['reminders']} reminders, {f['escalations']} escalations")
    if f["pre_alarms"]:
        said.append(f"{f['pre_alarms']} pre-alarm(s) to the venue, ended: {f['pre_alarm_ends']}")
    if f["maintenance"] is not None:
        said.append(f"maintenance notice at {_after(t, f['maintenance']):.0f} s")
    if f["case_opened"] is not None:
        said.append(f"case ({f['hazards']}) at {_after(t, f['case_opened']):.0f} s")
    return "; ".join(said) or "nothing"


_TOTALS: Final = """
SELECT purpose, count(*) FROM notification n JOIN alert a USING (alert_id)
WHERE a.opened_at >= %s GROUP BY purpose ORDER BY purpose
"""


def notification_counts(conn: psycopg.Connection, since: datetime) -> dict[str, int]:
    """Notifications (every channel and recipient) of the alerts opened since, by purpose."""
    return {str(p): int(n) for p, n in conn.execute(_TOTALS, (since,)).fetchall()}
