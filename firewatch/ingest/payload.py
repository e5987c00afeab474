"""The payload as bytes: size, UTF-8, JSON object, finite numbers, storable text; availability.

The fast path is one `orjson.loads`; only a payload it refuses is looked at again, to name the
precise reason (stdlib `json` accepts NaN and Infinity, which is how they are told apart).

>>> load_object(b'{"a": NaN}').reason
<RejectReason.NON_FINITE_NUMBER: 'non_finite_number'>
>>> load_object(b'[1, 2]').detail
'payload: expected a JSON object, got an array: [1,2]'
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

import orjson

from firewatch.ingest.fields import Problem, show
from firewatch.ingest.reasons import RejectReason
from firewatch.kernel.contract import MAX_PAYLOAD_BYTES

_JSON_TYPES: Final = {list: "an array", str: "a string", int: "a number", float: "a number"}
MAX_DEPTH: Final = 32
"""Nesting of JSON objects and arrays a payload may have: no device needs more than two or
three, and every later reader of the stored value (Python's `json`, the API's serialiser, the
replay) has a recursion limit far below the ~2,000 levels 4 KiB can hold."""


def too_large(payload: bytes) -> Problem | None:
    if len(payload) <= MAX_PAYLOAD_BYTES:
        return None
    return Problem(
        RejectReason.PAYLOAD_TOO_LARGE,
        f"payload: {len(payload)} bytes, more than {MAX_PAYLOAD_BYTES}",
    )


def load_object(payload: bytes) -> dict[str, Any] | Problem:
    """The payload as a JSON object, or why it is not one the engine can store."""
    problem = too_large(payload)
    if problem is not None:
        return problem
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        return _not_json(payload, str(error))
    if type(obj) is not dict:
        kind = "null" if obj is None else _JSON_TYPES.get(type(obj), "a boolean")
        return Problem(
            RejectReason.NOT_AN_OBJECT, f"payload: expected a JSON object, got {kind}: {show(obj)}"
        )
    if payload.count(b"[") + payload.count(b"{") > MAX_DEPTH and depth(obj) > MAX_DEPTH:
        return Problem(
            RejectReason.TOO_DEEP, f"payload: JSON nested more than {MAX_DEPTH} levels deep"
        )
    if b"\\u0000" in payload and _has_nul(obj):
        return Problem(
            RejectReason.NUL_CHARACTER,
            "payload: a string holds \\u0000, which PostgreSQL text and jsonb cannot store",
        )
    return obj


def depth(value: Any) -> int:
    """How deeply objects and arrays nest in `value`, without recursion.

    >>> depth({"a": [1, {"b": []}]}), depth(1), depth(json.loads("[" * 100 + "]" * 100))
    (4, 0, 100)
    """
    deepest = 0
    todo = [(value, 1)]
    while todo:
        item, level = todo.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        )
        if children is None:
            continue
        deepest = max(deepest, level)
        todo.extend((child, level + 1) for child in children)
    return deepest


def _not_json(payload: bytes, orjson_error: str) -> Problem:
    if not payload.strip():
        return Problem(RejectReason.INVALID_JSON, "payload: empty")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as error:
        return Problem(
            RejectReason.INVALID_UTF8,
            f"payload: byte 0x{payload[error.start]:02x} at offset {error.start} is not UTF-8",
        )
    non_finite: list[str] = []

    def constant(name: str) -> float:
        non_finite.append(name)
        return 0.0

    def real(literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):
            non_finite.append(f"{literal} (beyond a double)")
        return value

    try:
        json.loads(text, parse_constant=constant, parse_float=real)
    except (ValueError, RecursionError) as error:
        return Problem(RejectReason.INVALID_JSON, f"payload: {error}")
    if non_finite:
        return Problem(
            RejectReason.NON_FINITE_NUMBER,
            f"payload: {show(non_finite[0])[1:-1]} is not a finite number",
        )
    return Problem(RejectReason.INVALID_JSON, f"payload: {orjson_error}")


def _has_nul(value: object) -> bool:
    if type(value) is str:
        return "\x00" in value
    if type(value) is dict:
        return any("\x00" in key or _has_nul(item) for key, item in value.items())
    if type(value) is list:
        return any(_has_nul(item) for item in value)
    return False


def availability(payload: bytes) -> bool | Problem:
    """True for `online`, False for `offline` (plain text; surrounding whitespace ignored)."""
    problem = too_large(payload)
    if problem is not None:
        return problem
    word = payload.strip()
    if word == b"online":
        return True
    if word == b"offline":
        return False
    if not word:
        got = "an empty payload (a cleared retained message)"
    else:
        got = show(payload.decode("utf-8", errors="replace"))
    return Problem(RejectReason.BAD_AVAILABILITY, f"payload: expected online or offline, got {got}")
