"""One transaction per input: a signal, a detector's hush or clear, a tick of one alert.

Each runs the steps in flow order on the venue's alert under the venue's lock: group the
signal in, mute, verify, route and queue what is due (the outbox is written in the same
transaction as the decision), escalate, then store the alert with when to look at it again.
Commands to devices are recorded here and published by the stage after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import psycopg

from firewatch.alerting import actuate, metrics, store
from firewatch.alerting.actuate import Command, CommandReason
from firewatch.alerting.directory import Directory
from firewatch.alerting.escalate import Action, escalation, unanswered
from firewatch.alerting.group import Grouped, group, merged, opened
from firewatch.alerting.mute import Muted, mute_alert, mute_signal, recheck_at, silences_for
from firewatch.alerting.outbox import build, enqueue
from firewatch.alerting.records import (
    LEVEL_RANK,
    AlertKind,
    AlertState,
    AlertView,
    DeviceMark,
    Mark,
    Signal,
    higher,
)
from firewatch.alerting.route import ESCALATION_TARGETS, Purpose, purpose_due, route
from firewatch.alerting.settings import AlertSettings
from firewatch.alerting.texts import Wording
from firewatch.alerting.verify import FALSE_ALARMS, FalseAlarm, Reason, flagged, verify
from firewatch.kernel.contract import Level
from firewatch.kernel.registry import Venue

ENGINE = "engine"
_NOTIFIED = {
    Purpose.PENDING: AlertState.PENDING,
    Purpose.CONFIRMED: AlertState.CONFIRMED,
    Purpose.MAINTENANCE: AlertState.CONFIRMED,
    Purpose.STAND_DOWN: AlertState.RESOLVED,
}
"""What each notice tells, for `purpose_due`; reminders, steps and follow-ups change nothing."""
_TELLS_LEVEL = frozenset({Purpose.CONFIRMED, Purpose.UPGRADED})
"""The notices after which those called know the alert's level (an upgrade is measured from it)."""


@dataclass(frozen=True, slots=True)
class Env:
    """What a transaction needs besides the connection and `now`."""

    settings: AlertSettings
    directory: Directory


@dataclass(frozen=True, slots=True)
class Outcome:
    alert_id: str | None
    grouped: Grouped | None = None
    reason: Reason | None = None  # the state change it caused, if any
    muted: Muted | None = None
    notifications: int = 0
    commands: tuple[Command, ...] = ()
    flagged: bool = False  # the venue passed its false-alarm limit for the day
    ignored: str | None = None


def transition(conn: psycopg.Connection, a: AlertView, to: AlertState, reason: Reason, *,
               now: datetime, actor: str, env: Env) -> tuple[AlertView, bool]:  # fmt: skip
    """Move an alert and record it; True when the venue was flagged for false alarms."""
    store.add_transition(conn, a.alert_id, now, a.state, to, reason, actor)
    metrics.TRANSITIONS.labels(to, reason).inc()
    if to == AlertState.CONFIRMED:
        level = higher(a.level, Level.ORANGE) if a.kind == AlertKind.FIRE else a.level
        return replace(a, state=to, confirmed_at=now, level=level), False
    if to == AlertState.ACKNOWLEDGED:
        return replace(a, state=to, acked_at=now, acked_by=actor), False
    if to != AlertState.RESOLVED:
        return replace(a, state=to), False
    a = replace(a, state=to, resolved_at=now, resolution=reason, next_check_at=None)
    if a.kind == AlertKind.FIRE:
        store.wake_troubles(conn, a.venue_id, now)  # what the fire inhibited may speak now
    kind = FALSE_ALARMS.get(reason)
    if kind is None or a.kind != AlertKind.FIRE:
        return a, False
    day = now.astimezone(env.settings.zone).date()
    false, dismissed, was = store.count_false(conn, a.venue_id, day, kind == FalseAlarm.DISMISSED)
    if was is None and flagged(false, dismissed, env.settings.verify.false_alarm_limit):
        store.flag_venue(conn, a.venue_id, day, now)
        return a, True
    return a, False


def notify(conn: psycopg.Connection, a: AlertView, purpose: Purpose, *, step: int, why: str,
           venue: Venue, now: datetime, env: Env) -> tuple[AlertView, int]:  # fmt: skip
    s = env.settings
    r = route(a.kind, purpose, step, venue=venue, directory=env.directory, contacts=s.contacts,
              channels=s.delivery.channels)  # fmt: skip
    round_no = a.notify_round + 1 if purpose == Purpose.REMINDER else 0
    if purpose == Purpose.UPGRADED:
        round_no = LEVEL_RANK[a.level]  # the key names the level: one notice per level reached
    entries = [env.directory.device(d.device_id) for d in a.devices]
    locations = tuple(e.location for e in entries if e is not None and e.location)
    at = a.confirmed_at if purpose != Purpose.PENDING and a.confirmed_at else a.opened_at
    if purpose == Purpose.UPGRADED:
        at = now  # when it got worse
    was = a.notified_level if purpose == Purpose.UPGRADED else None
    wording = Wording(purpose, step, a.level, why, frozenset(a.criteria), locations, at, was)
    items = build(a, r, wording, venue=venue, ack=s.ack, zone=s.zone, now=now, round_no=round_no)
    enqueue(conn, items, now)
    return replace(
        a, last_notified_at=now,
        notify_round=round_no if purpose == Purpose.REMINDER else a.notify_round,
        notified_state=_NOTIFIED.get(purpose, a.notified_state),
        notified_level=a.level if purpose in _TELLS_LEVEL else a.notified_level,
    ), len(items)  # fmt: skip


def settle(
    conn: psycopg.Connection, a: AlertView, now: datetime, env: Env, *,
    actor: str = ENGINE, forced: Sequence[Action] = (), flagged: bool = False,
) -> tuple[AlertView, Outcome]:  # fmt: skip
    """Verify, mute, notify, escalate and store an alert that something just happened to
    (`flagged`: a transition just before flagged the venue for its false alarms)."""
    s = env.settings
    venue = env.directory.venue(a.venue_id)
    assert venue is not None, f"venue {a.venue_id} of alert {a.alert_id} is not in the registry"
    verdict = verify(a, now, s.verify)
    was_flagged = flagged
    if verdict.reason is not None:
        a, was_flagged = transition(conn, a, verdict.state, verdict.reason, now=now, actor=actor,
                                    env=env)  # fmt: skip
    devices = [d.device_id for d in a.devices]
    silences = silences_for(conn, a.venue_id, venue.community, devices, now)
    fire_on = a.kind == AlertKind.TROUBLE and store.fire_confirmed(conn, a.venue_id)
    muted = mute_alert(a, venue.community, silences, fire_on, now)
    a = replace(a, muted=muted)
    sent = 0
    if muted is None:
        purpose = purpose_due(a)
        if purpose is not None:
            why = verdict.reason or a.resolution or ""
            # An upgrade or a stand-down goes to every step up already called too; the others
            # are not routed by step.
            step = a.escalation_step if purpose in (Purpose.UPGRADED, Purpose.STAND_DOWN) else 0
            a, n = notify(conn, a, purpose, step=step, why=why, venue=venue, now=now, env=env)
            sent += n
        due, _ = escalation(a, now, s.escalation)
        for act in [*due, *forced]:
            if act.purpose == Purpose.ESCALATION:
                if act.step <= a.escalation_step:
                    continue
                store.add_escalation(conn, a.alert_id, act.step, now,
                                     ESCALATION_TARGETS[act.step], act.reason)  # fmt: skip
                metrics.ESCALATIONS.labels(act.reason).inc()
                a = replace(a, escalation_step=act.step)
            a, n = notify(conn, a, act.purpose, step=act.step, why=act.reason, venue=venue,
                          now=now, env=env)  # fmt: skip
            sent += n
    if was_flagged:
        a, n = notify(conn, a, Purpose.FOLLOW_UP, step=0, why="", venue=venue, now=now, env=env)
        sent += n
    checks = [verdict.next_check_at if verdict.reason is None else None,
              recheck_at(silences, muted, now)]  # fmt: skip
    if muted is None:
        checks.append(escalation(a, now, s.escalation)[1])
    upcoming = [c for c in checks if c is not None]
    a = replace(a, next_check_at=min(upcoming) if a.open and upcoming else None)
    store.save(conn, a)
    return a, Outcome(a.alert_id, reason=verdict.reason, muted=muted, notifications=sent,
                      flagged=was_flagged)  # fmt: skip


def take_signal(conn: psycopg.Connection, sig: Signal, now: datetime, env: Env) -> Outcome:
    venue = env.directory.venue(sig.venue_id)
    if venue is None:
        return Outcome(None, ignored="unknown_venue")
    s = env.settings
    with conn.transaction():
        store.lock_venue(conn, sig.venue_id)
        current = store.load_open(conn, sig.venue_id, sig.kind)
        silences = silences_for(conn, sig.venue_id, venue.community, sig.device_ids, now)
        fire_on = sig.kind == AlertKind.TROUBLE and store.fire_confirmed(conn, sig.venue_id)
        muted = mute_signal(sig, venue.community, silences, fire_on, now)
        grouped = group(current, sig, s.verify.open_at)
        metrics.SIGNALS.labels(grouped).inc()
        if muted is not None:
            metrics.MUTED.labels(muted).inc()
        if grouped in (Grouped.TOO_WEAK, Grouped.NO_ALERT):
            return Outcome(None, grouped, muted=muted)
        if grouped == Grouped.ANNOTATION and current is not None:
            store.add_signal(conn, current.alert_id, sig, now=now, grouped=grouped, muted=muted)
            store.count_signal(conn, current.alert_id)
            return Outcome(current.alert_id, grouped, muted=muted)
        if current is None:
            alert_id = store.next_alert_id(conn, now, s.zone)
            a = opened(alert_id, sig, s.policy_for(venue.venue_type), now, muted)
            a = replace(a, signals=1)
            store.insert(conn, a)
            store.add_transition(conn, alert_id, now, None, a.state, Reason.OPENED_PENDING,
                                 ENGINE)  # fmt: skip
        else:
            a = replace(merged(current, sig, now, muted), signals=current.signals + 1)
        store.add_signal(conn, a.alert_id, sig, now=now, grouped=grouped, muted=muted)
        a, outcome = settle(conn, a, now, env)
        commands = _commands(conn, a, sig, now, env)
    return replace(outcome, grouped=grouped, muted=muted or outcome.muted, commands=commands)


def _commands(conn: psycopg.Connection, a: AlertView, sig: Signal, now: datetime,
              env: Env) -> tuple[Command, ...]:  # fmt: skip
    out = []
    for device_id in sig.device_ids:
        entry = env.directory.device(device_id)
        decision = actuate.decide_command(sig, entry.kind if entry else None)
        if decision != CommandReason.SEND or entry is None:
            if decision == CommandReason.NO_PORT:
                metrics.COMMANDS.labels(decision).inc()
            continue
        command = Command.for_device(a.alert_id, device_id, entry.kind, sig.port,
                                     f"{sig.name}: {sig.summary}")  # fmt: skip
        timeout = env.settings.escalation.actuation_timeout_s
        if actuate.request(conn, a.alert_id, command, now, timeout):
            out.append(command)
    return tuple(out)


def take_mark(conn: psycopg.Connection, mark: DeviceMark, now: datetime, env: Env) -> Outcome:
    """A detector hushed or cleared: its alarm no longer holds (a pending alert may resolve)."""
    with conn.transaction():
        store.lock_venue(conn, mark.venue_id)
        a = store.load_open(conn, mark.venue_id, AlertKind.FIRE)
        known = {d.device_id: d for d in a.devices} if a else {}
        if a is None or mark.device_id not in known:
            return Outcome(None, ignored="no_open_alert_for_device")
        d = known[mark.device_id]
        d = (replace(d, alarm_since=None, alarming=False, hushed_at=now)
             if mark.mark == Mark.HUSHED
             else replace(d, alarm_since=None, alarming=False, cleared_at=now))  # fmt: skip
        a = replace(a, devices=tuple(d if x.device_id == d.device_id else x for x in a.devices))
        return settle(conn, a, now, env)[1]


def check(conn: psycopg.Connection, alert_id: str, venue_id: str, *, now: datetime, env: Env,
          unanswered_command: str | None = None) -> Outcome:  # fmt: skip
    """Time passed: verification periods, escalation steps, reminders, silences ending; or a
    port's power-off command went unanswered (one step up at once)."""
    with conn.transaction():
        store.lock_venue(conn, venue_id)
        a = store.load(conn, alert_id)
        forced: list[Action] = []
        if unanswered_command is not None:
            actuate.mark_escalated(conn, unanswered_command, now)
            step = unanswered(a) if a is not None else None
            forced = [step] if step is not None else []
        if a is None or not a.open:
            return Outcome(alert_id, ignored="not_open")
        return settle(conn, a, now, env, forced=forced)[1]


def tick(conn: psycopg.Connection, now: datetime, env: Env, limit: int = 500) -> list[Outcome]:
    """Every alert whose time has come, and every command unanswered past its deadline."""
    out = [check(conn, alert_id, venue_id, now=now, env=env)
           for alert_id, venue_id in store.due(conn, now, limit)]  # fmt: skip
    for command_id, alert_id in actuate.overdue(conn, now):
        venue_id = store.venue_of(conn, alert_id)
        if venue_id is not None:
            out.append(check(conn, alert_id, venue_id, now=now, env=env,
                             unanswered_command=command_id))  # fmt: skip
    return out
