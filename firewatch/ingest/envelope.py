"""What every reading, event, status and scan carries: a JSON object, its id, `ts` and `seq`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from firewatch.ingest.fields import Problem, integer, missing, show, wrong_type
from firewatch.ingest.payload import load_object
from firewatch.ingest.reasons import RejectReason
from firewatch.ingest.timestamps import DecodeLimits, check_age, parse_ts

_SEQ: Final = integer("seq")


def envelope(
    payload: bytes, id_key: str, topic_id: str, received_at: datetime, limits: DecodeLimits
) -> tuple[dict[str, Any], datetime, int] | Problem:
    """The JSON object with the fields every reading, event, status and scan carries."""
    obj = load_object(payload)
    if isinstance(obj, Problem):
        return obj
    named = obj.get(id_key)  # a payload may repeat its topic's id; it must not name another
    if named is not None and named != topic_id:
        if type(named) is not str:
            return wrong_type(id_key, "a string", named)
        reason = (
            RejectReason.DEVICE_ID_MISMATCH
            if id_key == "device_id"
            else RejectReason.VENUE_ID_MISMATCH
        )
        return Problem(reason, f"{id_key}: payload names {show(named)}, the topic {topic_id}")
    common = _ts_seq(obj, received_at, limits)
    if isinstance(common, Problem):
        return common
    return obj, *common


def _ts_seq(
    obj: dict[str, Any], received_at: datetime, limits: DecodeLimits
) -> tuple[datetime, int] | Problem:
    raw = obj.get("ts")
    if raw is None:
        return missing(obj, "ts")
    ts = parse_ts(raw)
    if isinstance(ts, Problem):
        return ts
    problem = check_age(ts, received_at, limits)
    if problem is not None:
        return problem
    raw = obj.get("seq")
    seq = missing(obj, "seq") if raw is None else _SEQ("seq", raw)
    if isinstance(seq, Problem):
        return seq
    return ts, seq
