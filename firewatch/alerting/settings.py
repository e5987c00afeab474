"""The alerting stage's settings: one frozen record, built by the composition root from config.

Every period has a default from practice (alarm verification at most 60 s, positive alarm
sequence 15 s / 180 s, the actuation answer within 10 s) and is checked when built.

>>> AlertSettings().policy_for("small_restaurant"), AlertSettings().policy_for("rental_housing")
(<Policy.CORROBORATION: 'corroboration'>, <Policy.PERSISTENCE: 'persistence'>)
>>> AlertSettings(verify=VerifySettings(persist_s=90))
Traceback (most recent call last):
...
ValueError: verify.persist_s: 90 s is not within 1..60 s (alarm verification is at most 60 s)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final
from zoneinfo import ZoneInfo

from firewatch.alerting.records import Policy
from firewatch.kernel.contract import Level, VenueType

KITCHENS: Final = MappingProxyType({VenueType.SMALL_RESTAURANT.value: Policy.CORROBORATION})
"""Cooking trips kitchen detectors for minutes at a time: there only corroboration confirms."""


@dataclass(frozen=True, slots=True)
class VerifySettings:
    persist_s: float = 30.0  # a device's alarm held this long without hush or clear confirms
    corroborate_s: float = 60.0  # a second detector or criterion within this confirms
    pas_ack_s: float = 15.0  # positive alarm sequence: a contact must answer within this
    pas_investigate_s: float = 180.0  # ... and then has this long to dismiss it as false
    pending_expiry_s: float = 1800.0  # a pending alert with no live device resolves after this
    long_alarm_s: float = 600.0  # under corroboration, a lone alarm held this long confirms
    open_at: Level = Level.YELLOW  # fire signals below this level do not open an alert
    false_alarm_limit: int = 5  # more false or dismissed alarms in a local day flag the venue

    def check(self) -> None:
        if not 1 <= self.persist_s <= 60:
            raise ValueError(
                f"verify.persist_s: {self.persist_s:g} s is not within 1..60 s"
                " (alarm verification is at most 60 s)"
            )
        for name in ("corroborate_s", "pas_ack_s", "pas_investigate_s", "pending_expiry_s",
                     "long_alarm_s"):  # fmt: skip
            if getattr(self, name) <= 0:
                raise ValueError(f"verify.{name}: expected a positive number of seconds")


@dataclass(frozen=True, slots=True)
class EscalationSettings:
    chief_after_s: float = 90.0  # unacknowledged this long after confirmation: the station chief
    office_after_s: float = 180.0  # then the subdistrict fire-safety office
    brigade_after_s: float = 300.0  # then, for red, the professional fire brigade
    renotify_s: float = 60.0  # the station is told again at this interval until it answers
    trouble_renotify_s: float = 86400.0  # maintenance reminders
    actuation_timeout_s: float = 10.0  # a command's answer (power_off, valve_closed) within this

    def check(self) -> None:
        steps = (self.chief_after_s, self.office_after_s, self.brigade_after_s)
        if list(steps) != sorted(steps) or steps[0] <= 0:
            raise ValueError("escalation: expected 0 < chief_after_s <= office_after_s <= brigade")
        if self.renotify_s <= 0 or self.actuation_timeout_s <= 0:
            raise ValueError("escalation: renotify_s and actuation_timeout_s must be positive")


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    sms_url: str | None = None
    push_url: str | None = None
    webhook_url: str | None = None
    timeout_s: float = 5.0
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    jitter: float = 0.2  # +- this fraction of each backoff, so retries do not march in step
    parallel: int = 8  # posts in flight at once
    batch: int = 64  # notifications claimed at once
    lease_s: float = 60.0  # a claimed notification is someone else's again after this
    poll_s: float = 0.5  # look for due notifications at least this often
    rate_limit: int = 10  # notifications per recipient and channel per window (red exempt)
    rate_window_s: float = 600.0

    def check(self) -> None:
        if self.timeout_s <= 0 or self.backoff_base_s <= 0 or self.backoff_max_s < 1:
            raise ValueError("delivery: timeout_s and backoff_base_s > 0, backoff_max_s >= 1")
        if not 0 <= self.jitter < 1 or self.parallel < 1 or self.batch < 1:
            raise ValueError("delivery: expected 0 <= jitter < 1, parallel >= 1 and batch >= 1")
        if self.lease_s <= self.timeout_s:
            raise ValueError("delivery: lease_s must be longer than timeout_s")

    def url(self, channel: str) -> str | None:
        return {"sms": self.sms_url, "push": self.push_url, "webhook": self.webhook_url}.get(
            channel
        )

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels with a receiver configured."""
        return tuple(c for c in ("sms", "push", "webhook") if self.url(c) is not None)


@dataclass(frozen=True, slots=True)
class AckSettings:
    base_url: str = "http://127.0.0.1:8080/api/v1/ack"  # the link's base; the API serves it
    secret: bytes = b""  # HMAC key; empty: links are not signed and acknowledgement is refused
    ttl_s: float = 7200.0

    def check(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError("ack.base_url: expected an http(s) URL")
        if self.secret and len(self.secret) < 16:
            raise ValueError("ack.secret: expected at least 16 bytes")


@dataclass(frozen=True, slots=True)
class Contacts:
    """People the registry does not list: chiefs, the office, grid staff (all E.164)."""

    office: tuple[str, ...] = ()  # the subdistrict fire-safety office
    chiefs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # station → chief
    grid_staff: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # grid → staff


@dataclass(frozen=True, slots=True)
class AlertSettings:
    timezone: str = "Asia/Shanghai"
    # venue type → policy; the others get default_policy
    policies: Mapping[str, Policy] = field(default_factory=lambda: KITCHENS)
    default_policy: Policy = Policy.PERSISTENCE
    device_alarms: bool = True  # a detector's own alarm event opens a pending alert
    device_troubles: bool = True  # fault, tamper, low battery, overcurrent... open maintenance
    verify: VerifySettings = VerifySettings()
    escalation: EscalationSettings = EscalationSettings()
    delivery: DeliverySettings = DeliverySettings()
    ack: AckSettings = AckSettings()
    contacts: Contacts = Contacts()

    def __post_init__(self) -> None:
        self.verify.check()
        self.escalation.check()
        self.delivery.check()
        self.ack.check()
        ZoneInfo(self.timezone)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def policy_for(self, venue_type: str) -> Policy:
        return self.policies.get(venue_type, self.default_policy)
