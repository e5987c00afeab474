"""What people do to an alert: acknowledge it (from a link or the API), dismiss a pending one as
false after investigating, confirm one by hand, resolve one. Each is recorded with who and when.

These are the functions the HTTP API (issue 9) calls; `redeem` is what the acknowledgement
link's endpoint calls with the token from the link.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import psycopg

from firewatch.alerting import store
from firewatch.alerting.ack import (
    Answer,
    TokenCheck,
    check_token,
    decide_ack,
    decide_pending,
    decide_resolve,
    token_hash,
)
from firewatch.alerting.process import Env, settle, transition
from firewatch.alerting.records import AlertState, AlertView
from firewatch.alerting.verify import Reason


def _locked(conn: psycopg.Connection, alert_id: str) -> AlertView | None:
    venue_id = store.venue_of(conn, alert_id)
    if venue_id is None:
        return None
    store.lock_venue(conn, venue_id)
    return store.load(conn, alert_id)


def _ack(conn: psycopg.Connection, a: AlertView, who: str, now: datetime, env: Env) -> Answer:
    answer = decide_ack(a.state, a.contact_acked_at is not None)
    if answer == Answer.INVESTIGATING:
        store.add_transition(conn, a.alert_id, now, a.state, a.state, Reason.CONTACT_ACK, who)
        a = replace(a, contact_acked_at=now, contact_acked_by=who)
        settle(conn, a, now, env, actor=who)
    elif answer == Answer.ACKNOWLEDGED:
        a, _ = transition(conn, a, AlertState.ACKNOWLEDGED, Reason.ACKNOWLEDGED, now=now,
                          actor=who, env=env)  # fmt: skip
        settle(conn, a, now, env, actor=who)
    return answer


def acknowledge(conn: psycopg.Connection, alert_id: str, who: str, now: datetime,
                env: Env) -> Answer:  # fmt: skip
    """Acknowledge a confirmed alert (escalation stops), or start the investigation of a
    pending one (a venue contact answering it)."""
    with conn.transaction():
        a = _locked(conn, alert_id)
        return Answer.UNKNOWN_ALERT if a is None else _ack(conn, a, who, now, env)


def redeem(conn: psycopg.Connection, token: str, now: datetime,
           env: Env) -> TokenCheck | Answer:  # fmt: skip
    """Acknowledge through a link's token: valid, unexpired, and used only once."""
    check, claims = check_token(env.settings.ack.secret, token, now)
    if check != TokenCheck.VALID or claims is None:
        return check
    with conn.transaction():
        a = _locked(conn, claims.alert_id)
        if a is None:
            return Answer.UNKNOWN_ALERT
        answer = decide_ack(a.state, a.contact_acked_at is not None)
        used = conn.execute(
            "INSERT INTO ack_token_used (token_hash, alert_id, used_by, used_at, outcome)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (token_hash(token), a.alert_id, claims.recipient, now, answer),
        )
        if used.rowcount == 0:
            return Answer.TOKEN_USED
        return _ack(conn, a, claims.recipient, now, env)


def arrive(conn: psycopg.Connection, alert_id: str, who: str, now: datetime,
           env: Env) -> Answer:  # fmt: skip
    """The station reports arrival on the scene, recorded with who and when; a confirmed alert
    nobody acknowledged yet is acknowledged by it (escalation stops)."""
    with conn.transaction():
        a = _locked(conn, alert_id)
        if a is None:
            return Answer.UNKNOWN_ALERT
        if a.state == AlertState.RESOLVED:
            return Answer.ALERT_RESOLVED
        if a.state == AlertState.CONFIRMED:
            _ack(conn, a, who, now, env)
            a = replace(a, state=AlertState.ACKNOWLEDGED)
        store.add_transition(conn, alert_id, now, a.state, a.state, Reason.STATION_ARRIVED, who)
        return Answer.ARRIVED


def dismiss(conn: psycopg.Connection, alert_id: str, who: str, now: datetime,
            env: Env) -> Answer:  # fmt: skip
    """A pending alert dismissed as false after investigation (counted for the venue)."""
    with conn.transaction():
        a = _locked(conn, alert_id)
        if a is None:
            return Answer.UNKNOWN_ALERT
        answer = decide_pending(a.state, Answer.DISMISSED)
        if answer == Answer.DISMISSED:
            a, flagged = transition(conn, a, AlertState.RESOLVED, Reason.DISMISSED, now=now,
                                    actor=who, env=env)  # fmt: skip
            settle(conn, a, now, env, actor=who, flagged=flagged)
        return answer


def confirm(conn: psycopg.Connection, alert_id: str, who: str, now: datetime,
            env: Env) -> Answer:  # fmt: skip
    """An operator confirms a pending alert (the station is called at once)."""
    with conn.transaction():
        a = _locked(conn, alert_id)
        if a is None:
            return Answer.UNKNOWN_ALERT
        answer = decide_pending(a.state, Answer.CONFIRMED)
        if answer == Answer.CONFIRMED:
            a, _ = transition(conn, a, AlertState.CONFIRMED, Reason.OPERATOR_CONFIRMED, now=now,
                              actor=who, env=env)  # fmt: skip
            settle(conn, a, now, env, actor=who)
        return answer


def resolve(conn: psycopg.Connection, alert_id: str, who: str, now: datetime, env: Env, *,
            false_alarm: bool = False) -> Answer:  # fmt: skip
    """Close an alert; those called about it are told to stand down."""
    with conn.transaction():
        a = _locked(conn, alert_id)
        if a is None:
            return Answer.UNKNOWN_ALERT
        answer = decide_resolve(a.state)
        if answer == Answer.RESOLVED:
            why = Reason.RESOLVED_FALSE if false_alarm else Reason.RESOLVED
            a, flagged = transition(conn, a, AlertState.RESOLVED, why, now=now, actor=who, env=env)
            settle(conn, a, now, env, actor=who, flagged=flagged)
        return answer
