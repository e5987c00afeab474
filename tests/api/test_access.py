"""Who may do what through the API, walked as a matrix against the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from firewatch.api.pages import encode_cursor
from firewatch.cases import SYSTEM, CasesSettings, Finding, Kind, Source, open_case
from tests.api.conftest import Alerts, Api

VENUE_DOC = {
    "venues": [
        {"venue_id": "V-NEW", "name": "New shop", "venue_type": "small_shop", "category": 2,
         "community": "Xinhua", "grid": "G-03", "address": "No. 3 Road", "lat": 31.23,
         "lon": 121.47, "station_id": "MS-1", "contacts": ["+8613800000009"]},
    ]
}  # fmt: skip

EVERYONE = {"admin", "operator", "station", "inspector", "department", "viewer"}
SILENCE = {"scope": "venue", "subject_id": "V-HOME", "reason": "maintenance",
           "ends_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}  # fmt: skip
MONTH = {"month": "2026-11"}

# (method, path, body, params) -> the callers that may; every other role gets 403. Paths name
# the `alerts` fixture's alerts; a write repeated by the next allowed role may find it done.
MATRIX = [
    ("GET", "/api/v1/me", None, None, EVERYONE),
    # rejected messages: the control room and the administrator
    ("GET", "/api/v1/rejected", None, None, {"admin", "operator"}),
    # the registry can be read by every role ...
    ("GET", "/api/v1/venues", None, None, EVERYONE),
    ("GET", "/api/v1/stations", None, None, EVERYONE),
    ("GET", "/api/v1/devices/SMK-1", None, None, EVERYONE),
    # ... and changed by the administrator only
    ("PUT", "/api/v1/registry", VENUE_DOC, None, {"admin"}),
    ("POST", "/api/v1/devices/SMK-2/retire", None, None, {"admin"}),
    # alerts: everyone reads; stations and the control room answer; the control room decides
    ("GET", "/api/v1/alerts", None, None, EVERYONE),
    ("GET", "/api/v1/alerts/{confirmed}", None, None, EVERYONE),
    ("POST", "/api/v1/alerts/{confirmed}/acknowledge", None, None, {"admin", "operator", "station"}),
    ("POST", "/api/v1/alerts/{confirmed}/arrival", None, None, {"admin", "operator", "station"}),
    ("POST", "/api/v1/alerts/{confirmed}/resolve", {}, None, {"admin", "operator", "station"}),
    ("POST", "/api/v1/alerts/{pending}/confirm", None, None, {"admin", "operator"}),
    ("POST", "/api/v1/alerts/{pending}/dismiss", None, None, {"admin", "operator"}),
    # silences: everyone sees them, the control room makes them
    ("GET", "/api/v1/silences", None, None, EVERYONE),
    ("POST", "/api/v1/silences", SILENCE, None, {"admin", "operator"}),
    # cases: everyone reads; who may make which move is the cases stage's own table
    ("GET", "/api/v1/cases", None, None, EVERYONE),
    ("POST", "/api/v1/cases/{case}/move", {"to": "registered"}, None,
     {"admin", "operator", "station", "inspector", "department"}),
    # risk and inspection coverage: everyone
    ("GET", "/api/v1/risk/venues", None, None, EVERYONE),
    ("GET", "/api/v1/risk/communities/Xinhua", None, None, EVERYONE),
    ("GET", "/api/v1/inspections/coverage", None, None, EVERYONE),
    # the monthly assessment: the control room, the office and the city platform
    ("GET", "/api/v1/reports/assessment", None, MONTH, {"admin", "operator", "viewer"}),
]  # fmt: skip
ROLES = ["admin", "operator", "station", "inspector", "department", "viewer"]
DONE_BEFORE = {409, 403}  # the alert already resolved / the case already moved by a colleague


@pytest.fixture
def case_id(api: Api) -> str:
    finding = Finding("V-SHOP", "exits_unlocked", Kind.HAZARD, Source.SCAN, "test:matrix",
                      datetime.now(UTC), SYSTEM, "exits locked at V-SHOP")  # fmt: skip
    with psycopg.connect(api.db_url) as conn:
        return open_case(conn, finding, datetime.now(UTC), CasesSettings()).case_id


@pytest.mark.parametrize(("method", "path", "body", "params", "allowed"), MATRIX)
def test_role_matrix(
    api: Api, alerts: Alerts, case_id: str, method: str, path: str, body: object,
    params: dict[str, str] | None, allowed: set[str],
) -> None:  # fmt: skip
    url = path.format(confirmed=alerts.confirmed, pending=alerts.pending, case=case_id)
    first = True
    for role in ROLES:
        with api.client(role) as client:
            response = client.request(method, url, json=body, params=params)
        code = response.status_code
        if role not in allowed:
            assert code == 403, (role, method, url, response.text)
            assert response.json()["error"]["code"] == "forbidden"
            continue
        if first or method == "GET":
            assert code in (200, 201), (role, method, url, response.text)
        else:
            assert code in (200, 201) or (
                code in DONE_BEFORE and response.json()["error"]["code"] != "forbidden"
            ), (role, method, url, response.text)
        first = False


def test_no_token_or_a_bad_one_is_refused(api: Api) -> None:
    with api.client(None) as client:
        response = client.get("/api/v1/venues")
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "unauthenticated", "message": "send Authorization: Bearer <token>"}
    }
    api.tokens["forged"] = "fwt_not-a-real-token"
    with api.client("forged") as client:
        assert client.get("/api/v1/venues").status_code == 401


def test_a_revoked_token_stops_working(api: Api) -> None:
    with psycopg.connect(api.db_url) as conn:
        conn.execute("UPDATE api_user SET revoked_at = now() WHERE user_id = 'u-viewer'")
    with api.client("viewer") as client:
        assert client.get("/api/v1/me").status_code == 401


def test_a_community_scoped_user_sees_only_its_communities(api: Api) -> None:
    with api.client("operator-xinhua") as client:
        venues = {v["venue_id"] for v in client.get("/api/v1/venues").json()["items"]}
        devices = {d["device_id"] for d in client.get("/api/v1/devices").json()["items"]}
        other = client.get("/api/v1/venues/V-OTHER")
    with api.client("operator") as client:
        everything = {v["venue_id"] for v in client.get("/api/v1/venues").json()["items"]}
    assert venues == {"V-HOME", "V-SHED", "V-TOWER", "V-SHOP"}
    assert "SMK-OTHER" not in devices and "SMK-1" in devices
    assert other.status_code == 404, "another community's venue is invisible, not forbidden"
    assert everything == venues | {"V-OTHER"}


def test_registry_writes_are_checked_like_an_import(api: Api) -> None:
    bad = {"venues": [{**VENUE_DOC["venues"][0], "category": 7}]}
    with api.client("admin") as client:
        refused = client.put("/api/v1/registry", json=bad)
        accepted = client.put("/api/v1/registry", json=VENUE_DOC)
        fetched = client.get("/api/v1/venues/V-NEW")
    assert refused.status_code == 422
    assert "field category: expected 1, 2 or 3" in refused.json()["error"]["message"]
    assert accepted.status_code == 200
    assert fetched.json()["community"] == "Xinhua"


def test_pages_follow_the_cursor(api: Api) -> None:
    seen: list[str] = []
    cursor = None
    with api.client("viewer") as client:
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            body = client.get("/api/v1/venues", params=params).json()
            seen += [v["venue_id"] for v in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        bad = client.get("/api/v1/venues", params={"cursor": "%%%"})
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 5
    assert bad.status_code == 400


def test_every_write_is_audited_and_the_log_cannot_be_rewritten(api: Api) -> None:
    with api.client("viewer") as client:
        client.post("/api/v1/devices/SMK-1/retire")  # refused, and recorded as refused
    with api.client("admin") as client:
        client.post("/api/v1/devices/SMK-1/retire")
    with psycopg.connect(api.db_url) as conn:
        rows = conn.execute(
            "SELECT user_id, method, path, status FROM audit_log ORDER BY audit_id"
        ).fetchall()
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("DELETE FROM audit_log")
    assert rows == [
        ("u-viewer", "POST", "/api/v1/devices/SMK-1/retire", 403),
        ("u-admin", "POST", "/api/v1/devices/SMK-1/retire", 200),
    ]


def test_oversized_bodies_are_refused(api: Api) -> None:
    with api.client("admin") as client:
        response = client.put(
            "/api/v1/registry", content=b"{" + b" " * (2 << 20) + b"}",
            headers={"content-type": "application/json"},
        )  # fmt: skip
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_the_bootstrap_admin_token_works(api: Api) -> None:
    with api.client("bootstrap") as client:
        assert client.get("/api/v1/me").json()["role"] == "admin"


def test_a_nul_byte_in_a_query_is_the_callers_mistake(api: Api) -> None:
    with api.client("admin") as client:
        response = client.get("/api/v1/rejected", params={"reason": "x\x00y"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


SCOPED_LISTS = ["/api/v1/alerts", "/api/v1/cases", "/api/v1/silences", "/api/v1/risk/venues",
                "/api/v1/risk/communities", "/api/v1/inspections/coverage", "/api/v1/venues",
                "/api/v1/devices", "/api/v1/reports/assessment"]  # fmt: skip
OTHERS = ("V-OTHER", "SMK-OTHER", "Riverside")


def test_another_communitys_records_never_show_in_any_list(api: Api, alerts: Alerts) -> None:
    now = datetime.now(UTC)
    finding = Finding("V-OTHER", "gas_safe", Kind.HAZARD, Source.SCAN, "test:other", now,
                      SYSTEM, "gas at V-OTHER")  # fmt: skip
    with psycopg.connect(api.db_url) as conn:
        open_case(conn, finding, now, CasesSettings())
        for scope, subject, venue in (("venue", "V-OTHER", "V-OTHER"),
                                      ("community", "Riverside", None)):  # fmt: skip
            conn.execute(
                "INSERT INTO risk_score (at, scope, subject_id, venue_id, community, score, level,"
                " basis, reasons) VALUES (%s, %s, %s, %s, 'Riverside', 88, 'red', 'rules', '[]')",
                (now, scope, subject, venue),
            )
    with api.client("operator") as client:
        made = client.post("/api/v1/silences", json={**SILENCE, "subject_id": "V-OTHER"})
        assert made.status_code == 201
        unscoped = {p: client.get(p, params=MONTH).text for p in SCOPED_LISTS}
    with api.client("operator-xinhua") as client:
        scoped = {p: client.get(p, params=MONTH) for p in SCOPED_LISTS}
    for path in SCOPED_LISTS:
        assert any(o in unscoped[path] for o in OTHERS), f"{path}: the other community's data"
        assert scoped[path].status_code == 200, (path, scoped[path].text)
        leaked = [o for o in OTHERS if o in scoped[path].text]
        assert not leaked, f"{path} shows {leaked} to a Xinhua operator"


PAGED_LISTS = [*SCOPED_LISTS[:-1], "/api/v1/rejected", "/api/v1/risk/venues/V-HOME"]


@pytest.mark.parametrize("key", [["not a number or a time"], [1, 2, 3], [{"a": 1}, None]])
def test_a_cursor_this_api_did_not_give_out_is_refused_by_every_list(
    api: Api, key: list[object]
) -> None:
    forged = encode_cursor(tuple(key))
    with api.client("admin") as client:
        answers = {p: client.get(p, params={"cursor": forged}) for p in PAGED_LISTS}
    wrong = {p: r.status_code for p, r in answers.items() if r.status_code not in (200, 400)}
    assert not wrong, wrong
    refused = [p for p, r in answers.items() if r.status_code == 400]
    assert all(answers[p].json()["error"]["code"] == "bad_cursor" for p in refused)
    if len(key) != 1:
        assert refused == PAGED_LISTS, "a key of the wrong length is never a cursor"
