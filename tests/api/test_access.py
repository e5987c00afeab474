"""Who may do what through the API, walked as a matrix against the real database."""

from __future__ import annotations

import psycopg
import pytest

from tests.api.conftest import Api

VENUE_DOC = {
    "venues": [
        {"venue_id": "V-NEW", "name": "New shop", "venue_type": "small_shop", "category": 2,
         "community": "Xinhua", "grid": "G-03", "address": "No. 3 Road", "lat": 31.23,
         "lon": 121.47, "station_id": "MS-1", "contacts": ["+8613800000009"]},
    ]
}  # fmt: skip

# (method, path, body) → the callers that may; every other role gets 403.
MATRIX = [
    # anyone with a token may ask who they are
    ("GET", "/api/v1/me", None, {"admin", "operator", "station", "inspector", "department", "viewer"}),
    # rejected messages: the control room and the administrator
    ("GET", "/api/v1/rejected", None, {"admin", "operator"}),
    # the registry can be read by every role
    ("GET", "/api/v1/venues", None, {"admin", "operator", "station", "inspector", "department", "viewer"}),
    ("GET", "/api/v1/stations", None, {"admin", "operator", "station", "inspector", "department", "viewer"}),
    # ... and changed by the administrator only
    ("PUT", "/api/v1/registry", VENUE_DOC, {"admin"}),
    ("POST", "/api/v1/devices/SMK-2/retire", None, {"admin"}),
]  # fmt: skip
ROLES = ["admin", "operator", "station", "inspector", "department", "viewer"]


@pytest.mark.parametrize(("method", "path", "body", "allowed"), MATRIX)
def test_role_matrix(api: Api, method: str, path: str, body: object, allowed: set[str]) -> None:
    for role in ROLES:
        with api.client(role) as client:
            response = client.request(method, path, json=body)
        expected = 200 if role in allowed else 403
        assert response.status_code == expected, (role, method, path, response.text)
        if expected == 403:
            assert response.json()["error"]["code"] == "forbidden"


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
