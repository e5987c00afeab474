"""decode(): every message kind of the field contract, and every rejection reason with a sample.

Pure tests: a fixed registry, a fixed time of receipt, no services.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from firewatch.ingest.decode import DecodeLimits, decode
from firewatch.ingest.fields import BOUNDS
from firewatch.ingest.reasons import RejectReason
from firewatch.ingest.records import (
    Availability,
    DeviceEvent,
    DeviceInfo,
    DeviceStatus,
    Reading,
    Rejected,
    ScanItem,
    StaticRegistry,
    VenueInfo,
    VenueScan,
)
from firewatch.kernel import topics
from firewatch.kernel.contract import DeviceKind

NOW = datetime(2025, 5, 1, 4, 0, 0, tzinfo=UTC)  # 12:00 in Shanghai
NOW_MS = 1_746_072_000_000
LIMITS = DecodeLimits(max_future_s=300, max_age_s=7 * 86_400)
ENRICHED = {"venue_id": "V-1", "community": "Xinhua", "grid": "G-03", "station_id": "MS-1"}
REGISTRY = StaticRegistry(
    devices=[
        DeviceInfo("S-1", DeviceKind.SMOKE, "V-1", "Xinhua", "G-03", "MS-1", heartbeat_s=300),
        DeviceInfo("C-1", DeviceKind.CHARGING, "V-1", "Xinhua", "G-03", "MS-1", heartbeat_s=60),
        DeviceInfo("E-1", DeviceKind.ELEVATOR, "V-1", "Xinhua", "G-03", "MS-1", heartbeat_s=60),
        DeviceInfo("O-1", DeviceKind.OCCUPANCY, "V-1", "Xinhua", "G-03", "MS-1", heartbeat_s=60),
        DeviceInfo("G-1", DeviceKind.GAS, "V-1", "Xinhua", "G-03", "MS-1", heartbeat_s=300),
    ],
    venues=[VenueInfo("V-1", "Xinhua", "G-03", "MS-1")],
)

SMOKE = topics.reading("smoke", "S-1")
CHARGING = topics.reading("charging", "C-1")
OCCUPANCY = topics.reading("occupancy", "O-1")
GAS = topics.reading("gas", "G-1")
GAS_EVENT = topics.event("gas", "G-1")
SCAN = topics.scan("V-1")


def body(**fields: Any) -> bytes:
    """A JSON payload with a current `ts` and a `seq` unless given."""
    return json.dumps({"ts": NOW_MS, "seq": 1, **fields}).encode()


def smoke(**fields: Any) -> bytes:
    return body(**{"smoke_obs": 0.5, "alarm": False, **fields})


def charging(**fields: Any) -> bytes:
    base = {"port": 3, "state": "charging", "current_a": 2.0, "voltage_v": 48.0, "power_w": 96.0}
    return body(**{**base, **fields})


def gas(**fields: Any) -> bytes:
    return body(**{"lel_pct": 2.0, "alarm": False, **fields})


def scan(**fields: Any) -> bytes:
    base = {"scan_type": "inspection", "inspector": "INS-7", "items": []}
    return body(**{**base, **fields})


def item(**fields: Any) -> bytes:
    return scan(items=[{"item": "exits_unlocked", "ok": True, **fields}])


# --- accepted messages ---------------------------------------------------------------------

GOOD = [
    # A multi-criteria smoke detector, device time with a +08:00 offset, converted to UTC.
    pytest.param(
        SMOKE,
        body(ts="2025-05-01T11:59:30.250+08:00", seq=41, smoke_obs=2.5, alarm=True,
             temp_c=38.5, co_ppm=45, humidity_pct=61.0),
        Reading,
        {"ts": datetime(2025, 5, 1, 3, 59, 30, 250_000, tzinfo=UTC), "seq": 41,
         "smoke_obs": 2.5, "alarm": True, "temp_c": 38.5, "co_ppm": 45.0,
         "humidity_pct": 61.0, "kind": DeviceKind.SMOKE, "device_id": "S-1", "port": None,
         "received_at": NOW, "extra": {}, **ENRICHED},
        id="smoke-reading-full",
    ),
    # The required fields only; optional ones stay None; ts as epoch milliseconds.
    pytest.param(
        SMOKE, smoke(), Reading,
        {"ts": NOW, "smoke_obs": 0.5, "alarm": False, "temp_c": None, "co_ppm": None},
        id="smoke-reading-minimal",
    ),
    # Integers are numbers: a whole temperature arrives as a float.
    pytest.param(SMOKE, smoke(temp_c=25), Reading, {"temp_c": 25.0}, id="integer-as-number"),
    # Bounds are inclusive: 100 %/m and 1,200 °C are still readings.
    pytest.param(
        SMOKE, smoke(smoke_obs=100, temp_c=1200), Reading, {"smoke_obs": 100.0, "temp_c": 1200.0},
        id="bounds-inclusive",
    ),
    # A charging port with every optional off-gas sensor.
    pytest.param(
        CHARGING,
        charging(temp_c=41.5, energy_wh=310.2, co_ppm=3, h2_ppm=1.5, voc_ppm=0.8),
        Reading,
        {"port": 3, "state": "charging", "current_a": 2.0, "voltage_v": 48.0,
         "power_w": 96.0, "temp_c": 41.5, "energy_wh": 310.2, "co_ppm": 3.0,
         "h2_ppm": 1.5, "voc_ppm": 0.8, "smoke_obs": None, "kind": DeviceKind.CHARGING},
        id="charging-reading",
    ),
    # An indoor load detector is port 0.
    pytest.param(CHARGING, charging(port=0, state="idle", current_a=0, power_w=0), Reading,
                 {"port": 0, "state": "idle", "current_a": 0.0}, id="charging-port-zero"),
    # A night presence sensor: someone still for 95 minutes.
    pytest.param(
        OCCUPANCY, body(occupied=True, people=1, still_minutes=95), Reading,
        {"occupied": True, "people": 1, "still_minutes": 95, "kind": DeviceKind.OCCUPANCY},
        id="occupancy-reading",
    ),
    # A kitchen's gas detector (v1.1) with its shut-off valve, in alarm.
    pytest.param(
        GAS, gas(lel_pct=27.5, alarm=True, valve="open"), Reading,
        {"lel_pct": 27.5, "alarm": True, "valve": "open", "smoke_obs": None,
         "kind": DeviceKind.GAS, **ENRICHED},
        id="gas-reading-valve",
    ),
    # ... and one without a valve: `valve` is optional.
    pytest.param(GAS, gas(), Reading, {"lel_pct": 2.0, "alarm": False, "valve": None},
                 id="gas-reading-no-valve"),
    # Its own alarm names the concentration; the valve's answer carries our command's id.
    pytest.param(GAS_EVENT, body(event="alarm", lel_pct=31), DeviceEvent,
                 {"event": "alarm", "lel_pct": 31.0, "command_id": None}, id="gas-alarm"),
    pytest.param(GAS_EVENT, body(event="valve_closed", id="CMD-9"), DeviceEvent,
                 {"event": "valve_closed", "command_id": "CMD-9", "kind": DeviceKind.GAS},
                 id="gas-valve-closed"),
    pytest.param(GAS_EVENT, body(event="valve_opened"), DeviceEvent,
                 {"event": "valve_opened", "command_id": None}, id="gas-valve-opened"),
    # Unlisted fields (newer firmware) are kept in extra; a repeated own device_id is fine.
    pytest.param(
        SMOKE, smoke(device_id="S-1", lux=120, fw_build={"n": 7}), Reading,
        {"extra": {"lux": 120, "fw_build": {"n": 7}}}, id="extra-kept",
    ),
    # A null optional field counts as absent.
    pytest.param(SMOKE, smoke(temp_c=None), Reading, {"temp_c": None}, id="null-optional"),
    # A smoke detector's hush button.
    pytest.param(
        topics.event("smoke", "S-1"), body(event="silenced"), DeviceEvent,
        {"event": "silenced", "port": None, "kind": DeviceKind.SMOKE, **ENRICHED},
        id="smoke-event",
    ),
    # Charging events carry the port.
    pytest.param(
        topics.event("charging", "C-1"), body(event="overtemp", port=2), DeviceEvent,
        {"event": "overtemp", "port": 2, "confidence": None}, id="charging-event",
    ),
    # An indoor meter recognised an e-bike charger, with its confidence.
    pytest.param(
        topics.event("charging", "C-1"),
        body(event="ebike_load_detected", port=0, confidence=0.92), DeviceEvent,
        {"event": "ebike_load_detected", "port": 0, "confidence": 0.92},
        id="charging-ebike-load",
    ),
    # The answer to our power-off command carries the command's id.
    pytest.param(
        topics.event("charging", "C-1"), body(event="power_off", port=3, id="cmd-123"),
        DeviceEvent, {"event": "power_off", "port": 3, "command_id": "cmd-123", "extra": {}},
        id="charging-power-off",
    ),
    # A lift camera saw an e-bike and held the door.
    pytest.param(
        topics.event("elevator", "E-1"),
        body(event="ebike_detected", car="B", floor=-1, confidence=0.87, blocked=True),
        DeviceEvent,
        {"event": "ebike_detected", "car": "B", "floor": -1, "confidence": 0.87,
         "blocked": True, "kind": DeviceKind.ELEVATOR},
        id="elevator-ebike-detected",
    ),
    # ... and saw it leave; only the car is required.
    pytest.param(
        topics.event("elevator", "E-1"), body(event="ebike_left", car="B"), DeviceEvent,
        {"event": "ebike_left", "car": "B", "floor": None}, id="elevator-ebike-left",
    ),
    # A battery device's heartbeat.
    pytest.param(
        topics.status("smoke", "S-1"), body(battery_pct=87, rssi_dbm=-97.5, fw="2.3.1"),
        DeviceStatus, {"battery_pct": 87.0, "rssi_dbm": -97.5, "fw": "2.3.1", **ENRICHED},
        id="status-battery",
    ),
    # A mains device has no battery.
    pytest.param(
        topics.status("charging", "C-1"), body(rssi_dbm=-70, fw="1.0"), DeviceStatus,
        {"battery_pct": None, "rssi_dbm": -70.0, "kind": DeviceKind.CHARGING},
        id="status-mains",
    ),
    # Availability is plain text; no ts, no seq.
    pytest.param(
        topics.availability("smoke", "S-1"), b"online", Availability,
        {"online": True, "received_at": NOW, "device_id": "S-1", **ENRICHED},
        id="availability-online",
    ),
    # The Last Will; a trailing newline (from a shell script) is tolerated.
    pytest.param(
        topics.availability("elevator", "E-1"), b"offline\n", Availability,
        {"online": False, "kind": DeviceKind.ELEVATOR}, id="availability-offline",
    ),
    # An inspection: a contract checklist item with a note, and a venue's own item name.
    pytest.param(
        SCAN,
        scan(seq=5, items=[
            {"item": "extinguisher_valid", "ok": False, "note": "expired 2024-11"},
            {"item": "kitchen_hood_clean", "ok": True, "photo": "p1.jpg"},
        ], venue_id="V-1", weather="rain"),
        VenueScan,
        {"seq": 5, "scan_type": "inspection", "inspector": "INS-7", "case_id": None,
         "items": (ScanItem("extinguisher_valid", False, "expired 2024-11"),
                   ScanItem("kitchen_hood_clean", True, None, {"photo": "p1.jpg"})),
         "extra": {"weather": "rain"}, **ENRICHED},
        id="scan-inspection",
    ),
    # A rectification names the hazard case it answers; an empty checklist is allowed.
    pytest.param(
        SCAN, scan(scan_type="rectification", case_id="HC-2025-0042"), VenueScan,
        {"scan_type": "rectification", "case_id": "HC-2025-0042", "items": ()},
        id="scan-rectification",
    ),
    # RFC 3339 as written by UTC clocks.
    pytest.param(SMOKE, smoke(ts="2025-05-01T04:00:00Z"), Reading, {"ts": NOW}, id="ts-z"),
    # Lower-case t and z are RFC 3339 too; nanoseconds are cut to microseconds.
    pytest.param(
        SMOKE, smoke(ts="2025-05-01t03:59:59.123456789z"), Reading,
        {"ts": datetime(2025, 5, 1, 3, 59, 59, 123_456, tzinfo=UTC)}, id="ts-lower-nanos",
    ),
    # RFC 3339's note allows a space between date and time; -00:00 is UTC.
    pytest.param(SMOKE, smoke(ts="2025-05-01 04:00:00-00:00"), Reading, {"ts": NOW},
                 id="ts-space-minus-zero"),
    # A leap second is held as the last microsecond before it.
    pytest.param(
        SMOKE, smoke(ts="2025-05-01T03:59:60Z"), Reading,
        {"ts": datetime(2025, 5, 1, 3, 59, 59, 999_999, tzinfo=UTC)}, id="ts-leap-second",
    ),
    # A device clock ahead by less than the limit, and one behind by less than the limit.
    pytest.param(SMOKE, smoke(ts=NOW_MS + 299_000), Reading,
                 {"ts": NOW + timedelta(seconds=299)}, id="ts-slightly-ahead"),
    pytest.param(SMOKE, smoke(ts=NOW_MS - 6 * 86_400_000), Reading,
                 {"ts": NOW - timedelta(days=6)}, id="ts-six-days-old"),
]  # fmt: skip


@pytest.mark.parametrize(("topic", "payload", "record_type", "expected"), GOOD)
def test_accepted(topic: str, payload: bytes, record_type: type, expected: dict[str, Any]) -> None:
    record = decode(topic, payload, NOW, REGISTRY, LIMITS)
    assert type(record) is record_type, record
    assert {name: getattr(record, name) for name in expected} == expected
    if hasattr(record, "ts"):
        assert record.ts.tzinfo is UTC


# --- rejected messages ---------------------------------------------------------------------

R = RejectReason
BAD = [
    # Another protocol version is not ours to read.
    pytest.param("fw/v2/smoke/S-1/reading", smoke(), R.TOPIC_MALFORMED, '"fw/v2/smoke/S-1/reading"',
                 id="topic-version"),
    # Too few levels.
    pytest.param("fw/v1/smoke/S-1", smoke(), R.TOPIC_MALFORMED, "is not fw/v1/", id="topic-short"),
    # An engine's retained announcement arrives on fw/v1/# too.
    pytest.param(topics.engine_availability("p0"), b"online", R.ENGINE_TOPIC, "engine's own",
                 id="engine-availability"),
    # Commands go to devices; whatever arrives on set is not device data.
    pytest.param(topics.command("charging", "C-1"), b'{"port":3,"power":"off","id":"c1"}',
                 R.UNEXPECTED_COMMAND, "carries commands", id="set-topic"),
    # Gas detectors are not in the contract.
    pytest.param("fw/v1/sprinkler/G-1/reading", smoke(), R.UNKNOWN_KIND, 'kind "sprinkler"', id="kind"),
    # A space breaks the id pattern.
    pytest.param("fw/v1/smoke/S 1/reading", smoke(), R.BAD_DEVICE_ID, '"S 1"', id="id-space"),
    # 65 characters is one too many.
    pytest.param(topics.reading("smoke", "S" * 65), smoke(), R.BAD_DEVICE_ID, "does not match",
                 id="id-too-long"),
    # Non-ASCII letters are not in [A-Za-z0-9_-].
    pytest.param(topics.reading("smoke", "烟感1"), smoke(), R.BAD_DEVICE_ID, "烟感1",
                 id="id-non-ascii"),
    # Same pattern for venues.
    pytest.param("fw/v1/venue/V.1/scan", scan(), R.BAD_VENUE_ID, '"V.1"', id="venue-id"),
    # Lift cameras send events, not readings.
    pytest.param(topics.reading("elevator", "E-1"), body(), R.UNKNOWN_MESSAGE_TYPE,
                 'elevator devices send no "reading"', id="elevator-reading"),
    # Presence sensors send no events.
    pytest.param(topics.event("occupancy", "O-1"), body(event="alarm"), R.UNKNOWN_MESSAGE_TYPE,
                 "occupancy devices send no", id="occupancy-event"),
    # Venues only scan.
    pytest.param("fw/v1/venue/V-1/reading", scan(), R.UNKNOWN_MESSAGE_TYPE,
                 'venues send no "reading"', id="venue-reading"),
    # A made-up message type.
    pytest.param("fw/v1/smoke/S-1/config", body(), R.UNKNOWN_MESSAGE_TYPE, '"config"',
                 id="type-config"),
    # Not in the registry.
    pytest.param(topics.reading("smoke", "S-404"), smoke(), R.UNKNOWN_DEVICE, "S-404",
                 id="unknown-device"),
    # Registered as a smoke detector, publishing as a charging port.
    pytest.param(topics.reading("charging", "S-1"), charging(), R.KIND_MISMATCH,
                 "registered as smoke, not charging", id="kind-mismatch"),
    # A scan for a venue the registry does not know.
    pytest.param(topics.scan("V-404"), scan(), R.UNKNOWN_VENUE, "V-404", id="unknown-venue"),
    # Over the contract's 4 KiB.
    pytest.param(SMOKE, smoke(blob="x" * 4100), R.PAYLOAD_TOO_LARGE, "more than 4096",
                 id="too-large"),
    # The size limit holds for availability too.
    pytest.param(topics.availability("smoke", "S-1"), b"online" + b" " * 4096,
                 R.PAYLOAD_TOO_LARGE, "bytes", id="too-large-availability"),
    # Latin-1 bytes are not UTF-8.
    pytest.param(SMOKE, smoke()[:-1] + b', "fw": "caf\xe9"}', R.INVALID_UTF8, "0xe9",
                 id="utf8"),
    # Cut off mid-message.
    pytest.param(SMOKE, b'{"ts": 1746072000000, "seq":', R.INVALID_JSON, "payload:",
                 id="json-truncated"),
    # Nothing at all.
    pytest.param(SMOKE, b"", R.INVALID_JSON, "empty", id="json-empty"),
    # A lone surrogate escape cannot become UTF-8 text.
    pytest.param(SMOKE, smoke()[:-1] + b', "fw": "\\ud800"}', R.INVALID_JSON, "surrogate",
                 id="json-lone-surrogate"),
    # Python's json would accept these; the engine does not.
    pytest.param(SMOKE, smoke()[:-1] + b', "temp_c": NaN}', R.NON_FINITE_NUMBER, "NaN",
                 id="nan"),
    pytest.param(SMOKE, smoke()[:-1] + b', "temp_c": -Infinity}', R.NON_FINITE_NUMBER,
                 "-Infinity", id="minus-infinity"),
    # A literal too large for a double becomes infinity.
    pytest.param(SMOKE, smoke()[:-1] + b', "lux": 1e400}', R.NON_FINITE_NUMBER, "1e400",
                 id="overflow"),
    # PostgreSQL text and jsonb cannot hold NUL, even in an unlisted field.
    pytest.param(SMOKE, smoke(note="a\x00b"), R.NUL_CHARACTER, "\\u0000", id="nul"),
    # Nested past what any later reader of the stored value can parse back (1,000 levels
    # fit in 4 KiB); 32 levels still pass (next case).
    pytest.param(SMOKE, smoke()[:-1] + b', "x": ' + b"[" * 1000 + b"]" * 1000 + b"}",
                 R.TOO_DEEP, "32 levels", id="too-deep"),
    # JSON, but an array.
    pytest.param(SMOKE, b"[1, 2]", R.NOT_AN_OBJECT, "an array", id="array"),
    # JSON, but null.
    pytest.param(SMOKE, b"null", R.NOT_AN_OBJECT, "got null", id="null"),
    # Availability words are lower case.
    pytest.param(topics.availability("smoke", "S-1"), b"ONLINE", R.BAD_AVAILABILITY,
                 '"ONLINE"', id="availability-case"),
    # Availability is plain text, not a JSON string.
    pytest.param(topics.availability("smoke", "S-1"), b'"online"', R.BAD_AVAILABILITY,
                 "expected online or offline", id="availability-json"),
    # An empty retained message clears availability; it says nothing about the device.
    pytest.param(topics.availability("smoke", "S-1"), b"", R.BAD_AVAILABILITY,
                 "cleared retained", id="availability-empty"),
    # The payload speaks for another device.
    pytest.param(SMOKE, smoke(device_id="S-2"), R.DEVICE_ID_MISMATCH, '"S-2", the topic S-1',
                 id="device-id-mismatch"),
    # The scan speaks for another venue.
    pytest.param(SCAN, scan(venue_id="V-2"), R.VENUE_ID_MISMATCH, '"V-2"',
                 id="venue-id-mismatch"),
    # A smoke reading must say how much smoke.
    pytest.param(SMOKE, body(alarm=False), R.MISSING_FIELD, "smoke_obs: is missing",
                 id="missing-smoke-obs"),
    # ... and whether it is alarming; null is no answer.
    pytest.param(SMOKE, smoke(alarm=None), R.MISSING_FIELD, "alarm: is null", id="null-alarm"),
    # Every reading has a device time ...
    pytest.param(SMOKE, json.dumps({"seq": 1, "smoke_obs": 0, "alarm": False}).encode(),
                 R.MISSING_FIELD, "ts: is missing", id="missing-ts"),
    # ... and a sequence number.
    pytest.param(SMOKE, json.dumps({"ts": NOW_MS, "smoke_obs": 0, "alarm": False}).encode(),
                 R.MISSING_FIELD, "seq: is missing", id="missing-seq"),
    # A charging reading without its state.
    pytest.param(CHARGING, charging(state=None), R.MISSING_FIELD, "state: is null",
                 id="missing-state"),
    # An event without a name.
    pytest.param(topics.event("smoke", "S-1"), body(), R.MISSING_FIELD, "event: is missing",
                 id="missing-event"),
    # ebike_detected requires the floor.
    pytest.param(topics.event("elevator", "E-1"),
                 body(event="ebike_detected", car="A", confidence=0.9, blocked=False),
                 R.MISSING_FIELD, "floor: is missing", id="missing-floor"),
    # Charging events require the port.
    pytest.param(topics.event("charging", "C-1"), body(event="short_circuit"), R.MISSING_FIELD,
                 "port: is missing", id="missing-port"),
    # power_off must name the command it answers.
    pytest.param(topics.event("charging", "C-1"), body(event="power_off", port=1),
                 R.MISSING_FIELD, "id: is missing", id="missing-command-id"),
    # ebike_load_detected carries its confidence.
    pytest.param(topics.event("charging", "C-1"), body(event="ebike_load_detected", port=0),
                 R.MISSING_FIELD, "confidence: is missing", id="missing-confidence"),
    # A heartbeat without firmware version.
    pytest.param(topics.status("smoke", "S-1"), body(rssi_dbm=-80), R.MISSING_FIELD,
                 "fw: is missing", id="missing-fw"),
    # Presence sensors report all three fields.
    pytest.param(OCCUPANCY, body(occupied=False, people=0), R.MISSING_FIELD,
                 "still_minutes: is missing", id="missing-still-minutes"),
    # A rectification without its case.
    pytest.param(SCAN, scan(scan_type="rectification"), R.MISSING_FIELD,
                 "case_id: is missing (a rectification", id="missing-case-id"),
    # An empty inspector names nobody.
    pytest.param(SCAN, scan(inspector=""), R.MISSING_FIELD, "inspector: is an empty string",
                 id="empty-inspector"),
    # A checklist line without its verdict.
    pytest.param(SCAN, scan(items=[{"item": "gas_safe"}]), R.MISSING_FIELD,
                 "items[0].ok: is missing", id="missing-item-ok"),
    # A scan without a checklist.
    pytest.param(SCAN, body(scan_type="self_check", inspector="OWN-1"), R.MISSING_FIELD,
                 "items: is missing", id="missing-items"),
    # A number sent as a string.
    pytest.param(SMOKE, smoke(smoke_obs="0.4"), R.WRONG_TYPE,
                 'smoke_obs: expected a number, got "0.4"', id="number-as-string"),
    # true is not a number.
    pytest.param(SMOKE, smoke(temp_c=True), R.WRONG_TYPE, "temp_c: expected a number, got true",
                 id="bool-as-number"),
    # 1 is not a boolean.
    pytest.param(SMOKE, smoke(alarm=1), R.WRONG_TYPE, "alarm: expected true or false, got 1",
                 id="int-as-bool"),
    # seq is an integer; 1.5 is not.
    pytest.param(SMOKE, smoke(seq=1.5), R.WRONG_TYPE, "seq: expected an integer, got 1.5",
                 id="seq-fraction"),
    # Nor is 3.0: integers are written as integers (see the README).
    pytest.param(SMOKE, smoke(seq=3.0), R.WRONG_TYPE, "seq: expected an integer, got 3.0",
                 id="seq-float"),
    # Integer fields reject booleans too.
    pytest.param(CHARGING, charging(port=True), R.WRONG_TYPE, "port: expected an integer",
                 id="port-bool"),
    # Epoch time must be integer milliseconds.
    pytest.param(SMOKE, smoke(ts=1746072000000.5), R.WRONG_TYPE, "ts: expected an RFC 3339",
                 id="ts-float"),
    # A payload device_id must be a string.
    pytest.param(SMOKE, smoke(device_id=1), R.WRONG_TYPE, "device_id: expected a string",
                 id="device-id-number"),
    # The checklist is an array ...
    pytest.param(SCAN, scan(items={"gas_safe": True}), R.WRONG_TYPE, "items: expected an array",
                 id="items-object"),
    # ... of objects.
    pytest.param(SCAN, scan(items=["gas_safe"]), R.WRONG_TYPE, "items[0]: expected an object",
                 id="item-string"),
    # A note is a string.
    pytest.param(SCAN, item(note=5), R.WRONG_TYPE, "items[0].note: expected a string",
                 id="item-note-number"),
    # More smoke than air: the lead's own example.
    pytest.param(SMOKE, smoke(smoke_obs=500.0), R.OUT_OF_RANGE,
                 "smoke_obs: 500.0 is outside 0..100 %/m", id="smoke-obs-500"),
    # Hotter than any building fire.
    pytest.param(SMOKE, smoke(temp_c=5000), R.OUT_OF_RANGE, "temp_c: 5000 is outside -60..1200 °C",
                 id="temp-5000"),
    # Above 100 % LEL is no longer a concentration a gas detector measures.
    pytest.param(GAS, gas(lel_pct=140), R.OUT_OF_RANGE, "lel_pct: 140 is outside 0..100 %LEL",
                 id="lel-over"),
    # A valve is open or closed.
    pytest.param(GAS, gas(valve="half"), R.UNKNOWN_STATE, "valve: \"half\" is not one of closed",
                 id="valve-state"),
    # Its alarm must say how much gas; the valve's answer must say which command.
    pytest.param(GAS_EVENT, body(event="alarm"), R.MISSING_FIELD, "lel_pct: is missing",
                 id="gas-alarm-no-lel"),
    pytest.param(GAS_EVENT, body(event="valve_closed"), R.MISSING_FIELD, "id: is missing",
                 id="valve-closed-no-id"),
    # A gas reading needs its concentration.
    pytest.param(GAS, body(alarm=False), R.MISSING_FIELD, "lel_pct: is missing", id="gas-no-lel"),
    # Colder than anywhere people live.
    pytest.param(CHARGING, charging(temp_c=-61), R.OUT_OF_RANGE, "temp_c: -61 is outside",
                 id="temp-minus-61"),
    # Relative humidity above saturation.
    pytest.param(SMOKE, smoke(humidity_pct=100.5), R.OUT_OF_RANGE, "humidity_pct: 100.5",
                 id="humidity"),
    # Negative concentration.
    pytest.param(SMOKE, smoke(co_ppm=-1), R.OUT_OF_RANGE, "co_ppm: -1 is outside 0..1000000 ppm",
                 id="co-negative"),
    # More than all of the gas.
    pytest.param(CHARGING, charging(h2_ppm=1_000_001), R.OUT_OF_RANGE, "h2_ppm", id="h2"),
    # 150 A through a socket.
    pytest.param(CHARGING, charging(current_a=150), R.OUT_OF_RANGE,
                 "current_a: 150 is outside 0..100 A", id="current"),
    # Above low voltage.
    pytest.param(CHARGING, charging(voltage_v=1500), R.OUT_OF_RANGE, "voltage_v", id="voltage"),
    # 150 kW.
    pytest.param(CHARGING, charging(power_w=150_000), R.OUT_OF_RANGE, "power_w", id="power"),
    # A negative charge.
    pytest.param(CHARGING, charging(energy_wh=-5), R.OUT_OF_RANGE, "energy_wh", id="energy"),
    # Ports are uint16.
    pytest.param(CHARGING, charging(port=70_000), R.OUT_OF_RANGE, "port: 70000", id="port"),
    # Off-gas sensors read concentrations, never below zero.
    pytest.param(CHARGING, charging(voc_ppm=-0.1), R.OUT_OF_RANGE, "voc_ppm: -0.1", id="voc"),
    # Over a year without moving.
    pytest.param(OCCUPANCY, body(occupied=True, people=1, still_minutes=600_000), R.OUT_OF_RANGE,
                 "still_minutes: 600000 is outside 0..525600 min", id="still-minutes"),
    # A negative head count.
    pytest.param(OCCUPANCY, body(occupied=True, people=-1, still_minutes=0), R.OUT_OF_RANGE,
                 "people: -1", id="people"),
    # A battery above full.
    pytest.param(topics.status("smoke", "S-1"), body(battery_pct=101, rssi_dbm=-80, fw="1"),
                 R.OUT_OF_RANGE, "battery_pct: 101 is outside 0..100 %", id="battery"),
    # Received power above 0 dBm.
    pytest.param(topics.status("smoke", "S-1"), body(rssi_dbm=12, fw="1"), R.OUT_OF_RANGE,
                 "rssi_dbm: 12 is outside -150..0 dBm", id="rssi"),
    # A probability above 1.
    pytest.param(topics.event("elevator", "E-1"),
                 body(event="ebike_detected", car="A", floor=3, confidence=1.2, blocked=True),
                 R.OUT_OF_RANGE, "confidence: 1.2 is outside 0..1", id="confidence"),
    # Floor 500.
    pytest.param(topics.event("elevator", "E-1"),
                 body(event="ebike_detected", car="A", floor=500, confidence=0.5, blocked=True),
                 R.OUT_OF_RANGE, "floor: 500", id="floor"),
    # Counters do not go below 0.
    pytest.param(SMOKE, smoke(seq=-1), R.OUT_OF_RANGE, "seq: -1 is outside 0..", id="seq-negative"),
    # A local time without its offset is ambiguous.
    pytest.param(SMOKE, smoke(ts="2025-05-01T12:00:00"), R.BAD_TIMESTAMP,
                 "is not RFC 3339 with an offset", id="ts-no-offset"),
    # ISO 8601 basic offsets are not RFC 3339.
    pytest.param(SMOKE, smoke(ts="2025-05-01T12:00:00+0800"), R.BAD_TIMESTAMP, "+0800",
                 id="ts-basic-offset"),
    # A date alone is not a time.
    pytest.param(SMOKE, smoke(ts="2025-05-01"), R.BAD_TIMESTAMP, "not RFC 3339", id="ts-date"),
    # There is no 30 February.
    pytest.param(SMOKE, smoke(ts="2025-02-30T00:00:00Z"), R.BAD_TIMESTAMP, "not a real time",
                 id="ts-february-30"),
    # Nor a 25th hour, in the less common spelling.
    pytest.param(SMOKE, smoke(ts="2025-05-01t25:00:00z"), R.BAD_TIMESTAMP, "not a real time",
                 id="ts-hour-25"),
    # An offset of 24 hours is no offset.
    pytest.param(SMOKE, smoke(ts="2025-05-01 12:00:00+24:00"), R.BAD_TIMESTAMP, "no real offset",
                 id="ts-offset-24"),
    # Ten minutes ahead of receipt, over a 5-minute limit.
    pytest.param(SMOKE, smoke(ts=NOW_MS + 600_000), R.TS_IN_FUTURE,
                 "is 10 min ahead of receipt (limit 5 min)", id="ts-future"),
    # Year 10000 and beyond cannot be held at all.
    pytest.param(SMOKE, smoke(ts=10**17), R.TS_IN_FUTURE, "outside the years", id="ts-far-future"),
    # Eight days old, over a 7-day limit.
    pytest.param(SMOKE, smoke(ts="2025-04-23T04:00:00Z"), R.TS_TOO_OLD,
                 "is 8 days before receipt (limit 7 days)", id="ts-old"),
    # Epoch seconds where milliseconds belong: 1970, with a hint.
    pytest.param(SMOKE, smoke(ts=NOW_MS // 1000), R.TS_TOO_OLD, "epoch seconds", id="ts-seconds"),
    # Not an event of smoke detectors.
    pytest.param(topics.event("smoke", "S-1"), body(event="explosion"), R.UNKNOWN_EVENT,
                 'event: "explosion" is not one of alarm, alarm_cleared', id="event-unknown"),
    # A charging event name sent by a smoke detector.
    pytest.param(topics.event("smoke", "S-1"), body(event="overtemp"), R.UNKNOWN_EVENT,
                 '"overtemp"', id="event-other-kind"),
    # Not a charging state.
    pytest.param(CHARGING, charging(state="boiling"), R.UNKNOWN_STATE,
                 'state: "boiling" is not one of charging, fault, full, idle', id="state"),
    # Not a scan type.
    pytest.param(SCAN, scan(scan_type="audit"), R.UNKNOWN_SCAN_TYPE, '"audit"', id="scan-type"),
]  # fmt: skip


@pytest.mark.parametrize(("topic", "payload", "reason", "detail"), BAD)
def test_rejected(topic: str, payload: bytes, reason: RejectReason, detail: str) -> None:
    outcome = decode(topic, payload, NOW, REGISTRY, LIMITS)
    assert isinstance(outcome, Rejected), outcome
    assert (outcome.reason, outcome.topic, outcome.payload) == (reason, topic, payload)
    assert outcome.received_at == NOW
    assert detail in outcome.detail, outcome.detail


def test_every_reason_has_a_sample() -> None:
    sampled = {param.values[2] for param in BAD}
    # store_refused is the store's verdict, not decode's: tested in test_pipeline.
    decoders = set(RejectReason) - {RejectReason.STORE_REFUSED}
    assert sampled == decoders, decoders - sampled


def test_every_bound_is_exercised() -> None:
    """Each bound in the table is tested: at least one row names its field as out of range."""
    out_of_range = [str(param.values[3]) for param in BAD if param.values[2] is R.OUT_OF_RANGE]
    missed = {name for name in BOUNDS if not any(d.startswith(name) for d in out_of_range)}
    assert not missed


def test_detail_cuts_long_values() -> None:
    outcome = decode(SMOKE, smoke(smoke_obs="x" * 500), NOW, REGISTRY, LIMITS)
    assert isinstance(outcome, Rejected)
    assert outcome.reason is R.WRONG_TYPE
    assert len(outcome.detail) < 120
    assert outcome.detail.endswith("…")


def test_naive_received_at_is_a_fault() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decode(SMOKE, smoke(), NOW.replace(tzinfo=None), REGISTRY, LIMITS)


@pytest.mark.parametrize(
    ("future", "age"),
    [
        pytest.param(-1, 60, id="negative-future"),  # a device ahead of us by -1 s makes no sense
        pytest.param(300, 0, id="zero-age"),  # nothing could ever be accepted
    ],
)
def test_limits_must_make_sense(future: int, age: int) -> None:
    with pytest.raises(ValueError, match="DecodeLimits"):
        DecodeLimits(max_future_s=future, max_age_s=age)


def test_nesting_up_to_the_limit_is_kept() -> None:
    nested = b"[" * 31 + b"7" + b"]" * 31  # inside the payload's object: 32 levels in all
    record = decode(SMOKE, smoke()[:-1] + b', "x": ' + nested + b"}", NOW, REGISTRY, LIMITS)
    assert isinstance(record, Reading), record
    assert json.dumps(record.extra["x"], separators=(",", ":")) == nested.decode()
