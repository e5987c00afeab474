"""The broker restarts during a QoS 1 flood: after both sides reconnect every reading is stored
exactly once.

The broker is a private Mosquitto with the engine's configuration, persistence on: a clean stop
saves the engine's session and the messages queued for it, and the restarted broker loads them.
The engine is the real `firewatch run`; it must notice the lost connection, reconnect by itself
and resume its persistent session, while the devices (the flood) reconnect and publish again
whatever the broker never acknowledged.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest

from firewatch.embedded.broker import start_mosquitto
from tests.ingest.seed import seed_registry
from tests.reliability.engine_process import EngineProcess
from tests.reliability.flood import Flood
from tests.reliability.test_kill_ingest import stored
from tests.support.fixtures import PrivateMosquittoFactory

DEVICES = {f"BRK-{n:03d}": ("smoke", "V-HOME") for n in range(50)}
TOTAL = 20_000
DOWN_S = 1.5  # the broker is away this long, the devices publishing all the while


@pytest.mark.slow
def test_broker_restart_during_a_flood_loses_nothing_and_stores_nothing_twice(
    fresh_db: str, private_mosquitto: PrivateMosquittoFactory, tmp_path: Path
) -> None:
    broker = private_mosquitto()
    seed_registry(fresh_db, DEVICES)
    engine = EngineProcess(fresh_db, broker.url, f"fw-brk-{secrets.token_hex(3)}", tmp_path)
    restarted = None
    try:
        engine.start()
        flood = Flood(broker.port, list(DEVICES), TOTAL, rate=4000, survive_restarts=True)
        flood.start()
        deadline = time.monotonic() + 30
        while stored(fresh_db)[0] < 4000 and time.monotonic() < deadline:
            time.sleep(0.02)
        at_stop = stored(fresh_db)[0]
        assert 0 < at_stop < TOTAL, "the restart falls inside the flood"
        broker.stop()  # SIGTERM: Mosquitto writes its persistence file and exits
        time.sleep(DOWN_S)
        restarted = start_mosquitto(broker.data_dir, port=broker.port)
        flood.check()
        deadline = time.monotonic() + 45
        while stored(fresh_db)[0] < TOTAL and time.monotonic() < deadline:
            time.sleep(0.1)
        rows, distinct = stored(fresh_db)
        assert rows == distinct == TOTAL, engine.log_tail()
        assert flood.connects >= 2, "the devices lost the broker and came back"
        assert engine.process is not None and engine.process.poll() is None, engine.log_tail()
        log = (tmp_path / "engine-1.log").read_text(errors="replace")
        assert "reconnecting" in log, "the engine noticed the broker going away"
        # The same engine process, a second connection, and the broker still had its session:
        # what was queued for it while it was away came from the restored session.
        assert "(connection 2, session present: True)" in log, engine.log_tail()
        assert engine.terminate() == 0, "SIGTERM drains and exits cleanly"
    finally:
        engine.stop()
        if restarted is not None:
            restarted.stop()
