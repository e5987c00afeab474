"""How many bytes the evaluation state holds: a deep `sys.getsizeof` of its containers.

Objects are counted once however often they are referenced; a set or dict entry costs its
slot in the table as well as its key and value.

>>> from array import array
>>> deep_size({"SMK-1": array("d", [1.0, 2.0, 3.0])}) > 24
True
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable
from typing import Final

DICT_ENTRY: Final = 24  # hash, key and value pointers, plus the index slot (approximately)
SET_ENTRY: Final = 16  # hash and key pointer


def deep_size(obj: object, seen: set[int] | None = None) -> int:
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, list | tuple | set | frozenset):
        size += sum(deep_size(item, seen) for item in obj)
    elif isinstance(obj, array | str | bytes | int | float | bool) or obj is None:
        pass
    elif hasattr(obj, "__slots__"):
        size += sum(deep_size(getattr(obj, s), seen) for s in obj.__slots__ if hasattr(obj, s))
    return size


def entry_size(containers: Iterable[object], subject: str) -> int:
    """Bytes that one subject's entries take in these containers: its slot, and a dict's
    value; a charging station's ports (`CHG-1#3`) count as the station's."""
    size = 0
    seen: set[int] = set()  # the key strings are the records' ids, shared: not counted
    ports = subject + "#"
    for container in containers:
        if not isinstance(container, dict | set):
            continue
        for key in [k for k in container if k == subject or str(k).startswith(ports)]:
            size += (
                DICT_ENTRY + deep_size(container[key], seen)
                if isinstance(container, dict)
                else SET_ENTRY
            )
    return size
