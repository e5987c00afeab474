"""Someone watches the engine: `firewatch watchdog` tells the control room when an engine
partition has been gone for `watchdog.gone_after_s`, and again when it is back.

The real thing: `firewatch run` as a child process (heartbeat every second), the watchdog as
another (`python -m firewatch.cli watchdog`, its configuration in a TOML file, the broker from
the environment), a private Mosquitto, a fresh database, and one real HTTP receiver for SMS and
webhook. The engine is frozen (SIGSTOP: still `online`, its heartbeat silent), thawed, killed
(SIGKILL: its Last Will) and restarted; each time the control room hears of it once, under the
same id however often a post is retried.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from firewatch.watchdog import Change, Reason, Seen, Signal, Watch, start, step, wording
from tests.alerting.receiver import Receiver, receiver
from tests.reliability.engine_process import EngineProcess
from tests.support.fixtures import PrivateMosquittoFactory

GONE_AFTER_S = 5.0
HEARTBEAT_S = 1.0
TOLD_WITHIN_S = 30.0  # the promise; with gone_after_s = 5 it comes far sooner
OFFICE_PHONE = "+8613800000099"
T0 = datetime(2026, 5, 1, 6, 0, tzinfo=UTC)


# -- the decision, table-driven -----------------------------------------------------------------


def _run(events: list[tuple[float, Signal | None]]) -> list[tuple[float, str]]:
    """Feed (seconds after T0, signal of p1of1 or None for a tick); what was reported, when."""
    w: Watch = start(["p1of1"], 30, T0)
    out = []
    for s, signal_ in events:
        w, changes = step(w, Seen("p1of1", signal_) if signal_ else None, T0 + timedelta(seconds=s))
        out += [(s, f"{c.partition} {c.reason}") for c in changes]
    return out


HEARTBEATS = [(float(s), Signal.BEAT) for s in range(2, 40, 2)]  # every 2 s until 38 s


@pytest.mark.parametrize(
    ("events", "reported"),
    [
        # A healthy engine: online, beating. Nothing to tell.
        ([(0, Signal.ONLINE), *HEARTBEATS, (60, None)], []),
        # Hung: still online, heartbeat stops after 10 s; told at 40 s, not at 39 s.
        ([(0, Signal.ONLINE), *HEARTBEATS[:5], (39.9, None), (40, None), (50, None)],
         [(40, "p1of1 silent")]),
        # Hung, then it beats again: back.
        ([(0, Signal.ONLINE), (10, Signal.BEAT), (41, None), (45, Signal.BEAT)],
         [(41, "p1of1 silent"), (45, "p1of1 back")]),
        # Hung until its Last Will arrives (the broker's keepalive): one notice, not two.
        ([(0, Signal.ONLINE), (10, Signal.BEAT), (40, None), (55, Signal.OFFLINE), (90, None)],
         [(40, "p1of1 silent")]),
        # Killed: Last Will at 11 s, last beat at 10 s; gone is counted from the last beat.
        ([(0, Signal.ONLINE), (10, Signal.BEAT), (11, Signal.OFFLINE), (39.9, None), (40, None)],
         [(40, "p1of1 offline")]),
        # Flapping under the threshold: restarted within 30 s, nothing at all.
        ([(0, Signal.ONLINE), (10, Signal.OFFLINE), (25, Signal.ONLINE), (30, Signal.OFFLINE),
          (55, Signal.ONLINE), (80, Signal.BEAT)], []),
        # A beat while it says offline (a stray process) does not bring it back.
        ([(0, Signal.OFFLINE), (30, None), (31, Signal.BEAT), (40, Signal.ONLINE)],
         [(30, "p1of1 offline"), (40, "p1of1 back")]),
        # Expected, never seen: gone 30 s after the watchdog started; back when it shows up.
        ([(29.9, None), (30, None), (70, Signal.ONLINE)],
         [(30, "p1of1 never_seen"), (70, "p1of1 back")]),
    ],
)  # fmt: skip
def test_decisions(events: list[tuple[float, Signal | None]], reported: list[tuple[float, str]]
                   ) -> None:  # fmt: skip
    assert _run(events) == reported


def test_a_partition_not_expected_is_watched_once_seen() -> None:
    # Nothing expected (`watchdog.partitions` empty): only what announces itself is watched.
    w = start((), 30, T0)
    w, out = step(w, None, T0 + timedelta(seconds=100))
    assert out == [] and not w.instances
    w, out = step(w, Seen("p2of2", Signal.ONLINE), T0 + timedelta(seconds=101))
    w, out = step(w, None, T0 + timedelta(seconds=131))
    assert [(c.partition, c.reason) for c in out] == [("p2of2", Reason.SILENT)]


def test_a_hung_engine_reads_as_hung_in_chinese() -> None:
    # Availability stays online while the heartbeat stops: the notice says so.
    w = start(["p1of1"], 30, T0)
    w, _ = step(w, Seen("p1of1", Signal.ONLINE), T0)
    w, _ = step(w, Seen("p1of1", Signal.BEAT), T0 + timedelta(seconds=5))
    w, out = step(w, None, T0 + timedelta(seconds=35))
    assert out == [Change("p1of1", Reason.SILENT, T0 + timedelta(seconds=5),
                          T0 + timedelta(seconds=35))]  # fmt: skip
    level, title, text = wording(out[0], ZoneInfo("Asia/Shanghai"))
    assert (level, title) == ("orange", "引擎无响应")
    assert "p1of1" in text and "14:00:05" in text and "没有心跳" in text and "仍显示在线" in text


# -- the real processes -------------------------------------------------------------------------


class WatchdogProcess:
    def __init__(self, mqtt_url: str, config: Path, log_dir: Path) -> None:
        self.log_path = log_dir / "watchdog.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIREWATCH_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "firewatch.cli", "--config", str(config), "watchdog"],
            env={**env, "FIREWATCH_MQTT_URL": mqtt_url},
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            cwd=log_dir,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            assert self.process.poll() is None, f"watchdog exited: {self.log()}"
            assert time.monotonic() < deadline, f"no {text!r} in the watchdog's log: {self.log()}"
            time.sleep(0.05)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(15)


def notices(r: Receiver) -> list[dict[str, Any]]:
    """Each distinct notice received, first body, in order of arrival, with its arrival time."""
    with r.lock:
        found = [{**json.loads(b[0]), "at": r.times[nid], "posts": len(b),
                  "same_bytes": len(set(b)) == 1} for nid, b in r.bodies.items()]  # fmt: skip
    return sorted(found, key=lambda n: n["at"])


def wait_for_titled(r: Receiver, title: str, count: int, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        got = [n for n in notices(r) if n["title"] == title]
        if len(got) >= count and {n["id"] for n in got} <= r.delivered():
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} {title!r} notice(s) not delivered in {timeout} s:"
                                 f" {notices(r)}")  # fmt: skip
        time.sleep(0.05)


@pytest.fixture
def watched(
    fresh_db: str, private_mosquitto: PrivateMosquittoFactory, tmp_path: Path
) -> Iterator[tuple[EngineProcess, Receiver, Path, str]]:
    broker = private_mosquitto()
    engine = EngineProcess(fresh_db, broker.url, f"fw-wd-{secrets.token_hex(3)}", tmp_path)
    engine.env["FIREWATCH_ENGINE__HEARTBEAT_S"] = str(HEARTBEAT_S)
    # The first post of all fails (503): the watchdog retries it, under the same id.
    with receiver(lambda n: 503 if n == 1 else 200) as r:
        config = tmp_path / "watchdog.toml"
        config.write_text(
            f'[watchdog]\ngone_after_s = {GONE_AFTER_S}\npartitions = ["p1of1"]\n'
            f'client_id = "wd-{secrets.token_hex(3)}"\n'
            f'[notify]\nsms_url = "{r.url("sms")}"\nwebhook_url = "{r.url("hook")}"\n'
            f'[alerting]\noffice_phones = ["{OFFICE_PHONE}"]\n',
            encoding="utf-8",
        )
        try:
            yield engine, r, config, broker.url
        finally:
            engine.stop()


@pytest.mark.slow
def test_the_control_room_is_told_when_the_engine_hangs_dies_and_comes_back(
    watched: tuple[EngineProcess, Receiver, Path, str], fresh_db: str, tmp_path: Path
) -> None:
    engine, r, config, mqtt_url = watched
    engine.start()
    watchdog = WatchdogProcess(mqtt_url, config, tmp_path)
    try:
        watchdog.wait_for_log("subscribed to")
        watchdog.wait_for_log("watching partitions p1of1")
        # A working engine: online and beating, so nothing is sent however long we wait.
        time.sleep(GONE_AFTER_S + 2 * HEARTBEAT_S)
        assert notices(r) == [], f"a working engine was reported: {watchdog.log()}"

        # Hung: the process is frozen; its connection (and so its `online`) stays, its heartbeat
        # stops. Told after gone_after_s, by SMS to the office and by webhook.
        assert engine.process is not None
        engine.process.send_signal(signal.SIGSTOP)
        frozen = time.monotonic()
        hung = wait_for_titled(r, "引擎无响应", 2, TOLD_WITHIN_S)
        after = hung[0]["at"] - frozen
        assert GONE_AFTER_S - HEARTBEAT_S - 0.5 <= after <= GONE_AFTER_S + 5, after
        engine.process.send_signal(signal.SIGCONT)
        back_from_hang = wait_for_titled(r, "引擎恢复", 2, TOLD_WITHIN_S)

        # Killed: its Last Will says offline. Told within 30 s, and not before gone_after_s.
        time.sleep(2 * HEARTBEAT_S)
        engine.kill()
        killed = time.monotonic()
        gone = wait_for_titled(r, "引擎离线", 2, TOLD_WITHIN_S)
        after = gone[0]["at"] - killed
        assert GONE_AFTER_S - HEARTBEAT_S - 0.5 <= after <= TOLD_WITHIN_S, after
        assert after <= GONE_AFTER_S + 5, f"told {after:.1f} s after the kill"

        # Restarted: told again, once.
        restarted = time.monotonic()
        engine.start()
        back = wait_for_titled(r, "引擎恢复", 4, TOLD_WITHIN_S)[2:]
        assert all(n["at"] >= restarted for n in back)
        time.sleep(GONE_AFTER_S + 2 * HEARTBEAT_S)  # and nothing more while it works
        assert engine.terminate() == 0
    finally:
        code = watchdog.stop()
    assert code == 0, watchdog.log()

    everything = notices(r)
    assert len(everything) == 8, [(n["title"], n["channel"]) for n in everything]
    for group, text in ((hung, "没有心跳"), (back_from_hang, "恢复运行"), (gone, "离线已"),
                        (back, "恢复运行")):  # fmt: skip
        assert sorted(n["channel"] for n in group) == ["sms", "webhook"], group
        for n in group:
            assert n["to"] == ([OFFICE_PHONE] if n["channel"] == "sms" else ["control-room"])
            assert n["alert_id"] is None and n["case_id"] is None and n["ack_url"] is None
            assert "p1of1" in n["text"] and text in n["text"], n["text"]
            assert n["level"] == ("blue" if n["title"] == "引擎恢复" else "orange")
    # The failed first post was retried with the same id and the same bytes; nothing else twice.
    assert sorted(n["posts"] for n in everything) == [1] * 7 + [2], everything
    assert all(n["same_bytes"] for n in everything)
    # The phone number never reaches the watchdog's log.
    assert OFFICE_PHONE not in watchdog.log()
    # The heartbeats are the engine's own: acknowledged and dropped, not stored as rejections.
    with psycopg.connect(fresh_db) as conn:
        kept = conn.execute(
            "SELECT count(*) FROM rejected_message WHERE topic LIKE 'fw/v1/engine/%'"
        ).fetchone()
    assert kept == (0,)
