"""Fictional names, addresses, device locations and phone numbers for the sample subdistrict.

Everything is invented: no real compound, shop or person. Phone numbers use mainland mobile
prefixes and Shanghai landlines in E.164 (`+86...`), drawn from a seeded generator.
"""

from __future__ import annotations

from random import Random
from typing import Final

from firewatch.kernel.contract import DeviceKind, VenueType

SUBDISTRICT: Final = "云栖街道"
CITY: Final = "上海市"
COMMUNITIES: Final = ("梅园", "松林", "桃源", "竹溪", "兰亭", "菊苑", "荷塘", "桂香", "枫林")
ROAD_STEMS: Final = (
    "云栖", "望江", "长乐", "安顺", "福寿", "永兴", "和平", "春晖", "丰收", "光明",
    "新华", "建设", "民主", "团结", "富民", "振兴", "育才", "文昌",
)  # fmt: skip
ROAD_KINDS: Final = ("路", "街", "弄", "路")
SURNAMES: Final = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
SHOP_WORDS: Final = ("记", "氏", "家", "兴", "发", "福", "盛", "隆")

_NAME_TAIL: Final[dict[VenueType, tuple[str, ...]]] = {
    VenueType.RESIDENTIAL_COMPOUND: ("新村", "小区", "公寓", "花园"),
    VenueType.RENTAL_HOUSING: ("出租屋", "合租房", "租赁公寓"),
    VenueType.SELF_BUILT_HOUSE: ("自建房",),
    VenueType.STREET_SHOP: ("五金店", "水果店", "烟杂店", "文具店"),
    VenueType.SMALL_SHOP: ("便利店", "小超市", "日杂店", "电动车行"),
    VenueType.SMALL_RESTAURANT: ("面馆", "小吃店", "饭店", "烧烤店"),
    VenueType.SMALL_HOTEL: ("旅馆", "宾馆", "招待所"),
    VenueType.SMALL_ENTERTAINMENT: ("KTV", "棋牌室", "桌游馆"),
    VenueType.SMALL_INTERNET_CAFE: ("网吧", "网咖"),
    VenueType.SMALL_BEAUTY_BATH: ("浴室", "足浴店", "美容院"),
    VenueType.SMALL_WORKSHOP: ("服装加工坊", "家具作坊", "印刷作坊", "维修铺"),
    VenueType.SMALL_SCHOOL: ("培训学校", "幼儿园", "托育园"),
    VenueType.SMALL_CLINIC: ("诊所", "卫生室"),
    VenueType.FACTORY: ("电子厂", "纺织厂", "包装厂"),
    VenueType.CONSTRUCTION_SITE: ("工地",),
    VenueType.HIGH_RISE: ("大厦", "中心", "国际广场"),
    VenueType.UNDERGROUND_SPACE: ("地下车库", "地下商场", "人防工程"),
    VenueType.INDUSTRIAL_PARK: ("产业园", "科技园"),
    VenueType.EBIKE_SHED: ("非机动车棚", "充电车棚"),
}

_ROOMS: Final[dict[VenueType, tuple[str, ...]]] = {
    VenueType.STREET_SHOP: ("店面", "后间", "阁楼"),
    VenueType.SMALL_SHOP: ("店堂", "仓库", "阁楼"),
    VenueType.SMALL_RESTAURANT: ("后厨", "大堂", "包间"),
    VenueType.SMALL_ENTERTAINMENT: ("包房", "走廊", "前台"),
    VenueType.SMALL_INTERNET_CAFE: ("大厅", "吸烟区", "机房"),
    VenueType.SMALL_BEAUTY_BATH: ("淋浴间", "休息区", "前台"),
    VenueType.SMALL_WORKSHOP: ("车间", "仓库", "阁楼"),
    VenueType.SMALL_SCHOOL: ("教室", "午睡室", "走廊"),
    VenueType.SMALL_CLINIC: ("诊室", "药房", "输液室"),
    VenueType.UNDERGROUND_SPACE: ("A区", "B区", "通道"),
    VenueType.CONSTRUCTION_SITE: ("工人宿舍", "食堂", "材料仓库"),
    VenueType.EBIKE_SHED: ("车棚",),
}


_GAS_PLACES: Final = ("后厨灶台下", "后厨燃气表旁", "后厨液化气瓶间", "后厨炒灶旁")
VALVE: Final = "联动紧急切断阀"
"""In a gas detector's location: it drives the kitchen's emergency shut-off valve."""
VALVE_SHARE: Final = 0.5  # about half the kitchens have their detector wired to a valve


def community_name(index: int) -> str:
    return f"{COMMUNITIES[index % len(COMMUNITIES)]}居委"


def grid_name(community_index: int, grid: int) -> str:
    return f"{COMMUNITIES[community_index % len(COMMUNITIES)]}第{grid}网格"


def roads(rng: Random, count: int) -> list[str]:
    stems = rng.sample(ROAD_STEMS, count)
    return [stem + rng.choice(ROAD_KINDS) for stem in stems]


def venue_name(rng: Random, venue_type: VenueType, community: str) -> str:
    tail = rng.choice(_NAME_TAIL[venue_type])
    if venue_type in (VenueType.RESIDENTIAL_COMPOUND, VenueType.HIGH_RISE,
                      VenueType.INDUSTRIAL_PARK, VenueType.EBIKE_SHED):  # fmt: skip
        return f"{community.removesuffix('居委')}{rng.choice(ROAD_STEMS)}{tail}"
    return f"{rng.choice(SURNAMES)}{rng.choice(SHOP_WORDS)}{tail}"


def address(rng: Random, road: str, venue_type: VenueType) -> str:
    number = rng.randint(1, 999)
    if venue_type in (VenueType.RESIDENTIAL_COMPOUND, VenueType.RENTAL_HOUSING):
        return f"{CITY}{SUBDISTRICT}{road}{number}弄{rng.randint(1, 30)}号"
    return f"{CITY}{SUBDISTRICT}{road}{number}号"


def location(rng: Random, kind: DeviceKind, venue_type: VenueType, n: int) -> str:
    """Where in the venue a device hangs: building, floor, room, shed or lift car."""
    if kind != DeviceKind.SMOKE:
        return _equipment(rng, kind, venue_type, n)
    if venue_type in (VenueType.RESIDENTIAL_COMPOUND, VenueType.HIGH_RISE,
                      VenueType.INDUSTRIAL_PARK, VenueType.FACTORY):  # fmt: skip
        return f"{rng.randint(1, 12)}号楼{rng.randint(1, 30)}层走廊"
    if venue_type in (VenueType.SMALL_HOTEL, VenueType.RENTAL_HOUSING, VenueType.SELF_BUILT_HOUSE):
        return f"{rng.randint(1, 6)}层{rng.randint(1, 20):02d}室"
    return rng.choice(_ROOMS.get(venue_type, ("室内",)))


def _equipment(rng: Random, kind: DeviceKind, venue_type: VenueType, n: int) -> str:
    if kind == DeviceKind.ELEVATOR:
        return f"{n}号梯轿厢"
    if kind == DeviceKind.OCCUPANCY:
        return rng.choice(("店堂", "阁楼", "仓库", "车间", "后间"))
    if kind == DeviceKind.GAS:  # near the appliances; LPG detectors hang low, by the floor
        place = rng.choice(_GAS_PLACES)
        return f"{place} {VALVE}" if rng.random() < VALVE_SHARE else place
    if venue_type in (VenueType.RENTAL_HOUSING, VenueType.SELF_BUILT_HOUSE):
        return f"{rng.randint(1, 6)}层{rng.randint(1, 4):02d}室 入户电表"  # an indoor load meter
    return f"{n}号充电桩 {rng.choice((10, 12, 16, 20))}口"  # a station: how many ports


def has_valve(location: str) -> bool:
    """Whether a gas detector at `location` drives a shut-off valve (see `VALVE`)."""
    return VALVE in location


def mobile(rng: Random) -> str:
    """A mainland mobile number in E.164: +86, then 1[3-9] and nine digits."""
    return f"+861{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def landline(rng: Random) -> str:
    """A Shanghai landline in E.164: +86 21 and eight digits."""
    return f"+8621{rng.randint(5, 6)}{rng.randrange(10**7):07d}"
