"""The alerting stage with its threads, for the engine and the benchmark: a context manager.

>>> # with Alerting(connect, clock, settings, broker=broker) as alerting:
>>> #     consumers.append(alerting.stage)   # ingest hands it every committed batch
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from types import TracebackType

from firewatch.alerting.actuate import MqttPublisher
from firewatch.alerting.deliver import Deliverer
from firewatch.alerting.settings import AlertSettings
from firewatch.alerting.stage import AlertStage, Connect, IncidentSink, Supervision
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.clock import Clock


class Alerting:
    """Starts the stage's worker and the deliverer on enter; stops and joins them on exit.

    Stopping leaves undelivered notifications in the outbox for the next start."""

    def __init__(self, connect: Connect, clock: Clock, settings: AlertSettings, *,
                 broker: BrokerAddress | None = None, client_id: str = "firewatch-engine",
                 incidents: IncidentSink | None = None, tick_s: float = 0.5,
                 supervision: Supervision | None = None) -> None:  # fmt: skip
        self._stack = ExitStack()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._broker, self._client_id = broker, client_id
        self.deliverer = Deliverer(connect, clock, settings.delivery)
        self._publisher = MqttPublisher(broker, client_id) if broker is not None else None
        self.stage = AlertStage(connect, clock, settings, publisher=self._publisher,
                                incidents=incidents, on_queued=self.deliverer.wake,
                                tick_s=tick_s, supervision=supervision)  # fmt: skip

    def __enter__(self) -> Alerting:
        stack = self._stack
        stack.callback(self.deliverer.close)
        stack.callback(self.stage.close)
        if self._publisher is not None:
            stack.enter_context(self._publisher)
        for name, target in (("alerting", self.stage.run), ("alert-delivery", self.deliverer.run)):
            thread = threading.Thread(target=target, args=(self._stop,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def health(self) -> str:
        """For `/healthz`: "ok", or which of its threads stopped."""
        stopped = [t.name for t in self._threads if not t.is_alive()]
        return "ok" if not stopped else f"stopped: {', '.join(stopped)}"

    def __exit__(self, _t: type[BaseException] | None, _e: BaseException | None,
                 _tb: TracebackType | None) -> None:  # fmt: skip
        self._stop.set()
        self.deliverer.wake()
        for thread in self._threads:
            thread.join(30)
        self._stack.close()
