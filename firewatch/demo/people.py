"""The micro fire stations' members, played by the demo, through the HTTP API as their app would.

When a station is called about a fire, its duty member taps the link in the SMS about half a
minute later (the engine's reminders come every 60 s and the chief is called at 90 s, so a
station that answers does not see them), reports arrival three minutes after that (the micro
stations' three-minute turnout), and reports the outcome once the incident is over: the fire
is out, or there was no fire (a false alarm, counted against the venue). Without them every
confirmed alert would stay unanswered and call again every minute for the rest of the day.

They act on the day's clock: each action is due at a simulated moment, and the clock keeps
the incident pace until the answer is given, so that a half-minute answer is not stretched by
the fast-forward into a missed escalation deadline.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from random import Random
from typing import Any, Final

import httpx

from firewatch.demo.pace import DayClock
from firewatch.simulators.records import GroundTruth, Outcome

log = logging.getLogger("firewatch.demo")

ANSWER_S: Final = (20.0, 40.0)  # from the call to the tap on the link
TURNOUT_S: Final = 180.0  # from the answer to arrival on the scene
ON_SCENE_S: Final = 120.0  # at least this long on the scene before the outcome is reported
LOOK_S: Final = 0.05  # how often (wall) the members look at their phones

Say = Callable[[str], None]


class StationMembers:
    """`heard` is the receiver's listener; `run` does what is due until `stop`."""

    def __init__(self, clock: DayClock, api: str, *, tokens: Mapping[str, str],
                 phones: Mapping[str, str], names: Mapping[str, str],
                 truths: Sequence[GroundTruth], say: Say, seed: int) -> None:  # fmt: skip
        self._clock = clock
        self._api = api
        self._tokens = tokens  # station id -> its members' API token
        self._phones = phones  # phone -> station id
        self._names = names  # station id -> name
        self._truths = {t.venue_id: t for t in truths}
        self._say = say
        self._rng = Random(f"demo-people:{seed}")  # noqa: S311 - seeded on purpose
        self._lock = threading.Lock()
        self._due: list[tuple[datetime, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._answered: set[str] = set()
        self.acted: list[tuple[str, str, str]] = []  # (alert, station, outcome), for the summary

    def heard(self, note: Mapping[str, Any]) -> None:
        """A notification arrived: a station's first call about an alert gets answered."""
        stations = [self._phones[p] for p in note.get("to") or [] if p in self._phones]
        alert_id, link = note.get("alert_id"), note.get("ack_url")
        if not stations or not isinstance(alert_id, str) or not isinstance(link, str):
            return
        with self._lock:
            if alert_id in self._answered:
                return
            self._answered.add(alert_id)
        called = self._clock.now()
        when = called + timedelta(seconds=self._rng.uniform(*ANSWER_S))
        # The answer races the engine's 60 s reminder: the clock keeps the incident pace for it.
        self._clock.slow_until(when + timedelta(seconds=5))
        self._schedule(when, lambda: self._answer(stations[0], alert_id, link, called))

    def _schedule(self, when: datetime, action: Callable[[], None]) -> None:
        with self._lock:
            heapq.heappush(self._due, (when, next(self._order), action))

    def run(self, stop: threading.Event) -> None:
        with httpx.Client(base_url=self._api, timeout=10.0) as self._http:
            while not stop.wait(LOOK_S):
                now = self._clock.now()
                while True:
                    with self._lock:
                        if not self._due or self._due[0][0] > now:
                            break
                        _, _, action = heapq.heappop(self._due)
                    try:
                        action()
                    except httpx.HTTPError as exc:
                        log.warning("a station member's request failed: %s", exc)

    def _post(self, station: str, alert_id: str, what: str,
              body: Mapping[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
        answer = self._http.post(
            f"/api/v1/alerts/{alert_id}/{what}",
            headers={"Authorization": f"Bearer {self._tokens[station]}"},
            json=dict(body or {}),
        )
        result: dict[str, Any] = answer.json()
        return result

    def _tell(self, station: str, text: str) -> None:
        self._say(f"[{self._names[station]}] {text}")

    def _answer(self, station: str, alert_id: str, link: str, called: datetime) -> None:
        outcome = self._http.get(link).json()
        self._tell(station, f"{alert_id}: tapped the link "
                   f"{(self._clock.now() - called).total_seconds():.0f} s after the call: "
                   f"{outcome.get('outcome') or outcome.get('detail')}")  # fmt: skip
        self.acted.append((alert_id, station, str(outcome.get("outcome"))))
        arrive = self._clock.now() + timedelta(seconds=TURNOUT_S)
        self._schedule(arrive, lambda: self._arrive(station, alert_id))

    def _arrive(self, station: str, alert_id: str) -> None:
        answer = self._post(station, alert_id, "arrival")
        alert = answer.get("alert") or {}
        self._tell(station, f"{alert_id}: on the scene ({answer.get('outcome')})")
        truth = self._truths.get(str(alert.get("venue_id")))
        fire = truth is not None and truth.expected == Outcome.ALARM
        done = self._clock.now() + timedelta(seconds=ON_SCENE_S)
        if fire and truth is not None:
            done = max(done, truth.end)  # a real fire: over when the scenario says it is
        self._schedule(done, lambda: self._resolve(station, alert_id, false_alarm=not fire))

    def _resolve(self, station: str, alert_id: str, *, false_alarm: bool) -> None:
        answer = self._post(station, alert_id, "resolve", {"false_alarm": false_alarm})
        what = "no fire found: a false alarm" if false_alarm else "the fire is out"
        self._tell(station, f"{alert_id}: {what} ({answer.get('outcome')})")
