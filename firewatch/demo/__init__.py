"""`firewatch demo`: a scripted day of incidents through the whole engine, on one machine.

- `run.py`: `run_demo`, the services, registry, engine, simulators and summaries;
- `pace.py`: `DayClock`, one simulated clock for the engine and the simulators: incidents at
  10x, the quiet hours fast-forwarded;
- `people.py`: the stations' members answer the call, arrive, report the outcome (HTTP API);
- `field.py`: the charging ports answer a power-off command;
- `verdict.py`: each scenario's outcome in the store against its ground truth.
"""

from firewatch.demo.run import DAY, run_demo

__all__ = ["DAY", "run_demo"]
