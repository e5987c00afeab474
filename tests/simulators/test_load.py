"""The load generator against a real broker: everything acknowledged is delivered, every
payload follows the contract, the target rate is roughly reached."""

from __future__ import annotations

import argparse
import json
import math
import secrets
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from firewatch.cli_load import add_commands
from firewatch.config import Config
from firewatch.embedded.load_broker import private_mosquitto
from firewatch.kernel import topics
from firewatch.kernel.contract import CHARGING_STATES, MAX_PAYLOAD_BYTES, DeviceKind, MessageType
from firewatch.kernel.kinds import EVENTS
from firewatch.simulators.errors import LoadBrokerError, LoadError
from firewatch.simulators.load import (
    Burst,
    CountingDrain,
    DrainResult,
    LoadReport,
    Schedule,
    devices_from_registry,
    generate_devices,
    message_type_for,
    run_load,
)
from firewatch.simulators.load.publisher import WorkerResult
from firewatch.simulators.load.report import build_report
from firewatch.simulators.load.runner import ensure_loopback

RATE = 2000.0
SECONDS = 2.0


@pytest.fixture(scope="module")
def broker(request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    """A private Mosquitto without queue limits; the shared broker when mosquitto is missing."""
    try:
        with private_mosquitto() as private:
            yield private.host, private.port
    except LoadBrokerError:
        yield request.getfixturevalue("mqtt_broker")


@pytest.fixture(scope="module")
def run(broker: tuple[str, int]) -> tuple[LoadReport, DrainResult]:
    """One short load run from 40 devices of a unique prefix, everything it publishes kept."""
    host, port = broker
    devices = generate_devices(40, prefix=f"T{secrets.token_hex(3)}")
    filters = [topics.device(d.kind, d.device_id, "+") for d in devices]
    with CountingDrain(host, port, filters, keep_payloads=10 * int(RATE * SECONDS)) as drain:
        report = run_load(host, port, devices, RATE, SECONDS, processes=2)
        drain.wait_for(report.acked, idle_timeout_s=10)
    return report, drain.result


def test_every_acknowledged_message_is_delivered(run: tuple[LoadReport, DrainResult]) -> None:
    report, drain = run
    assert report.published == report.acked
    assert drain.received == report.acked
    assert drain.duplicates == 0
    assert drain.per_device() == {d.device_id: d.acked for d in report.devices}
    assert drain.per_type() == {t: n for t, n in report.per_type.items() if n}
    assert sum(report.per_kind.values()) == report.acked
    assert set(report.per_kind) == {str(k) for k in DeviceKind}
    assert all(report.per_kind.values()), report.per_kind  # every kind of the contract spoke


def test_rate_roughly_reached(run: tuple[LoadReport, DrainResult]) -> None:
    report, _ = run
    # generous bounds: a loaded CI machine must not make this fail
    assert report.scheduled == int(RATE * SECONDS)
    assert report.acked >= report.scheduled * 0.5
    assert report.achieved_per_s > RATE * 0.3


def _check_common(message: dict[str, object], now_ms: float) -> None:
    ts = message["ts"]
    if isinstance(ts, str):
        moment = datetime.fromisoformat(ts)
        assert moment.utcoffset() is not None
        ts_ms = moment.timestamp() * 1000
    else:
        assert isinstance(ts, int)
        ts_ms = ts
    assert abs(ts_ms - now_ms) < 10 * 60_000
    assert isinstance(message["seq"], int)
    assert message["seq"] >= 0


def _number(value: object, low: float = -math.inf, high: float = math.inf) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high


def _check_body(kind: DeviceKind, mtype: str, m: dict[str, object]) -> None:
    if mtype == MessageType.STATUS:
        assert _number(m["rssi_dbm"])
        assert isinstance(m["fw"], str)
        assert "battery_pct" not in m or _number(m["battery_pct"], 0, 100)
    elif mtype == MessageType.EVENT:
        assert m["event"] in EVENTS[kind]
        if kind is DeviceKind.ELEVATOR:
            assert isinstance(m["car"], str)
        if m["event"] == "ebike_detected":
            assert isinstance(m["floor"], int)
            assert _number(m["confidence"], 0, 1)
            assert isinstance(m["blocked"], bool)
        if kind is DeviceKind.CHARGING:
            assert isinstance(m["port"], int)
    elif kind is DeviceKind.SMOKE:
        assert _number(m["smoke_obs"], 0)
        assert isinstance(m["alarm"], bool)
        assert _number(m["temp_c"])
        assert _number(m["co_ppm"], 0)
        assert _number(m["humidity_pct"], 0, 100)
    elif kind is DeviceKind.CHARGING:
        assert isinstance(m["port"], int)
        assert m["port"] >= 0
        assert m["state"] in CHARGING_STATES
        for name in ("current_a", "voltage_v", "power_w"):
            assert _number(m[name], 0)
    elif kind is DeviceKind.OCCUPANCY:
        assert isinstance(m["occupied"], bool)
        assert isinstance(m["people"], int)
        assert isinstance(m["still_minutes"], int)
    elif kind is DeviceKind.GAS:
        assert _number(m["lel_pct"], 0, 100)
        assert m["alarm"] is False  # a quiet kitchen: load never raises an alarm
        assert m["valve"] == "open"
    else:
        pytest.fail(f"{kind} has no readings in the contract, got {m}")


def test_payloads_follow_the_contract(run: tuple[LoadReport, DrainResult]) -> None:
    report, drain = run
    assert len(drain.payloads) == drain.received
    now_ms = time.time() * 1000
    seqs: dict[str, list[int]] = defaultdict(list)
    styles: set[type] = set()
    for topic, raw in drain.payloads:
        parsed = topics.parse(topic)
        assert parsed is not None
        assert parsed.known_kind
        assert parsed.valid_id
        assert len(raw) <= MAX_PAYLOAD_BYTES
        message = json.loads(raw.decode("utf-8"))
        assert isinstance(message, dict)
        kind = DeviceKind(parsed.kind)
        _check_common(message, now_ms)
        assert parsed.message_type == message_type_for(kind, message["seq"])
        _check_body(kind, parsed.message_type, message)
        seqs[parsed.subject_id].append(message["seq"])
        styles.add(type(message["ts"]))
    assert styles == {int, str}
    acked = {d.device_id: d.acked for d in report.devices}
    for device_id, sent in seqs.items():
        assert sent == list(range(acked[device_id])), device_id


def test_cli_runs_a_short_load(broker: tuple[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers(dest="action"))
    host, port = broker
    args = parser.parse_args(
        [
            "load",
            "--rate",
            "500",
            "--duration",
            "1",
            "--devices",
            "8",
            "--mqtt-url",
            f"mqtt://{host}:{port}",
            "--json",
        ]
    )
    assert args.handler(args, Config()) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["published"] == summary["acked"] > 0
    assert summary["lost"] == 0


def test_only_loopback_targets() -> None:
    ensure_loopback("localhost", 1883)
    ensure_loopback("127.0.0.1", 1883)
    with pytest.raises(LoadError, match="loopback"):
        run_load("192.0.2.1", 1883, 4, 100.0, 1.0)


def test_unreachable_broker_is_named() -> None:
    with pytest.raises(LoadError, match=r"cannot publish load: .*127\.0\.0\.1:1\b"):
        run_load("127.0.0.1", 1, 4, 100.0, 1.0, processes=1)


@pytest.mark.parametrize(
    ("schedule", "t", "due"),
    [
        (Schedule(1000.0), 0.0, 0),  # nothing before the start
        (Schedule(1000.0), 2.5, 2500),  # steady: rate x time
        (Schedule(100.0, Burst(20.0, 5.0, 3.0)), 5.0, 1500),  # the burst: 3x for 5 s
        (Schedule(100.0, Burst(20.0, 5.0, 3.0)), 20.0, 2000),  # a whole period keeps the mean
        (Schedule(100.0, Burst(20.0, 5.0, 3.0)), 45.0, 5500),  # second period's burst on top
    ],
)
def test_schedule(schedule: Schedule, t: float, due: int) -> None:
    assert schedule.due(t) == due


def test_report_counts_by_kind_and_type() -> None:
    devices = generate_devices(5)  # one of each kind, dealt to two workers: 0,2,4 and 1,3
    assert [d.kind for d in devices] == [DeviceKind.SMOKE, DeviceKind.CHARGING,
                                         DeviceKind.ELEVATOR, DeviceKind.OCCUPANCY, DeviceKind.GAS]  # fmt: skip
    results = [
        WorkerResult(0, published=(20, 20, 20), acked=(20, 19, 20), started=10.0, finished=12.0),
        WorkerResult(1, published=(20, 20), acked=(20, 20), started=10.0, finished=11.0),
    ]
    report = build_report(
        devices, results, target_per_s=40.0, scheduled=100, bursty=False, stopped_early=False
    )
    assert report.published == 100
    assert report.acked == 99
    assert report.lost == 1
    assert report.achieved_per_s == 99 / 2.0
    assert report.per_kind == {
        "smoke": 20, "charging": 20, "elevator": 19, "occupancy": 20, "gas": 20
    }  # fmt: skip
    # smoke, charging, gas: 18 readings, 1 event, 1 status; lift camera: 19 events acked (its
    # status, seq 19, was not); presence: 19 readings, 1 status
    assert report.per_type == {
        "reading": 18 + 18 + 19 + 18, "event": 1 + 1 + 19 + 1, "status": 1 + 1 + 1 + 1
    }  # fmt: skip
    assert [d.device_id for d in report.devices] == [d.device_id for d in devices]
    assert sum(1 for _ in report.expected()) == 99


def test_devices_from_registry(tmp_path: Path) -> None:
    document = {
        "devices": [
            {"device_id": "S1", "kind": "smoke", "venue_id": "V1"},
            {"device_id": "C1", "kind": "charging", "venue_id": "V1"},
        ]
    }
    (tmp_path / "registry.json").write_text(json.dumps(document), encoding="utf-8")
    (tmp_path / "devices.csv").write_text(
        "device_id,kind,venue_id,location,heartbeat_s\nE1,elevator,V2,lift A,300\n",
        encoding="utf-8",
    )
    from_json = devices_from_registry(tmp_path)
    assert [(d.device_id, d.kind) for d in from_json] == [("S1", "smoke"), ("C1", "charging")]
    from_csv = devices_from_registry(tmp_path / "devices.csv")
    assert [(d.device_id, d.kind) for d in from_csv] == [("E1", "elevator")]


def test_payloads_pass_the_ingest_decoder(run: tuple[LoadReport, DrainResult]) -> None:
    decode = pytest.importorskip("firewatch.ingest.decode")
    records = pytest.importorskip("firewatch.ingest.records")
    report, drain = run
    registry = records.StaticRegistry(
        [
            records.DeviceInfo(d.device_id, d.kind, "V-1", "Xinhua", "G-1", "MS-1", heartbeat_s=60)
            for d in report.devices
        ]
    )
    limits = decode.DecodeLimits(max_future_s=300, max_age_s=7 * 86400)
    now = datetime.now(UTC)
    rejected = [
        outcome
        for topic, raw in drain.payloads
        if isinstance(outcome := decode.decode(topic, raw, now, registry, limits), records.Rejected)
    ]
    assert rejected == []
