# ruff: noqa: RUF001, RUF002  # full-width punctuation: Chinese typography
"""`firewatch watchdog`: someone watches the engine. A small process of its own beside the
engine instances: it follows each partition's retained availability (`online`, or `offline`:
its Last Will or a stop) and its heartbeat, and tells the control room, through the configured
channels, when a partition has been gone for `watchdog.gone_after_s`, and again when it is back.

Gone means no sign of life (an `online` announcement, a heartbeat) for `gone_after_s`, for one of
three reasons: it said `offline`; it still says `online` but its heartbeat stopped (hung); or a
partition in `watchdog.partitions` has not been seen since the watchdog started. `step` decides,
purely, with the time passed in; a flap shorter than `gone_after_s` is no news:

>>> t0 = datetime(2026, 5, 1, 6, 0, tzinfo=UTC)
>>> def feed(w: Watch, s: float, signal: Signal | None = None, p: str = "p1of1") -> Watch:
...     w, out = step(w, Seen(p, signal) if signal else None, t0 + timedelta(seconds=s))
...     print([f"{c.partition} {c.reason} since {c.since:%H:%M:%S}" for c in out])
...     return w
>>> w = start(["p1of1"], 30, t0)
>>> w = feed(w, 1, Signal.ONLINE)
[]
>>> w = feed(w, 5, Signal.BEAT)  # its last sign of life: killed right after
[]
>>> w = feed(w, 6, Signal.OFFLINE)  # its Last Will
[]
>>> w = feed(w, 34)  # gone 29 s: nothing yet
[]
>>> w = feed(w, 35)  # gone 30 s: one notice
['p1of1 offline since 06:00:05']
>>> w = feed(w, 90)  # still gone: nothing more
[]
>>> w = feed(w, 95, Signal.ONLINE)  # restarted
['p1of1 back since 06:00:05']
>>> w = feed(w, 100, Signal.OFFLINE)  # a restart: back within 30 s, so no news
[]
>>> w = feed(w, 120, Signal.ONLINE)
[]
>>> w = feed(w, 140, Signal.BEAT)
[]
>>> w = feed(w, 171)  # online, but no heartbeat for 31 s: hung
['p1of1 silent since 06:02:20']
>>> w = start(["p1of2", "p2of2"], 30, t0)  # an expected partition that never shows up
>>> w = feed(w, 3, Signal.ONLINE, "p1of2")
[]
>>> w = feed(w, 30, Signal.BEAT, "p1of2")
['p2of2 never_seen since 06:00:00']
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from random import Random
from types import TracebackType
from zoneinfo import ZoneInfo

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from firewatch.alerting.channels import Channel
from firewatch.alerting.deliver import backoff_s, channels_for
from firewatch.alerting.notices import Notice, control_room_notices
from firewatch.alerting.settings import DeliverySettings
from firewatch.config import Config
from firewatch.errors import ConfigError
from firewatch.kernel import topics
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import Clock
from firewatch.kernel.contract import Level

log = logging.getLogger("firewatch.watchdog")

_KEEPALIVE_S = 30
_TICK_S = 0.5  # decisions are taken at least this often


class Signal(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    BEAT = "beat"


class Reason(StrEnum):
    OFFLINE = "offline"  # it said offline (its Last Will, or a stop) and has not come back
    SILENT = "silent"  # it says online, but its heartbeat stopped: hung
    NEVER_SEEN = "never_seen"  # expected, and not seen since the watchdog started
    BACK = "back"  # a partition reported gone is alive again


@dataclass(frozen=True, slots=True)
class Seen:
    partition: str
    signal: Signal


@dataclass(frozen=True, slots=True)
class Instance:
    online: bool | None  # its availability; None: not seen
    alive_at: datetime  # its last sign of life, or when watching began if none yet
    seen: bool = False
    gone_since: datetime | None = None  # while a gone notice stands: the sign of life it named


@dataclass(frozen=True, slots=True)
class Watch:
    gone_after_s: float
    instances: Mapping[str, Instance] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Change:
    partition: str
    reason: Reason
    since: datetime  # its last sign of life before it went
    at: datetime


def start(expected: Iterable[str], gone_after_s: float, now: datetime) -> Watch:
    """Watching begins: the expected partitions count as gone from now until they show up."""
    return Watch(gone_after_s, {p: Instance(None, now) for p in expected})


def _observe(inst: Instance, signal: Signal, now: datetime) -> Instance:
    if signal == Signal.OFFLINE:
        # Its last sign of life stays what it was (for one never alive: when watching began);
        # gone is counted from then.
        return replace(inst, online=False, seen=True)
    if signal == Signal.BEAT and inst.online is False:
        return inst  # a beat from an instance that said offline is no sign of this one's life
    online = True if signal == Signal.ONLINE else inst.online
    return replace(inst, online=online, alive_at=now, seen=True)


def step(watch: Watch, seen: Seen | None, now: datetime) -> tuple[Watch, list[Change]]:
    """The new state and what to tell the control room, after `seen` (None: time passed)."""
    instances = dict(watch.instances)
    changes = []
    if seen is not None:
        before = instances.get(seen.partition, Instance(None, now))
        after = _observe(before, seen.signal, now)
        if before.gone_since is not None and after.alive_at == now and after.online is not False:
            changes.append(Change(seen.partition, Reason.BACK, before.gone_since, now))
            after = replace(after, gone_since=None)
        instances[seen.partition] = after
    limit = timedelta(seconds=watch.gone_after_s)
    for partition, inst in sorted(instances.items()):
        if inst.gone_since is None and now - inst.alive_at >= limit:
            if inst.online is False:
                reason = Reason.OFFLINE
            else:
                reason = Reason.SILENT if inst.seen else Reason.NEVER_SEEN
            changes.append(Change(partition, reason, inst.alive_at, now))
            instances[partition] = replace(inst, gone_since=inst.alive_at)
    return Watch(watch.gone_after_s, instances), changes


def observation(topic: str, payload: bytes) -> Seen | None:
    """What an engine message says; None for anything else.

    >>> observation("fw/v1/engine/p1of2/availability", b"offline")
    Seen(partition='p1of2', signal=<Signal.OFFLINE: 'offline'>)
    >>> observation("fw/v1/engine/p1of2/heartbeat", b'{"pid": 7}').signal
    <Signal.BEAT: 'beat'>
    >>> observation("fw/v1/engine/p1of2/availability", b"") is None  # a cleared retained one
    True
    """
    parts = topics.parse_engine(topic)
    if parts is None:
        return None
    if parts.message_type == topics.ENGINE_HEARTBEAT:
        return Seen(parts.partition, Signal.BEAT)
    text = payload.decode("utf-8", "replace").strip()
    if text in (Signal.ONLINE, Signal.OFFLINE):
        return Seen(parts.partition, Signal(text))
    return None


# -- what people read ------------------------------------------------------------------------


def _when(moment: datetime, now: datetime, zone: ZoneInfo) -> str:
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    day = "" if local.date() == today else f"{local.month}月{local.day}日 "
    return f"{day}{local:%H:%M:%S}"


def _span(seconds: float) -> str:
    """
    >>> _span(42), _span(150), _span(3 * 3600 + 125)
    ('42 秒', '2 分钟', '3 小时 2 分钟')
    """
    s = int(seconds)
    if s < 120:
        return f"{s} 秒"
    if s < 3600:
        return f"{s // 60} 分钟"
    return f"{s // 3600} 小时 {s % 3600 // 60} 分钟"


def wording(c: Change, zone: ZoneInfo, *, broker_seen: bool = True) -> tuple[Level, str, str]:
    """Level, title and text of a change, in Chinese, times in `zone`.

    >>> t = datetime(2026, 5, 1, 6, 3, 5, tzinfo=UTC)
    >>> wording(Change("p1of1", Reason.OFFLINE, t, t + timedelta(seconds=30)),
    ...         ZoneInfo("Asia/Shanghai"))[1:]
    ('引擎离线', '消防预警引擎 p1of1 自 14:03:05 起离线已 30 秒：报警不会被评估，请立即检查。')
    >>> wording(Change("p1of1", Reason.BACK, t, t + timedelta(seconds=300)),
    ...         ZoneInfo("Asia/Shanghai"))[2]
    '消防预警引擎 p1of1 已于 14:08:05 恢复运行（自 14:03:05 起中断约 5 分钟）：报警评估已恢复。'
    """
    p, since = c.partition, _when(c.since, c.at, zone)
    gone = _span((c.at - c.since).total_seconds())
    act = "报警不会被评估，请立即检查。"
    if c.reason == Reason.BACK:
        at = _when(c.at, c.at, zone)
        text = f"消防预警引擎 {p} 已于 {at} 恢复运行（自 {since} 起中断约 {gone}）："
        return Level.BLUE, "引擎恢复", text + "报警评估已恢复。"
    if c.reason == Reason.SILENT:
        title = "引擎无响应"
        text = f"消防预警引擎 {p} 仍显示在线，但自 {since} 起已 {gone} 没有心跳（可能卡死）：{act}"
    elif c.reason == Reason.NEVER_SEEN:
        title = "引擎未上线"
        text = f"消防预警引擎 {p} 自看门狗 {since} 启动以来一直未上线（已 {gone}）：{act}"
    else:
        title = "引擎离线"
        text = f"消防预警引擎 {p} 自 {since} 起离线已 {gone}：{act}"
    if not broker_seen:
        text += "看门狗自己也连不上消息服务器，可能是消息服务器故障。"
    return Level.ORANGE, title, text


def notices_for(c: Change, config: Config, *, broker_seen: bool = True) -> list[Notice]:
    level, title, text = wording(c, ZoneInfo(config.general.timezone), broker_seen=broker_seen)
    since = c.since.astimezone(UTC).isoformat()
    kind = "back" if c.reason == Reason.BACK else "gone"
    return control_room_notices(
        config.alerting.office_phones, _delivery(config).channels,
        key=f"engine/{c.partition}/{kind}/{since}", level=level, title=title, text=text,
    )  # fmt: skip


# -- the process -----------------------------------------------------------------------------


def _delivery(config: Config) -> DeliverySettings:
    n = config.notify
    return DeliverySettings(sms_url=n.sms_url, push_url=n.push_url, webhook_url=n.webhook_url,
                            timeout_s=config.alerting.delivery_timeout_s)  # fmt: skip


@dataclass
class _Pending:
    notice: Notice
    attempt: int = 0
    due: float = 0.0


class _Sender:
    """Posts each notice until a 2xx, same id and bytes on every retry, with the engine's
    backoff (`alerting.deliver.backoff_s`); what is still unsent at stop is logged."""

    def __init__(self, channels: Mapping[str, Channel], s: DeliverySettings, clock: Clock) -> None:
        self._channels, self._s, self._clock = channels, s, clock
        self._pending: list[_Pending] = []
        self._lock = threading.Lock()
        self._wake, self._stop = threading.Event(), threading.Event()
        self._rng = Random()  # noqa: S311 - jitter, not secrets
        self._thread = threading.Thread(target=self._run, name="watchdog-send", daemon=True)

    def __enter__(self) -> _Sender:
        self._thread.start()
        return self

    def __exit__(self, _t: type[BaseException] | None, _e: BaseException | None,
                 _tb: TracebackType | None) -> None:  # fmt: skip
        self._stop.set()
        self._wake.set()
        self._thread.join(self._s.timeout_s + 5)
        with self._lock:
            left = [p.notice.notification_id for p in self._pending]
        if left:
            log.warning("stopped with %d notice(s) not delivered: %s", len(left), ", ".join(left))

    def add(self, notices: Sequence[Notice]) -> None:
        with self._lock:
            self._pending.extend(_Pending(n) for n in notices)
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            now = self._clock.monotonic()
            with self._lock:
                due = [p for p in self._pending if p.due <= now]
            for p in due:
                if self._stop.is_set():
                    return
                self._send(p)
            with self._lock:
                waits = [p.due - self._clock.monotonic() for p in self._pending]
            self._wake.wait(max(0.05, min([self._s.poll_s, *waits])))

    def _send(self, p: _Pending) -> None:
        n = p.notice
        try:
            sent = self._channels[n.channel].send(n.body, n.notification_id)
        except Exception:  # a broken adapter must not end the watchdog's sending
            log.exception("sending notice %s via %s failed", n.notification_id, n.channel)
            sent = None
        p.attempt += 1
        if sent is not None and sent.ok:
            with self._lock:
                self._pending.remove(p)
            log.info("notice %s delivered via %s (attempt %d)", n.notification_id, n.channel,
                     p.attempt)  # fmt: skip
            return
        if sent is None or sent.failure is None:
            failure, status, wait = None, None, self._s.backoff_max_s
        else:
            failure, status = sent.failure, sent.status
            wait = backoff_s(p.attempt, failure, sent.retry_after_s, self._s, self._rng.random())
        p.due = self._clock.monotonic() + wait
        # The failure class and status only: URLs and recipients may carry secrets or phones.
        log.warning("notice %s via %s not delivered (%s, HTTP %s); retrying in %.1f s",
                    n.notification_id, n.channel, failure, status, wait)  # fmt: skip


def _client(broker: BrokerAddress, client_id: str, inbox: queue.Queue[Seen]) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                         protocol=mqtt.MQTTv5 if broker.mqtt5 else mqtt.MQTTv311)  # fmt: skip
    if broker.username is not None:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set()
    client.reconnect_delay_set(1, 30)
    where = f"{broker.host}:{broker.port}"

    def on_connect(c: mqtt.Client, _u: object, _f: object, code: object, _p: object) -> None:
        if getattr(code, "is_failure", False):
            log.error("the MQTT broker at %s refused the watchdog: %s", where, code)
            return
        c.subscribe([(t, 1) for t in topics.ENGINE_SUBSCRIPTIONS])
        log.info("watchdog connected to %s, subscribed to %s", where,
                 ", ".join(topics.ENGINE_SUBSCRIPTIONS))  # fmt: skip

    def on_disconnect(_c: mqtt.Client, _u: object, _f: object, code: object, _p: object) -> None:
        if getattr(code, "is_failure", True):  # not our own clean stop
            log.warning("watchdog lost the MQTT broker at %s (%s); reconnecting", where, code)

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        seen = observation(message.topic, bytes(message.payload))
        if seen is not None:
            inbox.put(seen)

    client.on_connect, client.on_disconnect = on_connect, on_disconnect
    client.on_message = on_message
    return client


def run_watchdog(config: Config, clock: Clock, stop: threading.Event) -> None:
    """Watch until `stop` is set; the broker is the engines' own (`mqtt.url`), never embedded."""
    if config.mqtt.url is None:
        raise ConfigError(
            "the watchdog watches the engines' MQTT broker: set FIREWATCH_MQTT_URL (mqtt.url);"
            " an embedded broker would be one no engine uses"
        )
    broker = BrokerAddress.from_url(config.mqtt.url.get_secret_value())
    w, delivery = config.watchdog, _delivery(config)
    phones = config.alerting.office_phones
    log.info(
        "watching %s on %s: gone after %g s without a sign of life; notifying %s",
        "partitions " + ", ".join(w.partitions) if w.partitions else "every engine partition seen",
        f"{broker.host}:{broker.port}", w.gone_after_s,
        ", ".join(f"{c} ({len(phones)} office phones)" if c == "sms" else c
                  for c in delivery.channels) or "nobody",
    )  # fmt: skip
    if not delivery.channels or ("sms" in delivery.channels and not phones and
                                 len(delivery.channels) == 1):  # fmt: skip
        log.warning("no notice can be sent: configure notify.*_url (and alerting.office_phones)")
    # httpx logs each request's URL at INFO; a receiver's URL may carry a token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    inbox: queue.Queue[Seen] = queue.Queue()
    client = _client(broker, w.client_id, inbox)
    with httpx.Client() as http, _Sender(channels_for(delivery, http), delivery, clock) as sender:
        client.connect_async(broker.host, broker.port, _KEEPALIVE_S)
        client.loop_start()
        watch = start(w.partitions, w.gone_after_s, clock.now())
        try:
            while not stop.is_set():
                try:
                    seen: Seen | None = inbox.get(timeout=_TICK_S)
                except queue.Empty:
                    seen = None
                watch, changes = step(watch, seen, clock.now())
                for c in changes:
                    notices = notices_for(c, config, broker_seen=client.is_connected())
                    since = c.since.isoformat(timespec="seconds")
                    log.warning("engine partition %s: %s (%s %s); %d notice(s)", c.partition,
                                c.reason, "gone since" if c.reason == Reason.BACK else
                                "last sign of life", since, len(notices))  # fmt: skip
                    sender.add(notices)
        finally:
            client.disconnect()
            client.loop_stop()
    log.info("watchdog stopped")
