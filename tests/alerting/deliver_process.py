"""A deliverer as a real child process, for the test that kills it mid-flight.

    python -m tests.alerting.deliver_process DATABASE_URL RECEIVER_BASE_URL

It delivers until killed; the receiver base gets /sms, /push and /hook appended.
"""

from __future__ import annotations

import sys
import threading

import psycopg

from firewatch.alerting import Deliverer, DeliverySettings
from firewatch.kernel.clock import SystemClock


def main() -> None:
    url, base = sys.argv[1], sys.argv[2]
    settings = DeliverySettings(
        sms_url=f"{base}/sms", push_url=f"{base}/push", webhook_url=f"{base}/hook",
        timeout_s=1.0, backoff_base_s=0.05, backoff_max_s=0.5, lease_s=1.5, poll_s=0.05,
        parallel=4, batch=8,
    )  # fmt: skip
    with Deliverer(lambda: psycopg.connect(url), SystemClock(), settings) as deliverer:
        print("delivering", flush=True)
        deliverer.run(threading.Event())


if __name__ == "__main__":
    main()
