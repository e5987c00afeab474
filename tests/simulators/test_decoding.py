"""Everything the simulators publish passes ingest's decoder; the bad inputs fail as expected."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from firewatch.ingest.decode import decode
from firewatch.ingest.reasons import RejectReason
from firewatch.ingest.records import Availability, Rejected, VenueScan
from firewatch.simulators.scenarios.bad_input import bad_inputs
from tests.simulators.helpers import LIMITS, START, registry_view, run, world

NOT_FROM_DECODE = {"store_refused"}  # given by the store, to a message that decoded fine
LATENCY = timedelta(milliseconds=300)  # the broker and the network between device and engine


@pytest.mark.parametrize("seed", [1, 2])
def test_every_scenario_message_decodes(seed: int) -> None:
    view = registry_view(world())
    traffic = run(seed=seed)
    kinds: Counter[str] = Counter()
    for message in traffic.messages:
        outcome = decode(message.topic, message.payload, message.at + LATENCY, view, LIMITS)
        assert not isinstance(outcome, Rejected), (outcome.reason, outcome.detail, message)
        kinds[type(outcome).__name__] += 1
        subject = outcome.venue_id if isinstance(outcome, VenueScan) else outcome.device_id
        assert subject in message.topic
        if not isinstance(outcome, Availability | VenueScan):
            drift = abs((outcome.ts - message.at).total_seconds())
            assert drift < 120, f"device clock {drift:.0f} s off: {message}"
    assert set(kinds) == {"Reading", "DeviceEvent", "DeviceStatus", "Availability", "VenueScan"}


def test_bad_inputs_fail_with_their_reasons_and_cover_every_reason() -> None:
    view = registry_view(world())
    cases = bad_inputs(world(), START)
    for case in cases:
        outcome = decode(case.message.topic, case.message.payload, START, view, LIMITS)
        assert isinstance(outcome, Rejected), case
        assert outcome.reason == RejectReason(case.reason), (case.why, outcome.detail)
    # Every reason the decoder can give has a case; a new one should get one too.
    decoder_reasons = {r for r in RejectReason if r.value not in NOT_FROM_DECODE}
    assert {RejectReason(c.reason) for c in cases} == decoder_reasons


def test_bad_inputs_are_deterministic() -> None:
    assert bad_inputs(world(), START) == bad_inputs(world(), START)
