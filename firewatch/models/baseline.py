"""Per-device robust baselines: how far each metric is from what this device usually reads.

A `RobustBaseline` keeps, per metric, a baseline that follows slow change (an EWMA whose steps
are clipped to a few deviations, so that an outlier or a fire barely moves it) and a robust
deviation (an EWMA of clipped absolute deviations, a running stand-in for the MAD). It scores an
observation by its largest deviation in robust units. With `by_hour` it keeps one baseline per
local hour of day (the observation then carries `hour`, 0-23): a shop's socket is warmer in the
evening than at dawn. On the hot path the same `Channel` arithmetic runs inside
`models.features.FeatureTracker`; this class is the detector-shaped face of it.

>>> import random
>>> rng = random.Random(7)
>>> detector = RobustBaseline(floors={"temp_c": 0.3})
>>> detector.score_one({"temp_c": 80.0})  # nothing learnt yet: warm-up
0.0
>>> for i in range(200):
...     detector.learn_one({"t": 60.0 * i, "temp_c": 24.0 + rng.gauss(0, 0.2)})
>>> round(detector.score_one({"t": 12000.0, "temp_c": 24.1}), 1) < 2
True
>>> detector.score_one({"t": 12000.0, "temp_c": 35.0}) > 10
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from firewatch.models.detector import Features
from firewatch.models.features import WARM_UP, Channel

DEFAULT_FLOOR: Final = 0.5
TIME_KEY: Final = "t"  # seconds (any epoch) at which the observation was made
HOUR_KEY: Final = "hour"


class RobustBaseline:
    """Median/MAD-like baselines of every metric it is shown, per hour of day if asked."""

    def __init__(self, floors: Mapping[str, float] | None = None, *, by_hour: bool = False) -> None:
        self.floors = dict(floors or {})
        self.by_hour = by_hour
        self._channels: dict[tuple[str, int], Channel] = {}
        self._seen = 0

    def _slot(self, x: Features) -> int:
        return int(x.get(HOUR_KEY, 0.0)) % 24 if self.by_hour else 0

    def learn_one(self, x: Features) -> None:
        t = x.get(TIME_KEY, float(self._seen))
        self._seen += 1
        slot = self._slot(x)
        for name, value in x.items():
            if name in (TIME_KEY, HOUR_KEY):
                continue
            channel = self._channels.get((name, slot))
            if channel is None:
                floor = self.floors.get(name, DEFAULT_FLOOR)
                channel = self._channels[(name, slot)] = Channel(floor)
            channel.update(t, value)

    def score_one(self, x: Features) -> float:
        slot = self._slot(x)
        worst = 0.0
        for name, value in x.items():
            channel = self._channels.get((name, slot))
            if channel is None or channel.n <= WARM_UP:
                continue
            z = abs(channel.z(value - channel.base))
            worst = max(worst, z)
        return worst
