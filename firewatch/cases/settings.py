"""The cases stage's settings: departments, deadlines, listing thresholds, reminders.

The composition root builds them from the configuration's `[cases]` section when it has one
(see cases/README.md for the proposed section); until then the defaults here apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final
from zoneinfo import ZoneInfo

DEPARTMENTS: Final = (
    "police_station",  # 派出所
    "market_supervision",  # 市场监管所
    "law_enforcement",  # 城管执法队
    "construction_centre",  # 建管中心
    "housing_office",  # 房管办
    "fire_rescue",  # 消防救援站
)
"""Departments a case can be dispatched to (configurable: `cases.departments`)."""

DEPARTMENT_LABELS: Final = {
    "police_station": "派出所",
    "market_supervision": "市场监管所",
    "law_enforcement": "城管执法队",
    "construction_centre": "建管中心",
    "housing_office": "房管办",
    "fire_rescue": "消防救援站",
}


@dataclass(frozen=True, slots=True)
class CasesSettings:
    departments: tuple[str, ...] = DEPARTMENTS
    immediate_hours: int = 24
    """Immediate hazards (blocked evacuation, locked exits, lodging...) are due within this."""
    deadline_days: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    """Per-hazard overrides of the catalogue's days (`cases.deadline_days`)."""
    default_days: int = 7
    """Hazards the catalogue does not know (a venue's own checklist line) are due within this."""
    recurrence_days: int = 90
    """A hazard back at a venue within this many days of its case's closure is proposed for
    street-level listing (整治反复回潮)."""
    overdue_listing_days: int = 30
    """A case overdue by more than this many days is proposed for street-level listing."""
    due_soon_hours: int = 24
    """Holders are reminded this long before a case falls due."""
    reminder_every_hours: int = 24
    """Overdue cases are reminded again at this interval."""
    timezone: str = "Asia/Shanghai"
    """Months, inspection cycles and case-number dates are local to this zone."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def settings_from_config(config: Any) -> CasesSettings:
    """Settings from a `firewatch.config.Config`: its `cases` section if it has one."""
    timezone = str(config.general.timezone)
    section = getattr(config, "cases", None)
    if section is None:
        return CasesSettings(timezone=timezone)
    return CasesSettings(
        departments=tuple(section.departments),
        immediate_hours=int(section.immediate_hours),
        deadline_days=MappingProxyType(dict(section.deadline_days)),
        default_days=int(section.default_days),
        recurrence_days=int(section.recurrence_days),
        overdue_listing_days=int(section.overdue_listing_days),
        due_soon_hours=int(section.due_soon_hours),
        reminder_every_hours=int(section.reminder_every_hours),
        timezone=timezone,
    )
