# ruff: noqa: RUF001, RUF002  # full-width punctuation: Chinese typography
"""The words of a notification, in Chinese: what, where (address, floor, room), when, what to do.

>>> from datetime import UTC, datetime
>>> from zoneinfo import ZoneInfo
>>> from firewatch.kernel.contract import VenueType
>>> v = Venue("V-1", "老王小吃", VenueType.SMALL_RESTAURANT, 2, "梅园", "G-1", "长乐路 1 号", 31.2,
...           121.4, "MS-1", ())
>>> zone = ZoneInfo("Asia/Shanghai")
>>> title, text = render(Wording(Purpose.CONFIRMED, 0, Level.RED, "red_evidence",
...     frozenset({"smoke", "heat"}), ("二楼厨房",), datetime(2026, 5, 1, 18, 2, tzinfo=UTC)),
...     v, zone)
>>> title
'【火警·红色】老王小吃'
>>> text.split("。")[0]
'5月2日 02:02，老王小吃（长乐路 1 号，二楼厨房）确认火警：烟雾、温度骤升，烟温复合报警'
>>> title, text = render(Wording(Purpose.UPGRADED, 0, Level.RED, "", frozenset({"gas", "heat"}),
...     (), datetime(2026, 5, 1, 18, 9, tzinfo=UTC), was=Level.ORANGE), v, zone)
>>> title
'【警情升级·红色】老王小吃'
>>> text.split("。")[0]
'5月2日 02:09，老王小吃（长乐路 1 号）火警由橙色升级为红色：温度骤升、电池热失控气体'
>>> title, text = render(Wording(Purpose.CONFIRMED, 0, Level.RED, "red_evidence",
...     frozenset({"lel"}), ("后厨",), datetime(2026, 5, 1, 4, 30, tzinfo=UTC)), v, zone)
>>> title
'【燃气泄漏·红色】老王小吃'
>>> text.split("。")[0].split("确认")[1]
'燃气泄漏：可燃气体浓度超限，浓度持续超过报警值'
>>> "严禁明火" in text
True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from firewatch.alerting.route import Purpose
from firewatch.kernel.contract import Level
from firewatch.kernel.registry import Venue

LEVELS: Final = {Level.RED: "红色", Level.ORANGE: "橙色", Level.YELLOW: "黄色", Level.BLUE: "蓝色"}
SENSED: Final = {
    "smoke": "烟雾", "heat": "温度骤升", "co": "一氧化碳", "gas": "电池热失控气体",
    "current": "电流异常", "offline": "设备离线", "fault": "设备故障", "tamper": "探测器被拆",
    "low_battery": "电池电量低", "overcurrent": "过流跳闸", "overtemp": "过温断电",
    "short_circuit": "短路", "risk": "综合风险高", "lel": "可燃气体浓度超限",
}  # fmt: skip
GAS: Final = "lel"
"""A kitchen gas detector's criterion: the alert is a gas leak (燃气泄漏), not a fire."""
GAS_WHAT_TO_DO: Final = {
    # The safety words first: an SMS is cut to fit its link, and these must survive.
    Purpose.CONFIRMED: "严禁明火、勿开关电器，开窗通风并疏散；已下令关闭燃气阀，"
                       "请立即出动并通过链接确认接警",
    Purpose.PENDING: "严禁明火、勿开关电器，请立即到现场关闭气源、开窗通风",
}  # fmt: skip
WHY: Final = {
    "red_evidence": "烟温复合报警", "second_device": "两只探测器相继报警",
    "second_criterion": "多种参数同时异常", "persisted": "报警持续未消除",
    "long_alarm": "报警长时间未消除", "no_contact_ack": "现场联系人未及时响应",
    "not_dismissed": "现场核查未排除", "operator_confirmed": "值班人员确认",
}  # fmt: skip
STEPS: Final = {1: "站长", 2: "街道消防安全办公室", 3: "专职消防队"}
WHAT_TO_DO: Final = {
    Purpose.PENDING: "请立即到现场查看：如为误报请通过链接确认后说明；"
                     "如有火情请立即拨打119并组织疏散",
    Purpose.CONFIRMED: "请立即出动处置，并通过链接确认接警",
    Purpose.REMINDER: "尚无人确认接警，请立即出动并通过链接确认",
    Purpose.ESCALATION: "微型消防站未确认接警，请立即协调处置并通过链接确认",
    Purpose.UPGRADED: "警情加重，请立即增派力量处置；尚未确认接警的请通过链接确认",
    Purpose.MAINTENANCE: "这不是火警，请安排人员检修设备",
    Purpose.STAND_DOWN: "警情已解除，无需继续出动",
    Purpose.FOLLOW_UP: "该场所今日误报及撤销的报警已超过限值，请安排跟进检查",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Wording:
    purpose: Purpose
    step: int
    level: Level
    why: str  # the transition reason
    sensed: frozenset[str]  # the alert's criteria
    locations: tuple[str, ...]  # of its devices: floor, room, shed
    at: datetime  # when it was opened (or confirmed)
    was: Level | None = None  # for an upgrade: the level told before


def _when(at: datetime, zone: ZoneInfo) -> str:
    local = at.astimezone(zone)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def _what(w: Wording) -> str:
    order = list(SENSED)
    ranked = sorted(w.sensed, key=lambda c: (order.index(c) if c in order else len(order), c))
    sensed = "、".join(SENSED.get(c, c) for c in ranked) or "报警"
    why = WHY.get(w.why)
    if w.purpose == Purpose.MAINTENANCE:
        return f"设备异常：{sensed}"
    if w.purpose == Purpose.PENDING:
        return f"火灾预警（待核实）：{sensed}"
    if w.purpose == Purpose.STAND_DOWN:
        return "警情解除"
    if w.purpose == Purpose.FOLLOW_UP:
        return f"再次误报：{sensed}"
    alarm = "燃气泄漏" if GAS in w.sensed else "火警"
    if w.purpose == Purpose.UPGRADED:
        was = f"由{LEVELS[w.was]}" if w.was is not None else ""
        return f"{alarm}{was}升级为{LEVELS[w.level]}：{sensed}"
    if GAS in w.sensed:  # red evidence of a leak: "烟温复合报警" would say the wrong thing
        why = "浓度持续超过报警值" if w.why == "red_evidence" else why
    return f"确认{alarm}：{sensed}" + (f"，{why}" if why else "")


def render(w: Wording, venue: Venue, zone: ZoneInfo) -> tuple[str, str]:
    """(title, text) of one notice; the acknowledgement link is added by the outbox."""
    kind = {
        Purpose.PENDING: "火灾预警", Purpose.MAINTENANCE: "设备维护",
        Purpose.STAND_DOWN: "警情解除", Purpose.ESCALATION: "火警升级",
        Purpose.REMINDER: "火警提醒", Purpose.FOLLOW_UP: "误报跟进",
        Purpose.UPGRADED: "警情升级",
    }.get(w.purpose, "燃气泄漏" if GAS in w.sensed else "火警")  # fmt: skip
    title = f"【{kind}·{LEVELS[w.level]}】{venue.name}"
    where = venue.address + ("，" + "、".join(dict.fromkeys(w.locations)) if w.locations else "")
    text = f"{_when(w.at, zone)}，{venue.name}（{where}）{_what(w)}。"
    if w.purpose == Purpose.ESCALATION and w.step in STEPS:
        text += f"已升级至{STEPS[w.step]}。"
    todo = GAS_WHAT_TO_DO.get(w.purpose) if GAS in w.sensed else None
    return title, text + (todo or WHAT_TO_DO[w.purpose]) + "。"
