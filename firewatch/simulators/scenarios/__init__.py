"""The scenario library: real fires, nuisances, device troubles, charging, people, scans.

Each scenario is a function of a `Context` that returns its `Script`: the timestamped traffic
and the ground truth. `compose` puts several on one timeline for a run.
"""

from firewatch.simulators.scenarios.compose import Run, compose, resolve
from firewatch.simulators.scenarios.context import Context, ScenarioSpec
from firewatch.simulators.scenarios.library import LIBRARY

__all__ = ["LIBRARY", "Context", "Run", "ScenarioSpec", "compose", "resolve"]
