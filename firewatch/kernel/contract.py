"""The vocabulary of the field contract (../shared/CONTRACT.md), in one place.

Every stage that needs to know which kinds, venue types, event names or checklist items exist
imports them from here, so that the contract is written down once.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

ID_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""Device and venue ids (CONTRACT.md section 1)."""

E164_PATTERN: Final = re.compile(r"\+[1-9][0-9]{6,14}")
"""Phone numbers in the registry are E.164: a plus, a country code, at most 15 digits."""

MAX_PAYLOAD_BYTES: Final = 4096


class DeviceKind(StrEnum):
    SMOKE = "smoke"
    CHARGING = "charging"
    ELEVATOR = "elevator"
    OCCUPANCY = "occupancy"
    GAS = "gas"  # v1.1: combustible-gas detectors in kitchens, some with a shut-off valve


class MessageType(StrEnum):
    READING = "reading"
    EVENT = "event"
    STATUS = "status"
    AVAILABILITY = "availability"
    SCAN = "scan"
    SET = "set"


class StationKind(StrEnum):
    MICRO = "micro"  # 微型消防站
    PROFESSIONAL = "professional"  # 专职消防队


class VenueType(StrEnum):
    RESIDENTIAL_COMPOUND = "residential_compound"
    RENTAL_HOUSING = "rental_housing"
    SELF_BUILT_HOUSE = "self_built_house"
    STREET_SHOP = "street_shop"
    SMALL_SHOP = "small_shop"
    SMALL_RESTAURANT = "small_restaurant"
    SMALL_HOTEL = "small_hotel"
    SMALL_ENTERTAINMENT = "small_entertainment"
    SMALL_INTERNET_CAFE = "small_internet_cafe"
    SMALL_BEAUTY_BATH = "small_beauty_bath"
    SMALL_WORKSHOP = "small_workshop"
    SMALL_SCHOOL = "small_school"
    SMALL_CLINIC = "small_clinic"
    FACTORY = "factory"
    CONSTRUCTION_SITE = "construction_site"
    HIGH_RISE = "high_rise"
    UNDERGROUND_SPACE = "underground_space"
    INDUSTRIAL_PARK = "industrial_park"
    EBIKE_SHED = "ebike_shed"


INSPECTION_CATEGORIES: Final = (1, 2, 3)
"""Inspection tiers: 1 monthly (housing), 2 quarterly (street shops), 3 half-yearly
(factories, sites, big buildings)."""

CHARGING_STATES: Final = frozenset({"idle", "charging", "full", "fault"})

SCAN_TYPES: Final = frozenset({"inspection", "self_check", "rectification"})

CHECKLIST_ITEMS: Final = (
    "evacuation_clear",
    "exits_unlocked",
    "extinguisher_valid",
    "alarm_working",
    "no_lodging",
    "no_indoor_ebike_charging",
    "no_ebike_in_corridor",
    "gas_safe",
    "wiring_safe",
    "no_flammables_stored",
    "fire_doors_closed",
    "no_unauthorised_loft",
)
"""The contract's checklist items; venues may send others, which count as hazards when failed."""

AVAILABILITY_VALUES: Final = frozenset({"online", "offline"})

OFFLINE_AFTER_HEARTBEATS: Final = 3
"""A device silent for this many registered heartbeat intervals is offline."""


class Level(StrEnum):
    """Warning levels of notifications and risk (红橙黄蓝), most urgent first."""

    RED = "red"  # 红: a fire, act now
    ORANGE = "orange"  # 橙: a likely fire or an acute hazard
    YELLOW = "yellow"  # 黄: a hazard to fix
    BLUE = "blue"  # 蓝: for information, device trouble
