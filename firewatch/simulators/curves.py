"""Every curve parameter of the simulators, in one place, with where its number comes from.

Measured sources (read them in ../shared/data, see its README.md):
- NIST home smoke alarm tests SDC02/05/33/35 (flaming fires in a furnished house, room of
  origin): ceiling smoke meter SME_1 reaches 0.05 OD/m (~11 %/m) 40 s after ignition and 2.0 OD/m
  at 200 s; ceiling temperature TCE_1 +30 °C at 100 s, about +100 °C at 190 s; CO ~200 ppm at
  150 s; first ionisation alarms 20-43 s, first photoelectric 42-108 s after ignition.
- UL FSRI Li-ion cell experiment (30 x 18650 at 100 % SOC): hydrocarbons lead the labelled
  runaway onset by ~5 s, CO ~9 s and H2 / CO2 ~14 s after it; neighbouring cells stay near room
  temperature until ~60 s after onset, then climb to 900-1,100 °C within ~20 s; flaming 38 s
  after onset.
Described, not measured here (shapes follow the standards' descriptions; the numbers are
plausible choices, marked "assumed"): UL 217 / EN 54-7 smouldering test fires TF2 (wood
pyrolysis) and TF3 (smouldering cotton) — tens of minutes, CO before visible smoke, almost no
heat; cooking, steam and dust nuisances; the self-heating minutes before a pack vents; e-bike
charge curves (constant current, then constant voltage); a kitchen's gas leak and the alcohol
vapour of a flambé, as a combustible-gas detector sees them (% LEL).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Square:
    """`rate * (t - delay)^2` after `delay`, capped: the t-squared growth of a young fire."""

    delay_s: float
    rate: float
    cap: float

    def at(self, t: float, *, speed: float = 1.0, shift_s: float = 0.0) -> float:
        lag = t - self.delay_s - shift_s
        return 0.0 if lag <= 0 else min(self.cap, self.rate * speed * lag * lag)


@dataclass(frozen=True, slots=True)
class Puff:
    """A gas puff: starts `lead_s` after onset (negative: before), rises, then decays."""

    lead_s: float
    rise_s: float
    peak: float
    decay_s: float

    def at(self, t: float) -> float:
        lag = t - self.lead_s
        if lag <= 0:
            return 0.0
        if lag <= self.rise_s:
            return self.peak * lag / self.rise_s
        return self.peak * math.exp(-(lag - self.rise_s) / self.decay_s)


def pulse(
    t: float, *, start: float, length: float, peak: float, rise_s: float, decay_s: float
) -> float:
    """A nuisance aerosol: first-order rise while the source lasts, exponential decay after."""
    if t <= start:
        return 0.0
    if t <= start + length:
        return peak * (1 - math.exp(-(t - start) / rise_s))
    top = peak * (1 - math.exp(-length / rise_s))
    return top * math.exp(-(t - start - length) / decay_s)


def obscuration(od_per_m: float) -> float:
    """Optical density per metre (NIST smoke meters) to obscuration in % per metre."""
    return 100.0 * (1.0 - math.pow(10.0, -od_per_m))


# --- What a detector decides (device side) ---------------------------------------------------
SMOKE_ALARM_OBS: Final = 10.0
"""%/m: a photoelectric alarm level of ~3 %/ft, inside UL 217's 0.5-4 %/ft sensitivity range."""
SMOKE_CLEAR_OBS: Final = 6.0
HUSH_ALARM_OBS: Final = 25.0  # hush raises the alarm level for HUSH_S (UL 217 "alarm silence")
HUSH_S: Final = 600.0
HEAT_ALARM_C: Final = 57.0  # fixed-temperature heat element, EN 54-5 class A1
LOW_BATTERY_PCT: Final = 15.0
DRIFT_FAULT_OBS: Final = 3.0  # %/m of chamber drift beyond which compensation gives up (assumed)

# --- Room before anything happens (assumed, typical indoor ranges) ---------------------------
AMBIENT_OBS: Final = (0.05, 0.4)
AMBIENT_TEMP_C: Final = (18.0, 28.0)
AMBIENT_HUMIDITY: Final = (45.0, 75.0)
AMBIENT_CO_PPM: Final = (0.0, 3.0)
LEAD_IN_S: Final = 300.0  # normal readings before each incident, so the engine has a baseline

# --- Flaming fire: NIST SDC02/05/33/35, room of origin ---------------------------------------
FLAMING_OD: Final = Square(delay_s=0.0, rate=5.6e-5, cap=4.4)  # OD/m; 0.05 at 40 s, 2 at 200 s
FLAMING_HEAT: Final = Square(delay_s=0.0, rate=3.7e-3, cap=600.0)  # °C rise; +30 at 100 s
FLAMING_CO: Final = Square(delay_s=0.0, rate=0.01, cap=2000.0)  # ppm; ~200 at 150 s
FLAMING_DELAY_S: Final = (6.0, 20.0)  # transport to the ceiling detector (run-to-run)
FLAMING_SPEED: Final = (0.6, 1.6)  # growth-rate multiplier across the four tests
FLAMING_NEIGHBOUR: Final = (30.0, 0.35)  # next room: extra delay s, density scale (SMD vs SME)
FLAMING_DURATION_S: Final = 300.0
FLAMING_ALARM_WINDOW_S: Final = (20.0, 120.0)  # first alarms 20-108 s after ignition
FLAMING_BOUND_S: Final = 120
FIRE_HEAT_RISE_C: Final = 10.0
"""A ceiling heat rise a flaming fire always shows within FIRE_HEAT_WINDOW_S (NIST: +9..+30 °C
at 100 s); no nuisance source reaches it."""
FIRE_HEAT_WINDOW_S: Final = 180.0

# --- Smouldering fire: UL 217 smoldering test, EN 54-7 TF2 / TF3 (shapes; numbers assumed) ---
SMOULDER_CO_PPM_S: Final = 0.1  # CO first: 6 ppm a minute from onset
SMOULDER_OD: Final = Square(delay_s=240.0, rate=6.5e-8, cap=1.0)  # smoke after 4 min, slowly
SMOULDER_HEAT_C_S: Final = 8.3e-4  # +0.05 °C a minute: a smoulder barely warms the ceiling
SMOULDER_SPEED: Final = (0.6, 1.6)
SMOULDER_DURATION_S: Final = 2700.0
SMOULDER_ALARM_WINDOW_S: Final = (600.0, 2400.0)  # detector alarm after 15-22 min here
SMOULDER_BOUND_S: Final = 1800

# --- Nuisances (no measured curve in shared/data; shapes from how photoelectric chambers react)
COOKING_EPISODES: Final = 3
COOKING_LENGTH_S: Final = (120.0, 300.0)
COOKING_GAP_S: Final = (300.0, 900.0)
COOKING_PEAK_OBS: Final = (3.0, 14.0)  # frying aerosol; the worst episodes trip the detector
COOKING_HEAT_C: Final = (1.0, 3.5)
COOKING_HUMIDITY: Final = (5.0, 15.0)
COOKING_CO_PPM: Final = (0.0, 8.0)  # a gas hob
STEAM_LENGTH_S: Final = (600.0, 1200.0)
STEAM_PEAK_OBS: Final = (1.5, 6.0)  # droplets scatter light like smoke
STEAM_HUMIDITY: Final = 97.0
STEAM_HEAT_C: Final = (3.0, 6.0)
NUISANCE_RISE_S: Final = 40.0
NUISANCE_DECAY_S: Final = 90.0
SPIKE_OBS: Final = (8.0, 25.0)  # one sample: an insect or a dust puff in the chamber
SPIKES: Final = 3
SPIKE_SPAN_S: Final = 7200.0

# --- Device troubles (assumed) ---------------------------------------------------------------
LOW_BATTERY_START_PCT: Final = 17.0
LOW_BATTERY_PCT_PER_H: Final = 1.0
TROUBLE_SPAN_S: Final = 6 * 3600.0
DRIFT_SPAN_S: Final = 24 * 3600.0
DRIFT_TO_OBS: Final = 4.0  # dust in the chamber lifts the baseline this much over DRIFT_SPAN_S
DRIFT_REPORT_S: Final = 600.0  # an NB-IoT detector's periodic report
KEEPALIVE_S: Final = 60  # a broker publishes the Last Will 1.5 keep-alives after silence

# --- E-bike charging: CC then CV (assumed: 48 V packs, 2-3 A chargers) ------------------------
MAINS_V: Final = 220.0
CHARGER_CC_W: Final = (150.0, 230.0)  # AC power while the pack takes constant current
CHARGER_EFFICIENCY: Final = 0.88
PACK_WH: Final = (480.0, 960.0)  # 48 V, 10-20 Ah
PACK_START_SOC: Final = (0.3, 0.7)
CV_SOC: Final = 0.8  # constant voltage from here; the current then decays exponentially
CV_TAU_S: Final = 1800.0
FULL_W: Final = 8.0  # below this the charger reports the pack full
CHARGING_SURFACE_RISE_C: Final = (3.0, 8.0)
PORT_LIMIT_A: Final = 5.0  # the port's breaker trips above this (an overcurrent event)
OVERCURRENT_A: Final = (6.0, 9.0)  # a modified pack or a high-power charger
LOAD_RECOGNITION_S: Final = 120.0  # an indoor meter needs a couple of minutes of signature
LOAD_CONFIDENCE: Final = (0.85, 0.97)

# --- Thermal runaway of a charging pack: UL FSRI cell experiment (venting onward) -------------
TR_PREHEAT_S: Final = 720.0  # assumed: self-heating minutes before venting (internal short)
TR_PREHEAT_TAU_S: Final = 240.0  # accelerating: exponential in time
TR_VENT_SURFACE_C: Final = 95.0  # assumed: pack surface temperature when it vents
TR_CURRENT_ANOMALY_S: Final = 300.0  # the last minutes: the draw swings and creeps up
TR_CURRENT_SWING: Final = 0.35
TR_CURRENT_CREEP: Final = 0.25
PORT_OVERTEMP_C: Final = 70.0  # the port cuts power; self-heating goes on regardless
TR_VOC: Final = Puff(lead_s=-5.0, rise_s=12.0, peak=900.0, decay_s=40.0)  # THC leads onset
TR_CO: Final = Puff(lead_s=9.0, rise_s=12.0, peak=450.0, decay_s=60.0)
TR_H2: Final = Puff(lead_s=14.0, rise_s=10.0, peak=700.0, decay_s=45.0)
TR_HEAT_DELAY_S: Final = 60.0  # cells climb ~60 s after onset (1,765 s vs 1,701 s)
TR_HEAT_RISE_S: Final = 20.0  # ... to 900-1,100 °C in about 20 s
TR_PEAK_C: Final = (900.0, 1080.0)
TR_FLAMING_S: Final = 38.0  # flaming 38 s after onset (1,739 s vs 1,701 s)
TR_SMOKE_OD: Final = Square(delay_s=12.0, rate=1.1e-4, cap=4.0)  # vent gas cloud at the shed
TR_SPEED: Final = (0.6, 1.6)
TR_AFTER_S: Final = 300.0
TR_PORT_LOST_S: Final = 150.0  # the burning station's electronics die; its Last Will follows
TR_ALARM_WINDOW_S: Final = (10.0, 90.0)
TR_BOUND_S: Final = 60

# --- Lifts, night presence (assumed) ---------------------------------------------------------
LIFT_BACKGROUND_PER_H: Final = 0.5
LIFT_OFFENDER_RIDES: Final = 3
LIFT_CONFIDENCE: Final = (0.75, 0.98)
LIFT_DWELL_S: Final = (15.0, 90.0)
LIFT_BLOCK_RATE: Final = 0.8  # share of detections where the door is held and a warning plays
STILL_AWAKE_MAX_MIN: Final = 8  # someone working moves at least this often


# --- Combustible gas in restaurant kitchens (可燃气体探测器; assumed shapes and numbers) -------
# Concentrations are in % of the lower explosive limit (LEL): LPG (propane, LEL ~2.1 % by volume)
# or town gas. No measured curve in shared/data; the shapes follow a room's mass balance.
GAS_ALARM_LEL: Final = 20.0
"""The detector's own (low) alarm setpoint. GB 15322.1 lets it be set between 1 and 25 % LEL and
GB/T 50493 wants the first alarm at or below 25 % LEL (the contract: at most 25); 20 % is a
common factory setting of kitchen detectors."""
GAS_CLEAR_LEL: Final = 18.0
"""Assumed: the alarm clears 2 % LEL under the setpoint, so that sensor noise around the
setpoint does not make the detector chatter alarm / cleared."""
GAS_FAST_LEL: Final = 5.0  # at or above: a reading every GAS_FAST_S (detectors report faster)
GAS_QUIET_S: Final = 60.0  # a quiet kitchen: one reading a minute
GAS_FAST_S: Final = 5.0
GAS_SAMPLE_S: Final = 1.0
"""The sensing element is read every second (point detectors must alarm within 30 s of
exposure); readings go out at the pace above, alarm changes at once."""
GAS_AMBIENT_LEL: Final = (0.0, 2.0)
"""A quiet kitchen: the catalytic cell's zero offset and burners being lit; with the noise
below, readings stay within 0-3 % LEL."""
GAS_NOISE_LEL: Final = 0.3  # sigma of a reading, % LEL (catalytic cells: +-3 % LEL accuracy)
GAS_LEAK_RATE: Final = (0.12, 0.25)
"""% LEL per second at the detector while a hose or valve leaks: a commercial LPG regulator
(2-5 m3/h) leaking part of its flow into a ~30 m3 back kitchen, the heavy gas pooling at the
low-mounted detector. Well mixed and unventilated, the concentration grows linearly: from the
quiet level past 25 % LEL in 1.5-3.5 min, and 20 -> 25 % within 20-42 s."""
GAS_LEAK_CAP: Final = (45.0, 70.0)
"""Where the leak would level off (inflow = what doors and the hood carry away) if the valve
were never closed."""
GAS_CLOSE_AFTER_S: Final = 60.0
"""The leak scenario's script closes the valve this long after the gas reaches the alarm
setpoint: the engine's bound (GAS_BOUND_S) to confirm and command it."""
GAS_DISPERSE_S: Final = (20.0, 40.0)
"""Time constant of the decay once the source is shut (hood on, door open): from the 27-35 %
LEL of the moment the valve closes, below 5 % within 40-100 s."""
GAS_AFTER_S: Final = 600.0  # the scenario goes on this long after the valve closed
GAS_BOUND_S: Final = 60
GAS_ALARM_WINDOW_S: Final = (-10.0, 10.0)
"""When the detector's first alarm reading comes, around the moment the true concentration
reaches the setpoint: one sample later, or a few seconds early or late with the noise."""
# Cooking wine or spirits poured into a hot wok (flambé): a short puff of alcohol vapour, which
# a catalytic cell reads as combustible gas (ethanol's LEL is 3.3 % by volume).
VAPOUR_BURSTS: Final = 3
VAPOUR_PEAK_LEL: Final = (12.0, 30.0)  # some bursts cross the setpoint, briefly
VAPOUR_ALARM_PEAK_LEL: Final = (22.0, 30.0)  # one burst of each service surely does
VAPOUR_RISE_S: Final = 2.0  # the puff reaches the detector almost at once
VAPOUR_HOLD_S: Final = (5.0, 20.0)  # the flame burns the alcohol off in seconds
VAPOUR_FADE_S: Final = (5.0, 12.0)  # decay constant: below 5 % LEL well within a minute
VAPOUR_GAP_S: Final = (240.0, 720.0)  # between two dishes
VAPOUR_TAIL_S: Final = 600.0


def leak_lel(t: float, *, rate: float, cap: float, closed_s: float | None, fade_s: float) -> float:
    """% LEL a leak adds `t` s after it started: linear up to `cap`; after the valve closes
    (`closed_s` after the start; None: still open), an exponential decay."""
    if t <= 0:
        return 0.0
    if closed_s is None or t <= closed_s:
        return min(cap, rate * t)
    top = min(cap, rate * max(closed_s, 0.0))
    return top * math.exp(-(t - closed_s) / fade_s)


def vapour_lel(t: float, *, start: float, peak: float, hold_s: float, fade_s: float) -> float:
    """% LEL of one alcohol-vapour puff: up to `peak` in VAPOUR_RISE_S, held, then fading."""
    lag = t - start
    if lag <= 0:
        return 0.0
    if lag <= VAPOUR_RISE_S:
        return peak * lag / VAPOUR_RISE_S
    if lag <= VAPOUR_RISE_S + hold_s:
        return peak
    return peak * math.exp(-(lag - VAPOUR_RISE_S - hold_s) / fade_s)


def self_heating(t: float, start_c: float) -> float:
    """Pack surface temperature `t` s into the self-heating stage (venting at TR_PREHEAT_S)."""
    if t <= 0:
        return start_c
    grow = (math.exp(t / TR_PREHEAT_TAU_S) - 1) / (math.exp(TR_PREHEAT_S / TR_PREHEAT_TAU_S) - 1)
    return start_c + (TR_VENT_SURFACE_C - start_c) * grow


def runaway_heat(t_after_vent: float, vent_c: float, peak_c: float) -> float:
    """Temperature after venting: flat until TR_HEAT_DELAY_S, then up to the peak in ~20 s."""
    lag = t_after_vent - TR_HEAT_DELAY_S
    if lag <= 0:
        return vent_c + 0.1 * max(t_after_vent, 0.0)
    return vent_c + (peak_c - vent_c) * min(1.0, lag / TR_HEAT_RISE_S)


def charge_power(t: float, cc_w: float, cc_s: float) -> float:
    """AC power `t` s into a charge: flat (CC) until `cc_s`, then an exponential CV taper."""
    if t < 0:
        return 0.0
    if t <= cc_s:
        return cc_w * (0.92 + 0.08 * t / max(cc_s, 1.0))  # pack voltage rises under CC
    return cc_w * math.exp(-(t - cc_s) / CV_TAU_S)


def charge_energy(t: float, cc_w: float, cc_s: float) -> float:
    """Wh drawn `t` s into a charge: the integral of `charge_power`."""
    if t <= 0:
        return 0.0
    cc = min(t, cc_s)
    wh = cc_w * (0.92 * cc + 0.04 * cc * cc / max(cc_s, 1.0)) / 3600.0
    if t > cc_s:
        wh += cc_w * CV_TAU_S * (1 - math.exp(-(t - cc_s) / CV_TAU_S)) / 3600.0
    return wh


def charge_seconds(cc_w: float, pack_wh: float, start_soc: float) -> tuple[float, float]:
    """(seconds of constant current, seconds until the charger reports full) for one pack."""
    cc_s = max(0.0, CV_SOC - start_soc) * pack_wh * 3600.0 / (cc_w * CHARGER_EFFICIENCY)
    return cc_s, cc_s + CV_TAU_S * math.log(cc_w / FULL_W)
