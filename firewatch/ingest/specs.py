"""Which fields each kind and message type carries, as check tables derived from `kernel.kinds`.

A field listed here is checked wherever it appears in a message of that kind and type; a field
not listed is kept in `extra`. "Required" follows the declaration (CONTRACT.md: where it has a
`required` column, that; a field it marks optional, optional; one it lists with neither,
required).
"""

from __future__ import annotations

from typing import Final

from firewatch.ingest.fields import Check, Spec, boolean, choice, integer, number, text
from firewatch.ingest.reasons import RejectReason
from firewatch.kernel.kinds import EVENTS, KINDS, FieldType, Use
from firewatch.kernel.kinds import STATUS as STATUS_USES

COMMON_KEYS: Final = frozenset({"ts", "seq", "device_id"})
"""Checked by the decoder itself for every reading, event and status."""


def _check(use: Use) -> Check:
    f = use.field
    if f.type is FieldType.NUMBER:
        return number(f.name)
    if f.type is FieldType.INTEGER:
        return integer(f.name)
    if f.type is FieldType.BOOLEAN:
        return boolean
    if f.type is FieldType.CHOICE:
        return choice(f.values, RejectReason.UNKNOWN_STATE)
    return text


def _spec(use: Use, required: bool | None = None) -> Spec:
    return Spec(use.key, use.attr, _check(use), use.required if required is None else required)


READING: Final = {
    kind: tuple(_spec(u) for u in k.check_order()) for kind, k in KINDS.items() if k.reading
}
"""kind -> its reading's field checks, required ones first (elevator cameras send events only)."""

STATUS: Final = tuple(_spec(u) for u in STATUS_USES)

EVENT: Final = {
    kind: {
        name: tuple(_spec(u, u.key in requires) for u in k.event_fields)
        for name, requires in k.events.items()
    }
    for kind, k in KINDS.items()
}
"""kind -> event name -> its field checks."""

EVENT_NAME: Final = {
    kind: choice(names, RejectReason.UNKNOWN_EVENT) for kind, names in EVENTS.items()
}

READING_KEYS: Final = {
    kind: COMMON_KEYS | {spec.key for spec in specs} for kind, specs in READING.items()
}
EVENT_KEYS: Final = {
    kind: COMMON_KEYS | {"event"} | {u.key for u in k.event_fields} for kind, k in KINDS.items()
}
STATUS_KEYS: Final = COMMON_KEYS | {spec.key for spec in STATUS}
