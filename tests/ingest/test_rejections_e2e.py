"""Every rejection class through the real broker and pipeline: each bad message is kept with its
reason code, and the good messages around it are all stored."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from firewatch.ingest.reasons import RejectReason
from firewatch.kernel import topics
from firewatch.kernel.broker import BrokerAddress
from firewatch.registry import import_registry
from firewatch.simulators import registry_files, subdistrict
from firewatch.simulators.records import Message
from firewatch.simulators.scenarios.bad_input import BadInput, bad_inputs
from tests.ingest.conftest import start_pipeline
from tests.ingest.publish import publish_all
from tests.support.mosquitto import PrivateMosquitto


def test_every_reason_is_stored_and_the_good_around_it_too(
    fresh_db: str, engine_broker: PrivateMosquitto, tmp_path: Path
) -> None:
    world = subdistrict.generate(1)
    registry_files.write(world, tmp_path)
    with psycopg.connect(fresh_db) as conn:
        import_registry([tmp_path / registry_files.JSON_NAME], conn)
    now = datetime.now(UTC)
    # A topic outside fw/v1/# is not ours: the broker never delivers it to the engine. A
    # malformed one inside it is, and is kept.
    bad = [c for c in bad_inputs(world, now) if c.message.topic.startswith(f"{topics.PREFIX}/")]
    bad.append(
        BadInput(
            Message(now, f"{topics.PREFIX}/smoke/S-1/reading/extra", b"{}"),
            RejectReason.TOPIC_MALFORMED,
            "six levels",
        )
    )
    good_device = next(d.device_id for d in world.devices if d.kind == "smoke")
    now_ms = int(now.timestamp() * 1000)
    messages: list[tuple[str, bytes]] = []
    for n, case in enumerate(bad):
        good = f'{{"ts":{now_ms},"seq":{1000 + n},"smoke_obs":0.1,"alarm":false}}'.encode()
        messages += [
            (topics.reading("smoke", good_device), good),
            (case.message.topic, case.message.payload),
        ]
    broker = BrokerAddress("127.0.0.1", engine_broker.port, None, None, tls=False)
    running, subscriber = start_pipeline(fresh_db, broker, f"fw-rej-{secrets.token_hex(3)}")
    try:
        publish_all(engine_broker.port, messages)
        # The engine's own announcements and commands are acknowledged and dropped, not stored.
        ours = {RejectReason.ENGINE_TOPIC, RejectReason.UNEXPECTED_COMMAND}
        kept = [c for c in bad if c.reason not in ours]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with psycopg.connect(fresh_db) as conn:
                rows = conn.execute(
                    "SELECT topic, payload, reason, detail FROM rejected_message"
                ).fetchall()
                stored = conn.execute(
                    "SELECT count(*) FROM reading WHERE device_id = %s AND seq >= 1000",
                    (good_device,),
                ).fetchone()
            if len(rows) >= len(kept) and stored == (len(bad),):
                break
            time.sleep(0.1)
    finally:
        running.halt()
        subscriber.__exit__(None, None, None)
    assert stored == (len(bad),), "every good message between the bad ones is stored"
    got = sorted((topic, bytes(payload), reason) for topic, payload, reason, _ in rows)
    want = sorted((c.message.topic, c.message.payload, c.reason) for c in kept)
    assert got == want
    assert all(detail for *_, detail in rows), "every rejection carries a readable detail"
    decoder_reasons = set(RejectReason) - {RejectReason.STORE_REFUSED}
    assert {c.reason for c in bad} == decoder_reasons, "the bad-input library covers every reason"
