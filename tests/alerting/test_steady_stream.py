"""Under a steady stream of inputs the stage still keeps time: a pending alert is confirmed when
its verification period ends, not when the stream pauses."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from tests.alerting.support import Harness, evidence


def test_time_driven_decisions_are_not_starved_by_a_stream_of_inputs(h: Harness) -> None:
    h.fire("SMK-1")  # orange at V-HOME: pending for its 30 s verification period
    assert h.alert("V-HOME")["state"] == "pending"
    h.move_to(h.now + timedelta(seconds=31))  # due now, but only a tick will see it
    stop, run_stop = threading.Event(), threading.Event()

    def feed() -> None:  # another venue's detector repeating itself, faster than it is taken
        while not stop.is_set():
            h.stage.take(evidence=[evidence("SMK-5", h.now)] * 50)
            time.sleep(0.001)

    feeder = threading.Thread(target=feed, daemon=True)
    runner = threading.Thread(target=h.stage.run, args=(run_stop,), daemon=True)
    feeder.start()
    runner.start()
    try:
        deadline = time.monotonic() + 15
        while h.alert("V-HOME")["state"] == "pending" and time.monotonic() < deadline:
            time.sleep(0.05)
        backlog = len(h.stage._inputs)  # the stream is still flowing
    finally:
        stop.set()
        feeder.join(5)
        run_stop.set()
        runner.join(10)
    assert h.alert("V-HOME")["state"] == "confirmed", "the verification period was ticked"
    assert backlog > 0, "the inputs never stopped coming while it was confirmed"
