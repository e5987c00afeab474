"""Each scenario's ground truth agrees with its traffic (what the devices said, and when)."""

from __future__ import annotations

import json
from datetime import timedelta
from itertools import pairwise

import pytest

from firewatch.kernel import topics
from firewatch.kernel.contract import DeviceKind, VenueType
from firewatch.simulators import curves, naming
from firewatch.simulators.records import Outcome
from firewatch.simulators.scenarios import LIBRARY
from firewatch.simulators.scenarios.compose import SHANGHAI
from firewatch.simulators.scenarios.gas import stand_in_command
from tests.simulators.helpers import events, readings, run, since, statuses, truth, world

SEEDS = [1, 2, 3, 4]


def test_every_scenario_has_a_truth_that_frames_its_traffic() -> None:
    r = run()
    assert [t.scenario for t in r.truths] == list(LIBRARY)
    assert {t.expected for t in r.truths} == set(Outcome)
    venues = {v.venue_id: v for v in world().venues}
    owners = {d.device_id: d.venue_id for d in world().devices}
    for t in r.truths:
        assert t.start <= t.onset <= t.end and t.source and t.bound and t.what
        assert (t.bound_s is None) == (t.expected == Outcome.NOTHING), t.scenario
        assert t.venue_id in venues
        assert all(owners[d] == t.venue_id for d in t.device_ids), t.scenario
        mine = [m for m in r.messages if any(d in m.topic for d in (*t.device_ids, t.venue_id))]
        assert mine, t.scenario
        assert all(t.start <= m.at <= t.end for m in mine), t.scenario
    assert len({t.venue_id for t in r.truths}) == len(r.truths)  # one venue per scenario


def test_each_devices_seq_counts_up_in_time_and_restarts_only_on_reboot() -> None:
    r = run()
    last: dict[str, int] = {}
    for m in r.messages:
        parts = topics.parse(m.topic)
        assert parts is not None
        if parts.message_type in ("availability", "scan"):
            if m.payload == b"online":
                last.pop(parts.subject_id, None)  # a (re)connect: the counter may restart
            continue
        seq = json.loads(m.payload)["seq"]
        assert seq == last.get(parts.subject_id, -1) + 1 or parts.subject_id not in last, m
        last[parts.subject_id] = seq


@pytest.mark.parametrize("seed", SEEDS)
def test_a_flaming_fire_alarms_inside_its_window_with_a_fires_heat_rise(seed: int) -> None:
    r = run(("flaming_fire",), seed)
    t = truth(r, "flaming_fire")
    assert t.device_alarm_window_s is not None
    low, high = t.device_alarm_window_s
    lead = readings(r, t.device_ids[0])
    first = next(m for m, body in lead if body["alarm"])
    assert low <= since(t, first) <= high
    base = lead[0][1]["temp_c"]
    window = [b["temp_c"] for m, b in lead if 0 <= since(t, m) <= curves.FIRE_HEAT_WINDOW_S]
    assert max(window) - base >= curves.FIRE_HEAT_RISE_C
    # The next room's detector alarms too, later.
    second = next(m for m, body in readings(r, t.device_ids[1]) if body["alarm"])
    assert since(t, second) > since(t, first)


@pytest.mark.parametrize("seed", SEEDS)
def test_a_smoulder_shows_co_before_smoke_and_alarms_after_tens_of_minutes(seed: int) -> None:
    r = run(("smouldering_fire",), seed)
    t = truth(r, "smouldering_fire")
    lead = readings(r, t.device_ids[0])
    base_obs = lead[0][1]["smoke_obs"]
    smoke = next(m for m, b in lead if b["smoke_obs"] >= base_obs + 1.0)
    if "co_ppm" in lead[0][1]:
        co = next(m for m, b in lead if b["co_ppm"] >= lead[0][1]["co_ppm"] + 15)
        assert co.at < smoke.at
    alarm = next(m for m, b in lead if b["alarm"])
    assert t.device_alarm_window_s is not None
    assert t.device_alarm_window_s[0] <= since(t, alarm) <= t.device_alarm_window_s[1]
    assert max(b["temp_c"] for _, b in lead) - lead[0][1]["temp_c"] < 5.0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", ["cooking_fumes", "shower_steam", "dust_and_insects"])
def test_nuisances_never_show_a_fires_heat_rise(name: str, seed: int) -> None:
    r = run((name,), seed)
    t = truth(r, name)
    lead = readings(r, t.device_ids[0])
    base = lead[0][1]
    assert max(b["temp_c"] for _, b in lead) - base["temp_c"] < curves.FIRE_HEAT_RISE_C
    assert max(b["smoke_obs"] for _, b in lead) > base["smoke_obs"] + 1.0  # yet they are seen
    if name == "shower_steam" and "humidity_pct" in base:
        assert max(b["humidity_pct"] for _, b in lead) > 90.0
    if name == "dust_and_insects":
        obs = [b["smoke_obs"] for _, b in lead]
        spikes = [i for i, v in enumerate(obs) if v > base["smoke_obs"] + 5.0]
        assert spikes and all(obs[i - 1] < 2.0 and obs[i + 1] < 2.0 for i in spikes)
        assert not events(r, t.device_ids[0])  # one sample never alarms


def test_test_button_and_hush_come_in_order() -> None:
    r = run(("test_and_hush",))
    t = truth(r, "test_and_hush")
    names = [b["event"] for _, b in events(r, t.device_ids[0])]
    assert names == ["test", "alarm", "silenced", "alarm_cleared"]


@pytest.mark.parametrize("seed", SEEDS)
def test_thermal_runaway_heats_and_gasses_the_port_before_smoke(seed: int) -> None:
    r = run(("thermal_runaway",), seed)
    t = truth(r, "thermal_runaway")
    detector, station = t.device_ids
    overtemp = next(b for _, b in events(r, station) if b["event"] == "overtemp")
    port = [(m, b) for m, b in readings(r, station) if b["port"] == overtemp["port"]]
    hot = next(m for m, b in port if b["temp_c"] >= 60.0)
    gas = next(m for m, b in port if b["voc_ppm"] >= 50.0)
    smoke_readings = readings(r, detector)
    base = smoke_readings[0][1]["smoke_obs"]
    smoke = next(m for m, b in smoke_readings if b["smoke_obs"] >= base + 1.0)
    assert hot.at < gas.at < smoke.at
    assert 850.0 <= max(b["temp_c"] for _, b in port) <= 1100.0
    # The draw swings and creeps up before the port cuts power at its overtemperature limit.
    charging = [b["power_w"] for m, b in port if b["state"] == "charging" and since(t, m) < -400]
    anomaly = [b["power_w"] for m, b in port if -curves.TR_CURRENT_ANOMALY_S <= since(t, m) < -120]
    assert anomaly and max(anomaly) > 1.1 * max(charging[-20:])
    alarm = next(m for m, b in smoke_readings if b["alarm"])
    assert t.device_alarm_window_s is not None
    assert t.device_alarm_window_s[0] <= since(t, alarm) <= t.device_alarm_window_s[1]
    wills = [m for m in r.messages if m.will]
    assert [m.topic for m in wills] == [topics.availability("charging", station)]


def test_normal_charging_follows_cc_then_cv_to_full() -> None:
    r = run(("normal_charging",))
    station = truth(r, "normal_charging").device_ids[0]
    started = [b["port"] for _, b in events(r, station) if b["event"] == "charge_started"]
    completed = [b["port"] for _, b in events(r, station) if b["event"] == "charge_completed"]
    assert len(started) == 3 and sorted(started) == sorted(completed)
    for port in started:
        body = [b for _, b in readings(r, station) if b["port"] == port and b["state"] != "idle"]
        power = [b["power_w"] for b in body if b["state"] == "charging"]
        peak = power.index(max(power))
        assert all(a >= b - 1.0 for a, b in zip(power[peak:], power[peak + 1 :], strict=False))
        assert power[-1] < 0.2 * max(power)  # the CV taper
        energy = [b["energy_wh"] for b in body]
        assert energy == sorted(energy) and body[-1]["state"] == "full"


def test_overcurrent_trips_the_port() -> None:
    r = run(("overcurrent",))
    station = truth(r, "overcurrent").device_ids[0]
    trip = next((m, b) for m, b in events(r, station) if b["event"] == "overcurrent")
    after = next(
        b for m, b in readings(r, station) if b["port"] == trip[1]["port"] and m.at >= trip[0].at
    )
    assert after["state"] == "fault" and after["current_a"] == 0.0


def test_indoor_charging_happens_at_night_and_is_recognised() -> None:
    r = run(("indoor_charging",))
    t = truth(r, "indoor_charging")
    assert t.onset.astimezone(SHANGHAI).hour in (22, 23)
    seen = [b for _, b in events(r, t.device_ids[0]) if b["event"] == "ebike_load_detected"]
    assert len(seen) == 1 and seen[0]["port"] == 0
    assert curves.LOAD_CONFIDENCE[0] <= seen[0]["confidence"] <= curves.LOAD_CONFIDENCE[1]


def test_a_repeat_offender_rides_the_lifts_among_strangers() -> None:
    r = run(("ebike_in_lift",))
    t = truth(r, "ebike_in_lift")
    rides = [b for d in t.device_ids for _, b in events(r, d) if b["event"] == "ebike_detected"]
    floors = [b["floor"] for b in rides]
    top = max(set(floors), key=floors.count)
    assert floors.count(top) >= curves.LIFT_OFFENDER_RIDES
    left = sum(1 for d in t.device_ids for _, b in events(r, d) if b["event"] == "ebike_left")
    assert left == len(rides)


def test_a_sleeper_lies_still_for_hours_a_night_shift_keeps_moving() -> None:
    r = run(("sleeping_in_shop", "night_shift"))
    sleeper = truth(r, "sleeping_in_shop")
    still = [b["still_minutes"] for _, b in readings(r, sleeper.device_ids[0])]
    assert max(still) >= 300
    assert sleeper.onset.astimezone(SHANGHAI).strftime("%H:%M") == "23:45"
    shift = truth(r, "night_shift")
    body = [b for _, b in readings(r, shift.device_ids[0])]
    assert all(b["occupied"] for b in body)
    assert max(b["still_minutes"] for b in body) <= curves.STILL_AWAKE_MAX_MIN


def test_troubles_show_in_the_traffic() -> None:
    r = run(("tamper", "low_battery", "offline", "stuck_sensor", "slow_drift"))
    tamper = truth(r, "tamper")
    assert [b["event"] for _, b in events(r, tamper.device_ids[0])] == ["tamper"]
    low = truth(r, "low_battery")
    warned = next(m for m, b in events(r, low.device_ids[0]) if b["event"] == "low_battery")
    assert 0 <= since(low, warned) <= 600  # at the first heartbeat after the crossing
    charge = [b["battery_pct"] for _, b in statuses(r, low.device_ids[0])]
    assert charge == sorted(charge, reverse=True) and charge[-1] < curves.LOW_BATTERY_PCT
    offline = truth(r, "offline")
    mine = [m for m in r.messages if offline.device_ids[0] in m.topic]
    will = next(i for i, m in enumerate(mine) if m.will)
    assert since(offline, mine[will]) == pytest.approx(1.5 * curves.KEEPALIVE_S)
    assert mine[will + 1].payload == b"online"  # nothing between the will and the reboot
    assert json.loads(mine[will + 2].payload)["seq"] == 0
    stuck = truth(r, "stuck_sensor")
    frozen = {
        (b["smoke_obs"], b["temp_c"])
        for m, b in readings(r, stuck.device_ids[0])
        if m.at > stuck.onset
    }
    assert len(frozen) == 1
    drift = truth(r, "slow_drift")
    obs = [b["smoke_obs"] for _, b in readings(r, drift.device_ids[0])]
    assert obs[-1] - obs[0] > 3.0
    assert [b["event"] for _, b in events(r, drift.device_ids[0])] == ["fault"]


def test_an_inspection_fails_items_and_a_rectification_answers_it() -> None:
    r = run(("inspection_rectification",))
    t = truth(r, "inspection_rectification")
    scans = [json.loads(m.payload) for m in r.messages if m.topic == topics.scan(t.venue_id)]
    assert [s["scan_type"] for s in scans] == ["self_check", "inspection", "rectification"]
    failed = [i["item"] for i in scans[1]["items"] if not i["ok"]]
    assert len(failed) == 3
    assert [i["item"] for i in scans[2]["items"]] == failed and scans[2]["case_id"]


@pytest.mark.parametrize("seed", SEEDS)
def test_a_gas_leak_passes_25_pct_lel_until_the_valve_shuts_then_disperses(seed: int) -> None:
    r = run(("gas_leak",), seed)
    t = truth(r, "gas_leak")
    assert (t.expected, t.bound_s) == (Outcome.ALARM, curves.GAS_BOUND_S)
    assert world().venue(t.venue_id).venue_type == VenueType.SMALL_RESTAURANT
    (detector,) = t.device_ids
    registered = next(d for d in world().devices if d.device_id == detector)
    assert registered.kind == DeviceKind.GAS and naming.has_valve(registered.location)
    lel = readings(r, detector)
    leak = t.start + timedelta(seconds=curves.LEAD_IN_S)
    quiet = [b["lel_pct"] for m, b in lel if m.at < leak]
    assert quiet and all(0.0 <= v <= 3.0 for v in quiet)
    shut, answer = next((m, b) for m, b in events(r, detector) if b["event"] == "valve_closed")
    assert answer["id"] == stand_in_command(detector)
    before = [(m, b) for m, b in lel if m.at < shut.at]
    crossed = next(m for m, b in before if b["lel_pct"] > 25.0)  # it builds past 25 % ...
    assert since(t, crossed) > 0 and all(b["valve"] == "open" for _, b in before)
    held = [b["lel_pct"] for m, b in before if m.at >= crossed.at]
    assert min(held) > 23.0  # ... and stays up while the valve feeds it
    after = [(m, b) for m, b in lel if m.at > shut.at]
    assert all(b["valve"] == "closed" for _, b in after)
    low = next(m for m, b in after if b["lel_pct"] < curves.GAS_FAST_LEL)
    assert 30 <= (low.at - shut.at).total_seconds() <= 120  # it disperses over a minute or two
    settled = shut.at + timedelta(seconds=120)
    assert all(b["lel_pct"] < curves.GAS_FAST_LEL for m, b in after if m.at >= settled)
    # The detector's own alarm: at the setpoint around the onset, cleared after the valve shut.
    first = next(m for m, b in lel if b["alarm"])
    assert t.device_alarm_window_s is not None
    assert t.device_alarm_window_s[0] <= since(t, first) <= t.device_alarm_window_s[1]
    names = [(m.at, b["event"]) for m, b in events(r, detector)]
    assert [n for _, n in names] == ["alarm", "valve_closed", "alarm_cleared"]
    assert names[2][0] < low.at
    # While the gas is up the detector reports every 5 s, so the engine sees it building.
    fast = [m.at for m, b in lel if t.onset <= m.at <= shut.at]
    assert max((b - a).total_seconds() for a, b in pairwise(fast)) <= curves.GAS_FAST_S


@pytest.mark.parametrize("seed", SEEDS)
def test_cooking_vapour_spikes_for_seconds_and_its_alarm_clears_at_once(seed: int) -> None:
    r = run(("cooking_vapour",), seed)
    t = truth(r, "cooking_vapour")
    assert (t.expected, t.bound_s) == (Outcome.NOTHING, None)
    (detector,) = t.device_ids
    lel = readings(r, detector)
    top = curves.VAPOUR_PEAK_LEL[1] + curves.GAS_AMBIENT_LEL[1] + 5 * curves.GAS_NOISE_LEL
    assert curves.VAPOUR_ALARM_PEAK_LEL[0] <= max(b["lel_pct"] for _, b in lel) <= top
    # Each puff (minutes apart): readings over 5 % LEL for less than a minute, then quiet again.
    puffs: list[list[float]] = []
    for m, b in lel:
        if b["lel_pct"] >= curves.GAS_FAST_LEL:
            if not puffs or since(t, m) - puffs[-1][-1] > curves.VAPOUR_GAP_S[0] / 2:
                puffs.append([])
            puffs[-1].append(since(t, m))
    assert len(puffs) == curves.VAPOUR_BURSTS
    assert all(p[-1] - p[0] < 60.0 for p in puffs)
    names = [(m.at, b["event"]) for m, b in events(r, detector)]
    assert names and [n for _, n in names] == ["alarm", "alarm_cleared"] * (len(names) // 2)
    assert all(
        (b[0] - a[0]).total_seconds() < 40.0 for a, b in zip(names[::2], names[1::2], strict=True)
    )
