"""The fields of an enterprise-code (企业码) venue scan: type, inspector, checklist, case."""

from __future__ import annotations

from typing import Any, Final

from firewatch.ingest.fields import (
    Problem,
    Spec,
    any_text,
    boolean,
    choice,
    missing,
    take,
    text,
    unlisted,
    wrong_type,
)
from firewatch.ingest.reasons import RejectReason
from firewatch.ingest.records import ScanItem
from firewatch.kernel.contract import SCAN_TYPES

RECTIFICATION: Final = "rectification"

_SPECS: Final = (
    Spec("scan_type", "scan_type", choice(SCAN_TYPES, RejectReason.UNKNOWN_SCAN_TYPE), True),
    Spec("inspector", "inspector", text, required=True),
    Spec("case_id", "case_id", text, required=False),  # required with rectification, below
)
_ITEM_SPECS: Final = (
    Spec("item", "item", text, required=True),  # the contract's names or the venue's own
    Spec("ok", "ok", boolean, required=True),
    Spec("note", "note", any_text, required=False),
)
KEYS: Final = frozenset({"ts", "seq", "venue_id", "items"} | {spec.key for spec in _SPECS})
_ITEM_KEYS: Final = frozenset(spec.key for spec in _ITEM_SPECS)


def take_scan(obj: dict[str, Any], values: dict[str, Any]) -> Problem | None:
    """Check the scan's own fields into `values`: scan_type, inspector, items, case_id."""
    problem = take(obj, _SPECS, values)
    if problem is not None:
        return problem
    if values["scan_type"] == RECTIFICATION and "case_id" not in values:
        return missing(obj, "case_id", " (a rectification names the case it answers)")
    items = _items(obj)
    if isinstance(items, Problem):
        return items
    values["items"] = items
    return None


def _items(obj: dict[str, Any]) -> tuple[ScanItem, ...] | Problem:
    """The checklist: an array (possibly empty) of {item, ok, note} objects, in order."""
    raw = obj.get("items")
    if raw is None:
        return missing(obj, "items")
    if type(raw) is not list:
        return wrong_type("items", "an array of {item, ok, note} objects", raw)
    items = []
    for index, entry in enumerate(raw):
        if type(entry) is not dict:
            return wrong_type(f"items[{index}]", "an object", entry)
        fields: dict[str, Any] = {}
        problem = take(entry, _ITEM_SPECS, fields, prefix=f"items[{index}].")
        if problem is not None:
            return problem
        items.append(ScanItem(**fields, extra=unlisted(entry, _ITEM_KEYS)))
    return tuple(items)
