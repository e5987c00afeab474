"""The device time `ts`: RFC 3339 with an offset, or integer Unix epoch milliseconds, to UTC.

>>> parse_ts("2025-05-01T12:00:00.5+08:00")
datetime.datetime(2025, 5, 1, 4, 0, 0, 500000, tzinfo=datetime.timezone.utc)
>>> parse_ts(1746072000000)
datetime.datetime(2025, 5, 1, 4, 0, tzinfo=datetime.timezone.utc)
>>> parse_ts("2025-05-01T12:00:00").detail
'ts: "2025-05-01T12:00:00" is not RFC 3339 with an offset (Z or ±hh:mm)'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

from firewatch.ingest.fields import Problem, show
from firewatch.ingest.reasons import RejectReason

_RFC3339: Final = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)
"""RFC 3339 `date-time` (section 5.6): `T` or `t` (or the space its note allows) between date
and time, any number of fractional digits (kept to the microsecond), `Z`/`z` or `±hh:mm`.
ISO 8601's other forms (no offset, week dates, basic format, `+hhmm`) are not RFC 3339."""

_COMMON: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-5][0-9](?:\.[0-9]+)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
"""The usual shape (upper-case `T` and `Z`, no leap second), which `datetime.fromisoformat`
reads exactly as RFC 3339 means it, in a third of the time of the general path."""


@dataclass(frozen=True, slots=True)
class DecodeLimits:
    """How far a device's `ts` may lie ahead of, or behind, the time the engine received it."""

    max_future_s: int
    max_age_s: int
    max_future: timedelta = field(init=False, repr=False, compare=False)
    max_age: timedelta = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_future_s < 0 or self.max_age_s <= 0:
            raise ValueError(
                f"DecodeLimits: max_future_s must be >= 0 and max_age_s > 0, "
                f"got {self.max_future_s} and {self.max_age_s}"
            )
        object.__setattr__(self, "max_future", timedelta(seconds=self.max_future_s))
        object.__setattr__(self, "max_age", timedelta(seconds=self.max_age_s))


EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MIN_MS: Final = (datetime(1, 1, 2, tzinfo=UTC) - EPOCH) // timedelta(milliseconds=1)
_MAX_MS: Final = (datetime(9999, 12, 30, tzinfo=UTC) - EPOCH) // timedelta(milliseconds=1)
_SECONDS_NOT_MS: Final = 10**11
"""Epoch milliseconds below this are before 1973-03-03; as seconds they would be 1973-5138."""


def parse_ts(raw: object) -> datetime | Problem:
    """The `ts` field as an aware UTC datetime, or why it is not one."""
    if type(raw) is str:
        return _parse_rfc3339(raw)
    if type(raw) is int:
        if _MIN_MS <= raw <= _MAX_MS:
            return EPOCH + timedelta(milliseconds=raw)
        return Problem(
            RejectReason.TS_IN_FUTURE if raw > 0 else RejectReason.TS_TOO_OLD,
            f"ts: {raw} epoch ms is outside the years 1..9999",
        )
    return Problem(
        RejectReason.WRONG_TYPE,
        f"ts: expected an RFC 3339 string or integer epoch milliseconds, got {show(raw)}",
    )


def _parse_rfc3339(text: str) -> datetime | Problem:
    if _COMMON.fullmatch(text) is not None:
        try:
            return datetime.fromisoformat(text).astimezone(UTC)
        except (ValueError, OverflowError) as error:  # 2025-02-30, 25:00, year 1 less an offset
            return Problem(
                RejectReason.BAD_TIMESTAMP, f"ts: {show(text)} is not a real time: {error}"
            )
    match = _RFC3339.fullmatch(text)
    if match is None:
        return Problem(
            RejectReason.BAD_TIMESTAMP,
            f"ts: {show(text)} is not RFC 3339 with an offset (Z or ±hh:mm)",
        )
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0
    whole = int(second)
    if whole == 60:  # a leap second (RFC 3339 allows it; datetime cannot hold it)
        whole, micro = 59, 999_999
    offset = timedelta(0)
    if sign is not None:
        if int(off_h) > 23 or int(off_m) > 59:
            return Problem(RejectReason.BAD_TIMESTAMP, f"ts: {show(text)} has no real offset")
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        if sign == "-":
            offset = -offset
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), whole, micro, tzinfo=UTC
        )
        return moment - offset
    except (ValueError, OverflowError) as error:
        return Problem(RejectReason.BAD_TIMESTAMP, f"ts: {show(text)} is not a real time: {error}")


def check_age(ts: datetime, received_at: datetime, limits: DecodeLimits) -> Problem | None:
    """None when `ts` lies within the limits around the time of receipt."""
    max_future, max_age = limits.max_future, limits.max_age
    lead = ts - received_at
    if lead > max_future:
        return Problem(
            RejectReason.TS_IN_FUTURE,
            f"ts: {ts.isoformat()} is {_span(lead)} ahead of receipt (limit {_span(max_future)})",
        )
    if -lead > max_age:
        hint = ""
        if ts < EPOCH + timedelta(milliseconds=_SECONDS_NOT_MS):
            hint = " (epoch seconds sent instead of milliseconds?)"
        return Problem(
            RejectReason.TS_TOO_OLD,
            f"ts: {ts.isoformat()} is {_span(-lead)} before receipt (limit {_span(max_age)}){hint}",
        )
    return None


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{delta.total_seconds():g} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172_800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86_400} days"
