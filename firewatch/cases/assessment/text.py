"""The assessment as a terminal table (CJK-width aware) and as CSV.

>>> display_width("梅园 G1"), pad("梅园", 6) + "|"
(7, '梅园  |')
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from firewatch.cases.assessment.compute import Assessment, CommunityRow, DepartmentRow

Row = TypeVar("Row", CommunityRow, DepartmentRow)
NA = "n/a"  # the data source does not exist (no alert table yet)
NONE = "-"  # no data this month


@dataclass(frozen=True, slots=True)
class Column(Generic[Row]):
    key: str  # the CSV header
    title: str  # the table header
    value: Callable[[Row], object]


def _pct(value: float | None) -> str | None:
    return None if value is None else f"{100 * value:.1f}%"


def _coverage(row: CommunityRow) -> str | None:
    return (
        _pct(row.inspections_done / row.inspections_required) if row.inspections_required else None
    )


COMMUNITY: tuple[Column[CommunityRow], ...] = (
    Column("rank", "排名", lambda r: r.rank),
    Column("community", "居委", lambda r: r.community),
    Column("venues", "场所", lambda r: r.venues),
    Column("inspections_required", "应检", lambda r: r.inspections_required),
    Column("inspections_done", "已检", lambda r: r.inspections_done),
    Column("inspection_coverage", "检查率", _coverage),
    Column("inspection_scans", "检查次数", lambda r: r.inspection_scans),
    Column("hazards_found", "发现隐患", lambda r: r.hazards_found),
    Column("hazards_closed", "结案", lambda r: r.hazards_closed),
    Column("median_hours_to_close", "结案中位(h)", lambda r: r.median_hours_to_close),
    Column("overdue", "超期", lambda r: r.overdue),
    Column("recurrences", "回潮", lambda r: r.recurrences),
    Column("listed", "挂牌", lambda r: r.listed),
    Column("alerts", "警情", lambda r: r.alerts),
    Column("ack_median_s", "响应中位(s)", lambda r: r.ack_median_s),
    Column("device_online_rate", "设备在线率", lambda r: _pct(r.device_online_rate)),
    Column("score", "得分", lambda r: r.score),
)
DEPARTMENT: tuple[Column[DepartmentRow], ...] = (
    Column("rank", "排名", lambda r: r.rank),
    Column("department", "部门", lambda r: r.label),
    Column("parts_assigned", "派遣", lambda r: r.parts_assigned),
    Column("parts_done", "办结", lambda r: r.parts_done),
    Column("declined", "退回", lambda r: r.declined),
    Column("median_hours_to_done", "办结中位(h)", lambda r: r.median_hours_to_done),
    Column("cases_closed", "结案", lambda r: r.cases_closed),
    Column("overdue", "超期", lambda r: r.overdue),
    Column("recurrences", "回潮", lambda r: r.recurrences),
    Column("score", "得分", lambda r: r.score),
)
_ALERT_KEYS = frozenset({"alerts", "ack_median_s"})


def cell(report: Assessment, key: str, value: object) -> str:
    if key == "rank" and value == 0:  # the subdistrict's total is not ranked
        return ""
    if value is None:
        return NA if key in _ALERT_KEYS and not report.alerts_available else NONE
    return str(value)


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def _table(report: Assessment, columns: Sequence[Column[Row]], rows: Sequence[Row]) -> str:
    cells: list[list[str]] = [[cell(report, c.key, c.value(r)) for c in columns] for r in rows]
    heads = [c.title for c in columns]
    widths = [max(display_width(x) for x in column) for column in zip(heads, *cells, strict=True)]
    texty = {"community", "department"}

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            pad(v, w, right=c.key not in texty)
            for v, w, c in zip(values, widths, columns, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(heads), rule, *(line(row) for row in cells)])


def render_table(report: Assessment) -> str:
    parts = [
        f"消防安全考核 fire-safety assessment {report.month} ({report.timezone})",
        "",
        "居委 communities",
        _table(report, COMMUNITY, [*report.communities, report.total]),
        "",
        "部门 departments",
        _table(report, DEPARTMENT, report.departments),
    ]
    if not report.alerts_available:
        parts += ["", "警情/响应: n/a — the alert table does not exist yet"]
    parts.append("设备在线率 device online rate: devices online now (device_liveness)")
    return "\n".join(parts) + "\n"


def render_csv(report: Assessment) -> str:
    """One table: `scope` (community, total, department) and the union of both column sets."""
    keys = list(
        dict.fromkeys(["scope", "name", *(c.key for c in COMMUNITY), *(c.key for c in DEPARTMENT)])
    )
    keys.remove("community")
    keys.remove("department")
    out = io.StringIO()
    writer = csv.DictWriter(out, keys, lineterminator="\n")
    writer.writeheader()
    for scope, row in [*(("community", r) for r in report.communities), ("total", report.total)]:
        values = {c.key: cell(report, c.key, c.value(row)) for c in COMMUNITY}
        values["name"] = values.pop("community")
        writer.writerow({"scope": scope, **values})
    for dep in report.departments:
        values = {c.key: cell(report, c.key, c.value(dep)) for c in DEPARTMENT}
        values.pop("department")
        writer.writerow({"scope": "department", "name": dep.department, **values})
    return out.getvalue()
