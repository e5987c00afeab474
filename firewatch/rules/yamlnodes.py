"""YAML read as nodes, so that every problem names its line: PyYAML's marks are kept.

A rule file is composed (not constructed) and read through `Node`, whose accessors check the
type and raise `SpecError(line, reason)`; `Fields` reads a mapping key by key and refuses keys
it was not asked for, so a typo never falls back to a default silently.

>>> doc = compose("rule:\\n  window: 90s\\n  rate: fast\\n")
>>> fields = Fields(doc)
>>> fields.need("rule").mapping()["window"].duration()
90.0
>>> try:
...     doc.mapping()["rule"].mapping()["rate"].number()
... except SpecError as exc:
...     print(exc)
line 3: rule.rate: expected a number, got 'fast'
"""

from __future__ import annotations

import math
import re
from typing import Final, NoReturn

import yaml

from firewatch.rules.errors import SpecError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TRUE: Final = frozenset({"true", "yes", "on", "y"})
_DURATION: Final = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_S: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_INT_TAG: Final = "tag:yaml.org,2002:int"
_FLOAT_TAG: Final = "tag:yaml.org,2002:float"
_BOOL_TAG: Final = "tag:yaml.org,2002:bool"
_NULL_TAG: Final = "tag:yaml.org,2002:null"


def compose(text: str) -> Node:
    """The document's root node; a YAML syntax error becomes a `SpecError` at its line."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise SpecError(line, f"not valid YAML: {exc.problem or exc.context}") from None
    if root is None:
        raise SpecError(1, "the file is empty")
    return Node(root, "")


class Node:
    __slots__ = ("_node", "path")

    def __init__(self, node: yaml.Node, path: str) -> None:
        self._node = node
        self.path = path

    @property
    def line(self) -> int:
        return int(self._node.start_mark.line) + 1

    def fail(self, reason: str) -> NoReturn:
        where = f"{self.path}: " if self.path else ""
        raise SpecError(self.line, where + reason)

    def _child(self, node: yaml.Node, name: str) -> Node:
        joined = f"{self.path}{name}" if name.startswith("[") else f"{self.path}.{name}"
        return Node(node, joined if self.path else name)

    def mapping(self) -> dict[str, Node]:
        if not isinstance(self._node, yaml.MappingNode):
            self.fail(f"expected a mapping (key: value), got {self._shown()}")
        out: dict[str, Node] = {}
        for key, value in self._node.value:
            name = Node(key, self.path)
            if not isinstance(key, yaml.ScalarNode) or key.tag == _NULL_TAG:
                name.fail("keys must be names")
            if key.value in out:
                name.fail(f"{key.value} is given twice")
            out[key.value] = self._child(value, key.value)
        return out

    def sequence(self) -> list[Node]:
        if not isinstance(self._node, yaml.SequenceNode):
            self.fail(f"expected a list, got {self._shown()}")
        return [self._child(item, f"[{n}]") for n, item in enumerate(self._node.value)]

    def is_sequence(self) -> bool:
        return isinstance(self._node, yaml.SequenceNode)

    def is_mapping(self) -> bool:
        return isinstance(self._node, yaml.MappingNode)

    def _scalar(self, what: str) -> yaml.ScalarNode:
        if not isinstance(self._node, yaml.ScalarNode):
            self.fail(f"expected {what}, got {self._shown()}")
        return self._node

    def _shown(self) -> str:
        if isinstance(self._node, yaml.MappingNode):
            return "a mapping"
        if isinstance(self._node, yaml.SequenceNode):
            return "a list"
        return repr(self._node.value)

    def raw(self) -> str:
        """A scalar exactly as written (`22:00` stays `22:00`, not YAML 1.1's sexagesimal)."""
        return str(self._scalar("a value").value)

    def text(self) -> str:
        node = self._scalar("text")
        if node.tag == _NULL_TAG or not str(node.value).strip():
            self.fail("expected text, got nothing")
        return str(node.value)

    def number(self) -> float:
        node = self._scalar("a number")
        if node.tag not in (_INT_TAG, _FLOAT_TAG):
            self.fail(f"expected a number, got {node.value!r}")
        value = float(str(node.value).replace("_", ""))
        if not math.isfinite(value):
            self.fail(f"expected a finite number, got {node.value!r}")
        return value

    def integer(self, minimum: int = 0) -> int:
        node = self._scalar("a whole number")
        if node.tag != _INT_TAG:
            self.fail(f"expected a whole number, got {node.value!r}")
        value = int(str(node.value).replace("_", ""))
        if value < minimum:
            self.fail(f"expected a whole number of at least {minimum}, got {value}")
        return value

    def boolean(self) -> bool:
        node = self._scalar("true or false")
        if node.tag != _BOOL_TAG:
            self.fail(f"expected true or false, got {node.value!r}")
        return str(node.value).lower() in _TRUE

    def duration(self, *, positive: bool = True) -> float:
        """Seconds: a number, or a number with a unit (`500ms`, `90s`, `10m`, `2h`, `7d`)."""
        node = self._scalar("a duration")
        found = _DURATION.match(str(node.value)) if node.tag != _NULL_TAG else None
        if found is None:
            self.fail(f"expected a duration such as 90s, 10m, 2h or 7d, got {node.value!r}")
        seconds = float(found.group(1)) * _UNIT_S[found.group(2) or "s"]
        if positive and seconds <= 0:
            self.fail(f"expected a duration above zero, got {node.value!r}")
        return seconds

    def scalar(self) -> float | bool | str | None:
        """A plain value: a number, true / false, text, or null."""
        node = self._scalar("a value")
        if node.tag == _NULL_TAG:
            return None
        if node.tag == _BOOL_TAG:
            return self.boolean()
        if node.tag in (_INT_TAG, _FLOAT_TAG):
            return self.number()
        return str(node.value)

    def words(self) -> list[str]:
        """One name or a list of names."""
        if self.is_sequence():
            return [item.text() for item in self.sequence()]
        return [self.text()]


class Fields:
    """A mapping read key by key; `done()` refuses the keys nobody asked for."""

    __slots__ = ("_asked", "_items", "node")

    def __init__(self, node: Node) -> None:
        self.node = node
        self._items = node.mapping()
        self._asked: set[str] = set()

    def get(self, key: str) -> Node | None:
        self._asked.add(key)
        return self._items.get(key)

    def need(self, key: str) -> Node:
        found = self.get(key)
        if found is None:
            self.node.fail(f"{key} is missing")
        return found

    def has(self, key: str) -> bool:
        return key in self._items

    def done(self) -> None:
        for key, node in self._items.items():
            if key not in self._asked:
                allowed = ", ".join(sorted(self._asked))
                Node(node._node, self.node.path).fail(
                    f"unknown key {key} (expected one of: {allowed})"
                )
