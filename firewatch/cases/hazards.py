"""The hazard types a case is opened for, and how scans and sensors name them.

A failed checklist item (`no_indoor_ebike_charging: ok=false`) and a sensor finding
(`Evidence.hazard == "indoor_ebike_charging"`) are the same hazard at a venue, so both map to
one hazard name here: "one case per venue and hazard" then holds across sources, and so does
recurrence. Names outside this table (a venue's own checklist line, a new rule's hazard) are
kept as they are, shown as they are, and get the default deadline.

>>> hazard_for_item("no_indoor_ebike_charging"), hazard_for_evidence("sleeping_in_shop")
('indoor_ebike_charging', 'lodging')
>>> hazard_for_evidence("exits_unlocked")
'exit_locked'
>>> hazard_for_item("kitchen_flue_cleaned"), label("kitchen_flue_cleaned")
('kitchen_flue_cleaned', 'kitchen_flue_cleaned')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class HazardType:
    name: str
    label: str  # as the office reads it
    immediate: bool  # due within a day (blocked evacuation, locked exits, people sleeping)
    days: int  # otherwise due within this many days (configurable per hazard)
    items: tuple[str, ...] = ()  # checklist items whose failure is this hazard
    evidence: tuple[str, ...] = ()  # Evidence.hazard names from rules and models


FIRE_INCIDENT: Final = "fire_incident"
GAS_INCIDENT: Final = "gas_leak_incident"

CATALOGUE: Final[tuple[HazardType, ...]] = (
    HazardType("evacuation_blocked", "疏散通道堵塞", True, 1, ("evacuation_clear",)),
    HazardType("exit_locked", "安全出口锁闭", True, 1, ("exits_unlocked",)),
    HazardType("fire_door_open", "防火门未关闭", True, 1, ("fire_doors_closed",)),
    HazardType("gas_unsafe", "燃气使用隐患", True, 1, ("gas_safe",)),
    HazardType(
        "lodging", "违规住人(三合一)", True, 1, ("no_lodging",), ("lodging", "sleeping_in_shop")
    ),
    HazardType("charging_overtemp", "充电过热", True, 1, (), ("charging_overtemp",)),
    HazardType(
        "indoor_ebike_charging",
        "电动自行车入户充电",
        False,
        3,
        ("no_indoor_ebike_charging",),
        ("indoor_ebike_charging",),
    ),
    HazardType("ebike_in_corridor", "楼道停放电动自行车", False, 3, ("no_ebike_in_corridor",)),
    HazardType("ebike_in_lift", "电动自行车进电梯", False, 7, (), ("ebike_in_lift",)),
    HazardType("flammables_stored", "违规存放易燃物", False, 3, ("no_flammables_stored",)),
    HazardType("alarm_faulty", "火灾报警设施故障", False, 3, ("alarm_working",)),
    HazardType("extinguisher_invalid", "灭火器失效", False, 7, ("extinguisher_valid",)),
    HazardType("wiring_unsafe", "电气线路隐患", False, 7, ("wiring_safe",)),
    HazardType("unauthorised_loft", "违规搭建阁楼", False, 30, ("no_unauthorised_loft",)),
    HazardType(FIRE_INCIDENT, "火警事件跟进调查", False, 7),
    HazardType(GAS_INCIDENT, "燃气泄漏事件跟进调查", False, 7),
)

BY_NAME: Final = {h.name: h for h in CATALOGUE}
_BY_ITEM: Final = {item: h.name for h in CATALOGUE for item in h.items}
_BY_EVIDENCE: Final = {name: h.name for h in CATALOGUE for name in h.evidence}


def hazard_for_item(item: str) -> str:
    """The hazard a failed checklist item stands for (the item itself if it is not known)."""
    return _BY_ITEM.get(item, item)


def hazard_for_evidence(name: str) -> str:
    """The hazard a finding names: a sensor's name, or a checklist item (the rules stage's
    scan rule names failed items); the name itself if it is neither."""
    return _BY_EVIDENCE.get(name) or _BY_ITEM.get(name, name)


def items_of(hazard: str) -> frozenset[str]:
    """The checklist items whose `ok=true` in a rectification scan reports this hazard fixed."""
    known = BY_NAME.get(hazard)
    return frozenset(known.items) if known is not None else frozenset({hazard})


def label(hazard: str) -> str:
    known = BY_NAME.get(hazard)
    return known.label if known is not None else hazard
