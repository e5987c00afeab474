"""A stand-in for the rules stage (issue 5, built in parallel): three plain rules that turn
decoded records into the evidence alerting consumes, so the scenario library can be played
through alerting before the real rules exist. They are deliberately simple — no tuning against
the scenarios' nuisances; telling a nuisance from a fire is alerting's verification's job here.

- smoke_heat_rise (red fire): smoke at the alarm level and the ceiling >= 10 °C warmer than
  its coolest reading of the last 180 s (the heat rise every flaming fire shows);
- co_high (orange fire): CO >= 50 ppm at a smoke detector;
- thermal_runaway (red fire): a charging port with off-gas (CO, H2, VOC) >= 100 ppm, or a pack
  surface >= 90 °C; names the port.

A rule speaks at most once a minute per device, like a rule engine's hold-off.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from firewatch.contract import DeviceKind, Level
from ingest.records import Decoded, Reading
from rules.evidence import Category, Evidence, ReadingRef, Scope

HEAT_WINDOW = timedelta(seconds=180)
HOLD = timedelta(seconds=60)


class StandinRules:
    def __init__(self) -> None:
        self._temps: dict[str, deque[tuple[datetime, float]]] = {}
        self._spoke: dict[tuple[str, str], datetime] = {}

    def _once(self, rule: str, r: Reading) -> bool:
        last = self._spoke.get((rule, r.device_id))
        if last is not None and r.ts - last < HOLD:
            return False
        self._spoke[(rule, r.device_id)] = r.ts
        return True

    def _evidence(self, rule: str, level: Level, r: Reading, fields: tuple[str, ...],
                  summary: str) -> Evidence:  # fmt: skip
        refs = tuple(ReadingRef(r.device_id, r.ts, r.seq, f, getattr(r, f)) for f in fields)
        return Evidence(rule, 1, Category.FIRE, level, Scope.DEVICE, r.device_id, r.venue_id,
                        (r.device_id,), r.ts, summary, refs)  # fmt: skip

    def take(self, record: Decoded) -> list[Evidence]:
        if not isinstance(record, Reading):
            return []
        if record.kind == DeviceKind.SMOKE:
            return self._smoke(record)
        if record.kind == DeviceKind.CHARGING:
            return self._charging(record)
        return []

    def _smoke(self, r: Reading) -> list[Evidence]:
        out = []
        temps = self._temps.setdefault(r.device_id, deque())
        if r.temp_c is not None:
            temps.append((r.ts, r.temp_c))
            while temps and r.ts - temps[0][0] > HEAT_WINDOW:
                temps.popleft()
        rise = (r.temp_c - min(t for _, t in temps)) if temps and r.temp_c is not None else 0.0
        if (r.smoke_obs or 0) >= 10 and rise >= 10 and self._once("smoke_heat_rise", r):
            out.append(self._evidence("smoke_heat_rise", Level.RED, r, ("smoke_obs", "temp_c"),
                                      f"smoke {r.smoke_obs} %/m, +{rise:.0f} °C"))  # fmt: skip
        if (r.co_ppm or 0) >= 50 and self._once("co_high", r):
            out.append(self._evidence("co_high", Level.ORANGE, r, ("co_ppm",),
                                      f"CO {r.co_ppm} ppm"))  # fmt: skip
        return out

    def _charging(self, r: Reading) -> list[Evidence]:
        gas = max(r.co_ppm or 0, r.h2_ppm or 0, r.voc_ppm or 0)
        if (gas >= 100 or (r.temp_c or 0) >= 90) and self._once("thermal_runaway", r):
            return [self._evidence("thermal_runaway", Level.RED, r,
                                   ("port", "temp_c", "voc_ppm", "h2_ppm"),
                                   f"port {r.port}: off-gas {gas:.0f} ppm, {r.temp_c} °C")]  # fmt: skip
        return []
