"""Hostile stored bytes: whatever a device (or a broken writer) leaves in the store, every read of
the API and of the dashboards answers — 2xx, or a clear 4xx in the one error shape, never a 500 —
and shows what was stored: text exactly, bytes that are not text as base64 that decodes back.

Hostile rows go straight into every text, text[] and jsonb column the API reads (where ingest's
checks would stop them), and the rejected messages also come through the real broker and ingest.
The routes are enumerated from the application, so a new GET route is walked without being
listed here; a new path parameter needs a value in `_path_values`.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, get_args
from urllib.parse import quote

import httpx
import psycopg
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from psycopg.types.json import Jsonb

from firewatch.api.app import create_app
from firewatch.api.routes.rejected import MAX_PAYLOAD_SHOWN
from firewatch.auth.roles import Role as UserRole
from firewatch.auth.users import create_user
from firewatch.cases import Reason, Role
from firewatch.dashboards.boards import all_boards
from firewatch.dashboards.probe import resolve_variables, run_panel
from firewatch.kernel import topics
from firewatch.kernel.broker import BrokerAddress
from firewatch.kernel.contract import Level
from tests.api.conftest import Api, raise_alerts
from tests.ingest.conftest import start_pipeline
from tests.ingest.publish import publish_all
from tests.support.mosquitto import PrivateMosquitto

MARK = "fw-hostile"
HOSTILE = (
    "\x01\x07\x08\t\x0b\x0c\x1b[2J\x7f\x85\u2028\u2029\u202e\u200b\ufeff\ufffd\uffff"
    f"<script>alert('{MARK}')</script>&amp;\"'\\ {{{{7*7}}}} ${{x}} %s %(x)s"
    ' =HYPERLINK("http://x") 火警🔥\r\n'
)
"""Control characters (C0, C1, line separators, bidi override, BOM), markup, template and
format syntax, a spreadsheet formula, CJK and an emoji. PostgreSQL text holds all of it."""
LONG = HOSTILE + "长" * 60_000
# MQTT forbids control characters and noncharacters in topics (Mosquitto disconnects).
HOSTILE_TOPIC_ID = f"\u202e\u200b<script>'\"\\火🔥\u2028&amp;{MARK}"

PAYLOADS: dict[str, bytes] = {
    "invalid utf-8": b"\xff\xfe\xfd",
    "nul bytes": b"\x00{\x00}\x00",
    "utf-16 with a bom": '{"a": 1}'.encode("utf-16"),
    "utf-8 bom": b'\xef\xbb\xbf{"a": 1}',
    "surrogate as utf-8 bytes": b"\xed\xa0\x80",
    "overlong encoding": b"\xc0\xaf",
    "cut multibyte": "火".encode()[:2],
    "lone surrogate escape": b'{"smoke_obs": "\\ud800"}',
    "control characters": b"\x01\x1b[2J\x7f\r\n",
    "empty": b"",
    "text, not json": HOSTILE.encode(),
    "array": b"[1, 2]",
    "odd types": b'{"ts": {"$gt": 1}, "seq": [], "smoke_obs": "high", "alarm": "yes"}',
    "nan": b'{"smoke_obs": NaN}',
    "deep": b"[" * 5000 + b"]" * 5000,
    "huge binary": bytes(range(256)) * 1024,
    "huge text cut in a character": "火".encode() * 100_000,
}

ODD_JSON: list[Any] = [
    [],
    "a string where an array is expected",
    42,
    None,
    True,
    {HOSTILE: [HOSTILE, {"nested": HOSTILE}]},
    [[[[[[HOSTILE]]]]]],
    {"big": 10**40, "negative zero": -0.0, "": ""},
    [HOSTILE] * 2000,
]
ODD_NUMBERS = '{"beyond a double": 1e400, "below one": 1e-400}'
DEEP_JSON = ["[" * depth + json.dumps(HOSTILE) + "]" * depth for depth in (300, 3000)]
"""Nested deeper than the response serializer (about 250) and than Python's parser (about
1,000) go; jsonb holds both."""


@dataclass(frozen=True)
class Hostile:
    station: str
    venue: str  # in Xinhua: every user sees it
    other_venue: str  # in a community named HOSTILE
    device: str
    alert: str
    case: str
    other_case: str
    rejected: dict[int, bytes]  # rejected_id -> the payload stored
    department_token: str  # a user whose department is HOSTILE


def _insert_rejected(conn: psycopg.Connection, payload: bytes) -> int:
    row = conn.execute(
        "INSERT INTO rejected_message (received_at, topic, payload, reason, detail)"
        " VALUES (now(), %s, %s, %s, %s) RETURNING rejected_id",
        (HOSTILE, payload, HOSTILE, LONG),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _store_hostile(api: Api) -> Hostile:
    now = datetime.now(UTC)
    with psycopg.connect(api.db_url) as conn:
        # The registry: every free-text column (a venue's type is the contract's vocabulary,
        # held by a CHECK: no bytes of any other kind get there).
        conn.execute(
            "INSERT INTO station (station_id, name, kind, phones, lat, lon)"
            " VALUES ('MS-H', %s, 'micro', %s, 31.2, 121.4)",
            (HOSTILE, [HOSTILE, LONG]),
        )
        for venue_id, community in (("V-HOSTILE", "Xinhua"), ("V-HOSTILE-C", HOSTILE)):
            conn.execute(
                "INSERT INTO venue (venue_id, name, venue_type, category, community, grid,"
                " address, lat, lon, station_id, contacts)"
                " VALUES (%s, %s, 'small_shop', 1, %s, %s, %s, 31.2, 121.4, 'MS-H', %s)",
                (venue_id, LONG, community, HOSTILE, HOSTILE, [HOSTILE]),
            )
        conn.execute(
            "INSERT INTO device (device_id, kind, venue_id, location, heartbeat_s)"
            " VALUES ('DEV-H', 'smoke', 'V-HOSTILE', %s, 60), ('DEV-HC', 'smoke', 'V-HOSTILE-C',"
            " %s, 60)",
            (HOSTILE, HOSTILE),
        )
        department = create_user(conn, "dept-hostile", UserRole.DEPARTMENT, department=HOSTILE)
    # An alert the alerting stage opened, then every free-text column of it made hostile.
    alert = raise_alerts(api.db_url, ("DEV-H", "V-HOSTILE", Level.RED))[0]
    with psycopg.connect(api.db_url) as conn:
        conn.execute(
            "UPDATE alert SET summary = %s, acked_by = %s, muted = %s, resolution = %s,"
            " criteria = %s WHERE alert_id = %s",
            (LONG, HOSTILE, HOSTILE, HOSTILE, Jsonb(ODD_JSON), alert),
        )
        conn.execute(
            "INSERT INTO alert_device (alert_id, device_id, level, muted, first_at, last_at)"
            " VALUES (%s, %s, %s, %s, now(), now())",
            (alert, HOSTILE, HOSTILE, HOSTILE),
        )
        conn.execute(
            "UPDATE alert_transition SET reason = %s, actor = %s WHERE alert_id = %s",
            (HOSTILE, HOSTILE, alert),
        )
        conn.execute(
            "INSERT INTO notification (notification_id, idem_key, alert_id, channel, recipient,"
            " purpose, reason, level, body, created_at, due_at, last_failure)"
            " VALUES (%s, %s, %s, 'sms', %s, %s, %s, %s, %s, now(), now(), %s)",
            (f"N-{MARK}", f"K-{MARK}", alert, HOSTILE + " +8613800000001", HOSTILE, HOSTILE,
             HOSTILE, LONG, HOSTILE),
        )  # fmt: skip
        # Cases, as a scan naming a hostile checklist item would open them.
        cases = {}
        for case_id, venue_id, community in (
            ("HC-H", "V-HOSTILE", "Xinhua"),
            ("HC-HC", "V-HOSTILE-C", HOSTILE),
        ):
            conn.execute(
                "INSERT INTO hazard_case (case_id, kind, venue_id, community, grid, station_id,"
                " hazard, source, summary, stage, opened_at, due_at, supervision, found_count,"
                " last_found_at, version) VALUES (%s, 'hazard', %s, %s, %s, %s, %s, 'scan', %s,"
                " 'dispatched', %s, %s, 'none', 1, %s, 1)",
                (case_id, venue_id, community, HOSTILE, HOSTILE, HOSTILE, LONG, now,
                 now + timedelta(days=7), now),
            )  # fmt: skip
            conn.execute(
                "INSERT INTO case_history (case_id, seq, at, recorded_at, actor, role,"
                " from_stage, to_stage, reason, note, attachments, data)"
                " VALUES (%s, 1, %s, %s, %s, %s, NULL, 'dispatched', %s, %s, %s, %s)",
                (case_id, now, now, HOSTILE, Role.SYSTEM.value, Reason.OPENED_FROM_SCAN.value,
                 LONG, [HOSTILE], Jsonb({HOSTILE: ODD_JSON})),
            )  # fmt: skip
            conn.execute(
                "INSERT INTO case_part (case_id, department, state, assigned_at, note)"
                " VALUES (%s, %s, 'assigned', %s, %s)",
                (case_id, HOSTILE, now, HOSTILE),
            )
            cases[community] = case_id
        # Risk: a score a shape, each reasons column something the reader does not expect.
        for n, reasons in enumerate([*map(json.dumps, ODD_JSON), ODD_NUMBERS, *DEEP_JSON]):
            for scope, subject, venue, community in (
                ("venue", "V-HOSTILE", "V-HOSTILE", "Xinhua"),
                ("community", HOSTILE, None, HOSTILE),
            ):
                conn.execute(
                    "INSERT INTO risk_score (at, scope, subject_id, venue_id, community, score,"
                    " level, basis, reasons) VALUES (%s, %s, %s, %s, %s, 50, 'red', %s, %s::jsonb)",
                    (now - timedelta(minutes=n), scope, subject, venue, community, HOSTILE,
                     reasons),
                )  # fmt: skip
        # What devices sent: scans, events, status, liveness, readings (the dashboards read).
        conn.execute(
            "INSERT INTO venue_scan (ts, received_at, venue_id, seq, scan_type, inspector, items,"
            " case_id, extra) VALUES (%s, %s, 'V-HOSTILE', 1, 'inspection', %s, %s, %s, %s)",
            (now, now, HOSTILE, Jsonb(ODD_JSON), HOSTILE, Jsonb(HOSTILE)),
        )
        conn.execute(
            "INSERT INTO device_event (ts, received_at, device_id, kind, venue_id, seq, event,"
            " car, command_id, extra) VALUES (%s, %s, 'DEV-H', 'smoke', 'V-HOSTILE', 1, 'tamper',"
            " %s, %s, %s)",
            (now, now, HOSTILE, HOSTILE, Jsonb(ODD_JSON)),
        )
        conn.execute(
            "INSERT INTO device_status (ts, received_at, device_id, kind, venue_id, seq,"
            " battery_pct, fw, extra) VALUES (%s, %s, 'DEV-H', 'smoke', 'V-HOSTILE', 1, 5, %s,"
            " %s)",
            (now, now, HOSTILE, Jsonb([HOSTILE])),
        )
        conn.execute(
            "INSERT INTO device_liveness (device_id, last_seen_at, online, offline_since,"
            " offline_reason, battery_pct, fw) VALUES ('DEV-H', %s, false, %s, %s, 5, %s)",
            (now, now, HOSTILE, HOSTILE),
        )
        conn.execute(
            "INSERT INTO reading (ts, received_at, device_id, kind, venue_id, seq, smoke_obs,"
            " state, extra) VALUES (%s, %s, 'DEV-H', 'smoke', 'V-HOSTILE', 1, 'NaN', %s, %s)",
            (now, now, HOSTILE, Jsonb({HOSTILE: ODD_JSON})),
        )
        # Silences naming hostile subjects, with hostile reasons.
        conn.execute(
            "INSERT INTO silence (scope, subject_id, starts_at, ends_at, created_by, reason,"
            " created_at, cancelled_by) VALUES ('venue', 'V-HOSTILE', %s, %s, %s, %s, %s, %s),"
            " ('community', %s, %s, %s, %s, %s, %s, NULL)",
            (now, now + timedelta(days=1), HOSTILE, LONG, now, HOSTILE,
             HOSTILE, now, now + timedelta(days=1), HOSTILE, HOSTILE, now),
        )  # fmt: skip
        rejected = {_insert_rejected(conn, payload): payload for payload in PAYLOADS.values()}
        # A batch a stage kept failing on, with a hostile error and input.
        conn.execute(
            "INSERT INTO quarantined_batch (stage, partition, pos, attempts, error, item,"
            " quarantined_at) VALUES (%s, %s, 1, 3, %s, %s, %s)",
            (HOSTILE, HOSTILE, LONG, HOSTILE, now),
        )
    return Hostile("MS-H", "V-HOSTILE", "V-HOSTILE-C", "DEV-H", alert, cases["Xinhua"],
                   cases[HOSTILE], rejected, department)  # fmt: skip


@pytest.fixture
def hostile(api: Api) -> Hostile:
    return _store_hostile(api)


def shown_payload(item: dict[str, Any]) -> bytes:
    """The bytes a rejected message's JSON shows, from `payload` and `payload_encoding`."""
    if item["payload_encoding"] == "utf-8":
        text = item["payload"]
        assert isinstance(text, str)
        return text.encode()
    assert item["payload_encoding"] == "base64", item["payload_encoding"]
    return base64.b64decode(item["payload"], validate=True)


def _check_shown(item: dict[str, Any], stored: bytes) -> None:
    shown = shown_payload(item)
    assert base64.b64decode(item["payload_base64"], validate=True) == shown
    assert item["payload_size"] == len(stored)
    assert item["payload_truncated"] is (len(stored) > MAX_PAYLOAD_SHOWN)
    assert shown == stored[:MAX_PAYLOAD_SHOWN]
    text_ok = True
    try:
        shown.decode()
    except UnicodeDecodeError:
        text_ok = False
    assert item["payload_encoding"] == ("utf-8" if text_ok else "base64")


def _all_rejected(client: httpx.Client, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = {**params, "limit": "7", **({"cursor": cursor} if cursor else {})}
        response = client.get("/api/v1/rejected", params=page)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def test_rejected_shows_every_stored_payload_back_to_the_byte(api: Api, hostile: Hostile) -> None:
    for role in ("admin", "operator", "bootstrap"):
        with api.client(role) as client:
            items = _all_rejected(client)
            assert {i["rejected_id"] for i in items} == set(hostile.rejected)
            for item in items:
                _check_shown(item, hostile.rejected[item["rejected_id"]])
                assert (item["topic"], item["reason"], item["detail"]) == (HOSTILE, HOSTILE, LONG)
            # the hostile reason is a filter like any other
            assert len(_all_rejected(client, reason=HOSTILE)) == len(PAYLOADS)


def test_rejected_through_the_broker_and_ingest(api: Api, engine_broker: PrivateMosquitto) -> None:
    """The real path: a device publishes hostile payloads and topics; ingest keeps them as
    rejected; the API shows each one back to the byte."""
    sent = [(topics.reading("smoke", "SMK-1"), payload) for payload in PAYLOADS.values()]
    sent += [
        (topics.reading("smoke", HOSTILE_TOPIC_ID), b"\xff" + HOSTILE_TOPIC_ID.encode()),
        (topics.scan(HOSTILE_TOPIC_ID), HOSTILE.encode()),
        (topics.device("smoke", "SMK-1", HOSTILE_TOPIC_ID), b"{}"),
    ]
    broker = BrokerAddress("127.0.0.1", engine_broker.port, None, None, tls=False)
    running, subscriber = start_pipeline(api.db_url, broker, f"fw-host-{secrets.token_hex(3)}")
    try:
        publish_all(engine_broker.port, sent)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with psycopg.connect(api.db_url) as conn:
                row = conn.execute("SELECT count(*) FROM rejected_message").fetchone()
            if row is not None and row[0] >= len(sent):
                break
            time.sleep(0.1)
    finally:
        running.halt()
        subscriber.__exit__(None, None, None)
    with api.client("operator") as client:
        items = _all_rejected(client)
    assert len(items) == len(sent), "every hostile message is kept as rejected"
    by_key = {(i["topic"], shown_payload(i)): i for i in items}
    for topic, payload in sent:
        item = by_key[(topic, payload[:MAX_PAYLOAD_SHOWN])]
        _check_shown(item, payload)
        assert item["reason"] and item["detail"]


def test_odd_json_is_shown_as_stored(api: Api, hostile: Hostile) -> None:
    """Risk reasons of every shape come back as stored; nested too deep to show as JSON, they
    come back as their JSON text."""
    with psycopg.connect(api.db_url) as conn:
        row = conn.execute("SELECT to_jsonb(%s::text)::text", (HOSTILE,)).fetchone()
    assert row is not None
    deep = ["[" * n + row[0] + "]" * n for n in (300, 3000)]
    with api.client("viewer") as client:
        response = client.get(f"/api/v1/risk/venues/{hostile.venue}", params={"limit": 500})
    assert response.status_code == 200, response.text
    reasons = [item["reasons"] for item in reversed(response.json()["items"])]
    assert reasons[: len(ODD_JSON)] == ODD_JSON
    assert reasons[len(ODD_JSON)] == {"beyond a double": 10**400, "below one": 0.0}
    assert reasons[len(ODD_JSON) + 1 :] == deep


# --- every route --------------------------------------------------------------------------

NOT_SHOWING = {
    "/healthz", "/metrics", "/api/v1/openapi.json", "/api/v1/docs",
    "/docs/oauth2-redirect", "/api/v1/ack",
}  # fmt: skip
"""Routes that read no stored device input; every other route must show a hostile value."""
NEVER_2XX = {"/api/v1/ack"}  # the walk has no valid one-time link, only a hostile one


def _get_routes() -> list[RouteContext]:
    """Every GET route of the application, those of its included routers too."""
    app = create_app(lambda: {"api": "ok"})
    return [r for r in iter_route_contexts(app.routes) if "GET" in (r.methods or set())]


def _path_values(hostile: Hostile) -> dict[str, list[str]]:
    return {
        "kind": ["stations", "venues", "devices"],
        "record_id": [hostile.station, hostile.venue, hostile.other_venue, hostile.device,
                      "DEV-HC", HOSTILE],
        "alert_id": [hostile.alert, HOSTILE],
        "case_id": [hostile.case, hostile.other_case, HOSTILE],
        "subject": ["venues", "communities"],
        "subject_id": [hostile.venue, hostile.other_venue, HOSTILE, "Xinhua"],
    }  # fmt: skip


def _query_params(dependant: Dependant) -> Iterator[Any]:
    yield from dependant.query_params
    for sub in dependant.dependencies:
        yield from _query_params(sub)


def _query_variants(route: RouteContext) -> list[dict[str, str]]:
    """The route's required query parameters filled in; then each enum value, each flag set,
    and each text parameter hostile."""
    if not isinstance(route.original_route, APIRoute):
        return [{}]
    required = {"month": datetime.now(UTC).strftime("%Y-%m"), "token": HOSTILE}
    base: dict[str, str] = {}
    variants: list[dict[str, str]] = []
    for field in _query_params(route.original_route.dependant):
        if field.field_info.is_required():
            assert field.alias in required, f"give {route.path}'s ?{field.alias}= a value here"
            base[field.alias] = required[field.alias]
        annotation = field.field_info.annotation
        for kind in (annotation, *get_args(annotation)):
            if isinstance(kind, type) and issubclass(kind, Enum):
                variants += [{field.alias: str(member.value)} for member in kind]
            elif kind is bool:
                variants.append({field.alias: "true"})
            elif kind is str:  # a hostile filter finds the hostile rows, or nothing
                variants.append({field.alias: HOSTILE})
    return [base, *({**base, **v} for v in variants)]


def _urls(route: RouteContext, hostile: Hostile) -> Iterator[tuple[str, dict[str, str]]]:
    values = _path_values(hostile)
    assert route.path is not None
    names = re.findall(r"{(\w+)}", route.path)
    missing = [n for n in names if n not in values]
    assert not missing, f"give the path parameters {missing} of {route.path} values here"
    for combo in itertools.product(*(values[n] for n in names)):
        path = route.path
        for name, value in zip(names, combo, strict=True):
            path = path.replace("{" + name + "}", quote(value, safe=""))
        for params in _query_variants(route):
            yield path, params


def _strings(value: Any) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            stack += item


def _shows_hostile(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "")
    if kind.startswith("application/json"):
        return any(HOSTILE in s for s in _strings(response.json()))
    return MARK in response.text


def _check(response: httpx.Response, where: str) -> None:
    status, kind = response.status_code, response.headers.get("content-type", "")
    assert status < 500, f"{where}: {status} {response.text[:300]}"
    if response.request.method == "HEAD":
        return
    if status >= 400:
        error = response.json()["error"]
        assert error["code"] and error["message"], where
        return
    if kind.startswith("application/json"):
        response.json()  # strict JSON: it parses
    if kind.startswith("text/html"):
        assert f"<script>alert('{MARK}')" not in response.text, f"{where}: markup not escaped"


def test_every_route_survives_hostile_rows(api: Api, hostile: Hostile) -> None:
    tokens = {**api.tokens, "department-hostile": hostile.department_token}
    callers = {who: httpx.Client(base_url=api.base, timeout=30,
                                 headers={"Authorization": f"Bearer {token}"})
               for who, token in tokens.items()}  # fmt: skip
    callers["anonymous"] = httpx.Client(base_url=api.base, timeout=30)
    routes = _get_routes()
    assert {"/api/v1/rejected", "/api/v1/alerts/{alert_id}", "/api/v1/{kind}"} <= {
        r.path for r in routes
    }
    try:
        for route in routes:
            answered, showed = False, False
            for path, params in _urls(route, hostile):
                for who, client in callers.items():
                    response = client.get(path, params=params)
                    _check(response, f"GET {path} {params} as {who}")
                    if response.is_success:
                        answered = answered or who == "admin"
                        showed = showed or _shows_hostile(response)
                _check(callers["admin"].head(path, params=params), f"HEAD {path}")
            if route.path not in NEVER_2XX:
                assert answered, f"{route.path}: no 2xx for the administrator"
            if route.path not in NOT_SHOWING:
                assert showed, f"{route.path}: shows none of the hostile values stored"
    finally:
        for client in callers.values():
            client.close()


def test_dashboards_survive_hostile_rows(api: Api, hostile: Hostile) -> None:
    """Every panel of every board runs over the hostile rows, with the hostile community and
    venue among the variables' values."""
    now = datetime.now(UTC)
    shown: set[str] = set()
    with psycopg.connect(api.db_url) as conn:
        for board in all_boards("Asia/Shanghai"):
            variables = resolve_variables(conn, board, now, {"venue": hostile.venue})
            assert HOSTILE in variables["community"].values
            for panel in board.panels:
                names, _types, rows = run_panel(conn, panel, now - timedelta(days=30),
                                                now, variables)  # fmt: skip
                assert tuple(names) == panel.columns, f"{board.uid}/{panel.key}"
                if any(HOSTILE in str(cell) for row in rows for cell in row):
                    shown.add(f"{board.uid}/{panel.key}")
    assert {"fw-devices/offline_devices", "fw-cases/cases_by_department",
            "fw-control-room/live_alerts"} <= shown, shown  # fmt: skip


def test_case_history_of_another_shape(api: Api, hostile: Hostile) -> None:
    with psycopg.connect(api.db_url) as conn:
        conn.execute(
            "INSERT INTO case_history (case_id, seq, at, recorded_at, actor, role, to_stage,"
            " reason, data) VALUES (%s, 2, now(), now(), %s, %s, 'dispatched', %s, %s)",
            (hostile.case, HOSTILE, HOSTILE, HOSTILE, Jsonb(ODD_JSON)),
        )
    with api.client("admin") as client:
        response = client.get(f"/api/v1/cases/{hostile.case}")
    _check(response, "GET a case with a history row of another shape")
