"""Hazard cases through the API: scope, history, moves by role, and conflicts."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from firewatch.auth.roles import Role as AuthRole
from firewatch.auth.users import create_user
from firewatch.cases import SYSTEM, CasesSettings, Finding, Kind, Source, open_case
from tests.api.conftest import Api


def _open(api: Api, venue_id: str, hazard: str) -> str:
    finding = Finding(
        venue_id, hazard, Kind.HAZARD, Source.SCAN, f"test:{venue_id}:{hazard}",
        datetime.now(UTC), SYSTEM, f"{hazard} at {venue_id}",
    )  # fmt: skip
    with psycopg.connect(api.db_url) as conn:
        return open_case(conn, finding, datetime.now(UTC), CasesSettings()).case_id


@pytest.fixture
def two_cases(api: Api) -> tuple[str, str]:
    return _open(api, "V-SHOP", "exits_unlocked"), _open(api, "V-OTHER", "gas_safe")


def test_cases_are_listed_within_the_callers_communities(
    api: Api, two_cases: tuple[str, str]
) -> None:
    mine, theirs = two_cases
    with api.client("operator-xinhua") as client:
        listed = [c["case_id"] for c in client.get("/api/v1/cases").json()["items"]]
        hidden = client.get(f"/api/v1/cases/{theirs}")
        shown = client.get(f"/api/v1/cases/{mine}").json()
    with api.client("viewer") as client:
        everything = {c["case_id"] for c in client.get("/api/v1/cases").json()["items"]}
    assert listed == [mine]
    assert hidden.status_code == 404
    assert shown["venue_id"] == "V-SHOP" and shown["history"], "a case comes with its history"
    assert everything == {mine, theirs}


def test_moves_follow_the_roles_and_a_stale_view_conflicts(
    api: Api, two_cases: tuple[str, str]
) -> None:
    case_id = two_cases[0]
    with api.client("operator") as client:
        case = client.get(f"/api/v1/cases/{case_id}").json()
    with api.client("viewer") as client:
        refused = client.post(f"/api/v1/cases/{case_id}/move", json={"to": "registered"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    with api.client("operator") as client:
        first = client.post(
            f"/api/v1/cases/{case_id}/move",
            json={"to": "cancelled", "note": "duplicate report",
                  "expected_version": case["version"]},
        )  # fmt: skip
        stale = client.post(
            f"/api/v1/cases/{case_id}/move",
            json={"to": "cancelled", "expected_version": case["version"]},
        )
        after = client.get(f"/api/v1/cases/{case_id}").json()
    assert first.status_code == 200, first.text
    assert stale.status_code in (403, 409), stale.text
    assert after["stage"] == "cancelled"
    assert after["history"][-1]["note"] == "duplicate report"


def test_an_illegal_move_names_what_is_allowed(api: Api, two_cases: tuple[str, str]) -> None:
    with api.client("operator") as client:
        response = client.post(f"/api/v1/cases/{two_cases[0]}/move", json={"to": "closed"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "illegal_move"


def test_dispatched_departments_move_their_own_parts(api: Api, two_cases: tuple[str, str]) -> None:
    case_id = two_cases[0]
    with psycopg.connect(api.db_url) as conn:
        api.tokens["market"] = create_user(
            conn, "u-market", AuthRole.DEPARTMENT, department="market_supervision"
        )
        api.tokens["police"] = create_user(
            conn, "u-police", AuthRole.DEPARTMENT, department="police_station"
        )
    with api.client("operator") as client:
        registered = client.post(f"/api/v1/cases/{case_id}/move", json={"to": "registered"})
        assert registered.status_code == 200, registered.text
        dispatched = client.post(
            f"/api/v1/cases/{case_id}/dispatch",
            json={"departments": ["market_supervision", "police_station"]},
        )
    part = f"/api/v1/cases/{case_id}/parts"
    with api.client("police") as client:
        not_theirs = client.post(f"{part}/market_supervision", json={"to": "accepted"})
        no_note = client.post(f"{part}/police_station", json={"to": "declined"})
        declined = client.post(
            f"{part}/police_station", json={"to": "declined", "note": "no police matter"}
        )
    with api.client("market") as client:
        accepted = client.post(f"{part}/market_supervision", json={"to": "accepted"})
        done = client.post(f"{part}/market_supervision", json={"to": "done", "note": "fixed"})
    assert dispatched.json()["stage"] == "dispatched"
    assert not_theirs.status_code == 403 and "department" in not_theirs.json()["error"]["message"]
    assert no_note.status_code == 403
    assert declined.status_code == 200
    assert accepted.json()["stage"] == "handling"
    assert done.json()["stage"] == "verifying", "the last part done sends it to verification"


def test_cases_filter_by_community_and_opening_time(api: Api, two_cases: tuple[str, str]) -> None:
    later = datetime.now(UTC).isoformat()
    with api.client("viewer") as client:
        riverside = client.get("/api/v1/cases", params={"community": "Riverside"}).json()
        none_yet = client.get("/api/v1/cases", params={"since": later}).json()
        before = client.get("/api/v1/cases", params={"until": later}).json()
    assert [c["case_id"] for c in riverside["items"]] == [two_cases[1]]
    assert none_yet["items"] == []
    assert {c["case_id"] for c in before["items"]} == set(two_cases)


def test_case_pages_follow_the_cursor_within_the_scope(api: Api) -> None:
    made = [_open(api, venue, hazard) for venue in ("V-SHOP", "V-HOME", "V-OTHER")
            for hazard in ("exits_unlocked", "gas_safe")]  # fmt: skip
    mine = sorted(made[:4])

    def walk(who: str, **params: str) -> list[str]:
        seen: list[str] = []
        cursor = None
        with api.client(who) as client:
            while True:
                query = {"limit": "1", **params, **({"cursor": cursor} if cursor else {})}
                body = client.get("/api/v1/cases", params=query).json()
                seen += [c["case_id"] for c in body["items"]]
                if (cursor := body["next_cursor"]) is None:
                    return seen

    assert walk("viewer") == sorted(made)
    assert walk("operator-xinhua") == mine
    assert walk("operator-xinhua", community="Riverside") == []
    assert walk("viewer", community="Riverside") == sorted(made[4:])
