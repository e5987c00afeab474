"""The monthly assessment against a small fixture whose every number was counted by hand."""

from __future__ import annotations

import argparse
import csv
import io
import json
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from firewatch import cli_cases as cli
from firewatch.cases import CasesSettings
from firewatch.cases.assessment import (
    Assessment,
    CommunityRow,
    DepartmentRow,
    Month,
    assess,
    render_csv,
    render_html,
    render_table,
)
from firewatch.config import Config
from tests.cases.support import seed


def at(text: str) -> datetime:
    """Local (Shanghai) time, as the office writes it."""
    return datetime.fromisoformat(f"2026-{text}+08:00")


# case: community venue kind opened closed stage due recurrence_of supervision
CASES = [
    # 梅园 (V-SHOP, V-HOME)
    ("A", "V-SHOP", "hazard", "06-02T09:00", "06-04T09:00", "closed", "06-09T09:00", None, "none"),
    ("B", "V-SHOP", "hazard", "06-10T08:00", "06-10T20:00", "closed", "06-17T08:00", None, "none"),
    ("C", "V-HOME", "hazard", "05-20T09:00", None, "handling", "05-27T09:00", None, "none"),
    (
        "D",
        "V-HOME",
        "hazard",
        "06-20T09:00",
        None,
        "dispatched",
        "07-05T09:00",
        "A",
        "street_proposed",
    ),
    (
        "E",
        "V-SHOP",
        "hazard",
        "06-15T09:00",
        "06-16T09:00",
        "cancelled",
        "06-22T09:00",
        None,
        "none",
    ),
    ("F", "V-SHOP", "incident", "06-05T09:00", None, "registered", "06-12T09:00", None, "none"),
    ("G", "V-SHOP", "hazard", "04-01T09:00", "05-15T09:00", "closed", "04-08T09:00", None, "none"),
    (
        "H",
        "V-HOME",
        "hazard",
        "05-01T09:00",
        "07-02T09:00",
        "closed",
        "05-08T09:00",
        None,
        "district",
    ),
    # 松林 (V-FLAT, V-FACT)
    ("I", "V-FLAT", "hazard", "06-03T12:00", "06-05T00:00", "closed", "06-10T12:00", None, "none"),
    ("J", "V-FACT", "hazard", "06-25T09:00", None, "reported", "06-26T09:00", None, "none"),
]
COMMUNITY = {"V-SHOP": "梅园", "V-HOME": "梅园", "V-FLAT": "松林", "V-FACT": "松林"}
# case, department, state, assigned, done
PARTS = [
    ("A", "police_station", "done", "06-02T10:00", "06-03T10:00"),  # 24 h
    ("B", "police_station", "done", "06-10T09:00", "06-10T15:00"),  # 6 h
    ("B", "market_supervision", "declined", "06-10T09:00", None),
    ("C", "law_enforcement", "accepted", "05-21T09:00", None),  # May's, still open, overdue
    ("D", "market_supervision", "accepted", "06-21T09:00", None),  # a recurrence, on time
    ("H", "police_station", "accepted", "05-02T09:00", None),  # overdue at the month's end
    ("J", "law_enforcement", "assigned", "06-25T10:00", None),  # overdue at the month's end
]
# venue, ts (UTC or local), scan type
SCANS = [
    ("V-SHOP", "2026-04-15T10:00:00+08:00", "inspection"),  # Q2 window: done for June
    ("V-HOME", "2026-05-31T16:30:00+00:00", "inspection"),  # 00:30 on 1 June in Shanghai
    ("V-FLAT", "2026-05-20T10:00:00+08:00", "inspection"),  # May: not June's
    ("V-FACT", "2026-02-10T10:00:00+08:00", "inspection"),  # H1 window: done for June
    ("V-FACT", "2026-06-10T10:00:00+08:00", "self_check"),  # the venue's own: does not count
]
LIVENESS = [("CHG-1", True), ("SMK-1", True)]  # SMK-2 never reported: not online


def _load_fixture(url: str) -> None:
    seed(url)
    with psycopg.connect(url) as conn:
        for cid, venue, kind, opened, closed, stage, due, recurrence, supervision in CASES:
            grid = {"V-SHOP": "G-1", "V-HOME": "G-1", "V-FLAT": "G-2", "V-FACT": "G-3"}[venue]
            conn.execute(
                "INSERT INTO hazard_case (case_id, kind, venue_id, community, grid, station_id,"
                " hazard, source, stage, opened_at, due_at, closed_at, supervision, recurrence_of,"
                " last_found_at, version) VALUES (%s, %s, %s, %s, %s, 'MS-1', %s,"
                " 'scan', %s, %s, %s, %s, %s, %s, %s, 1)",
                (
                    cid,
                    kind,
                    venue,
                    COMMUNITY[venue],
                    grid,
                    f"hazard_{cid}",
                    stage,
                    at(opened),
                    at(due),
                    at(closed) if closed else None,
                    supervision,
                    recurrence,
                    at(opened),
                ),
            )
        for cid, department, state, assigned, done in PARTS:
            conn.execute(
                "INSERT INTO case_part (case_id, department, state, assigned_at, done_at)"
                " VALUES (%s, %s, %s, %s, %s)",
                (cid, department, state, at(assigned), at(done) if done else None),
            )
        for seq, (venue, ts, kind) in enumerate(SCANS):
            conn.execute(
                "INSERT INTO venue_scan (ts, received_at, venue_id, seq, scan_type, inspector,"
                " items) VALUES (%s, %s, %s, %s, %s, 'INSP-1', '[]')",
                (ts, ts, venue, seq, kind),
            )
        for device, online in LIVENESS:
            conn.execute(
                "INSERT INTO device_liveness (device_id, online) VALUES (%s, %s)", (device, online)
            )


EXPECTED_COMMUNITIES = (
    # 梅园: both venues due in June and done (one at 00:30 on 1 June local); found A B D (E was
    # cancelled, F is an incident); closed A (48 h) and B (12 h); overdue C and H; D repeats A;
    # H is listed; one device of two online. Score 40*2/2 + 30*2/5 + 20*(1-2/5) + 10*1/2 = 69.
    CommunityRow("梅园", 2, 2, 2, 1, 3, 2, 30.0, 2, 1, 1, None, None, 0.5, 69.0, 1),
    # 松林: V-FLAT missed June, V-FACT covered by February; found I and J; I closed in 36 h;
    # J overdue; its one device online. Score 40*1/2 + 30*1/2 + 20*1/2 + 10*1 = 55.
    CommunityRow("松林", 2, 2, 1, 0, 2, 1, 36.0, 1, 0, 0, None, None, 1.0, 55.0, 2),
)
# The subdistrict: 7 cases open during June, 3 closed, 3 overdue, coverage 3/4, 2 of 3 devices.
TOTAL = CommunityRow(
    "全街道 subdistrict",
    4,
    4,
    3,
    1,
    5,
    3,
    36.0,
    3,
    1,
    1,
    None,
    None,
    0.6667,
    round(100 * (40 * 0.75 + 30 * 3 / 7 + 20 * 4 / 7 + 10 * 2 / 3) / 100, 1),
    0,
)
EXPECTED_DEPARTMENTS = (
    # police: A and B assigned and done (24 h, 6 h), both closed; H overdue. 60*2/3 + 40*2/3
    DepartmentRow("police_station", "派出所", 2, 2, 0, 15.0, 2, 1, 0, 66.7, 1),
    # market: B declined, D accepted (a recurrence, on time). 60*0/1 + 40*1
    DepartmentRow("market_supervision", "市场监管所", 2, 0, 1, None, 0, 0, 1, 40.0, 2),
    # law enforcement: C (May's) and J both overdue. 60*0 + 40*0
    DepartmentRow("law_enforcement", "城管执法队", 1, 0, 0, None, 0, 2, 0, 0.0, 3),
    # departments with nothing this month: no score, ranked last by name
    DepartmentRow("construction_centre", "建管中心", 0, 0, 0, None, 0, 0, 0, None, 4),
    DepartmentRow("fire_rescue", "消防救援站", 0, 0, 0, None, 0, 0, 0, None, 5),
    DepartmentRow("housing_office", "房管办", 0, 0, 0, None, 0, 0, 0, None, 6),
)


def _without_alerts(url: str) -> None:
    """A store without the alerting stage's table (as before its migration): alerts are n/a."""
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS alert CASCADE")


@pytest.fixture
def june(fresh_db: str) -> tuple[str, Assessment]:
    _load_fixture(fresh_db)
    _without_alerts(fresh_db)
    with psycopg.connect(fresh_db) as conn:
        return fresh_db, assess(conn, Month.parse("2026-06"), CasesSettings())


def test_the_numbers_match_the_hand_count(june: tuple[str, Assessment]) -> None:
    _, report = june
    assert report.communities == EXPECTED_COMMUNITIES
    assert report.total == TOTAL
    assert report.departments == EXPECTED_DEPARTMENTS
    assert not report.alerts_available


def test_alert_acknowledgement_times_come_from_the_alert_table(fresh_db: str) -> None:
    _load_fixture(fresh_db)
    _without_alerts(fresh_db)  # the columns the assessment reads, and no others
    with psycopg.connect(fresh_db) as conn:
        conn.execute(
            "CREATE TABLE alert (alert_id text, venue_id text, opened_at timestamptz,"
            " confirmed_at timestamptz, acked_at timestamptz)"
        )
        rows = [
            ("a1", "V-SHOP", "06-05T09:00:00", "06-05T09:01:00", "06-05T09:02:30"),  # 90 s
            ("a2", "V-HOME", "06-06T09:00:00", "06-06T09:00:30", "06-06T09:01:00"),  # 30 s
            ("a3", "V-HOME", "06-07T09:00:00", "06-07T09:01:00", None),  # never acknowledged
            ("a4", "V-FLAT", "06-08T09:00:00", None, "06-08T09:01:00"),  # from opening: 60 s
            ("a5", "V-FLAT", "05-08T09:00:00", None, "05-08T09:01:00"),  # May's
        ]
        for alert_id, venue, opened, confirmed, acked in rows:
            conn.execute(
                "INSERT INTO alert VALUES (%s, %s, %s, %s, %s)",
                (alert_id, venue, at(opened), confirmed and at(confirmed), acked and at(acked)),
            )
        conn.commit()
        report = assess(conn, Month.parse("2026-06"), CasesSettings())
    assert report.alerts_available
    assert [(r.community, r.alerts, r.ack_median_s) for r in report.communities] == [
        ("梅园", 3, 60.0),
        ("松林", 1, 60.0),
    ]
    assert (report.total.alerts, report.total.ack_median_s) == (4, 60.0)


def test_with_the_migrated_alert_table_and_no_alerts(fresh_db: str) -> None:
    _load_fixture(fresh_db)
    with psycopg.connect(fresh_db) as conn:
        present = conn.execute("SELECT to_regclass('alert') IS NOT NULL").fetchone() == (True,)
        report = assess(conn, Month.parse("2026-06"), CasesSettings())
    assert report.alerts_available is present
    assert report.total.alerts == (0 if present else None)
    assert report.total.ack_median_s is None


def test_the_table(june: tuple[str, Assessment]) -> None:
    text = render_table(june[1])
    lines = text.splitlines()
    assert lines[0] == "消防安全考核 fire-safety assessment 2026-06 (Asia/Shanghai)"
    head = next(line for line in lines if line.startswith("排名  居委"))
    assert head.split()[:6] == ["排名", "居委", "场所", "应检", "已检", "检查率"]
    meiyuan = next(line for line in lines if "梅园" in line).split()
    assert meiyuan == [
        "1",
        "梅园",
        "2",
        "2",
        "2",
        "100.0%",
        "1",
        "3",
        "2",
        "30.0",
        "2",
        "1",
        "1",
        "n/a",
        "n/a",
        "50.0%",
        "69.0",
    ]
    assert "派出所" in text and "n/a — the alert table does not exist yet" in text


def test_the_csv(june: tuple[str, Assessment]) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(june[1]))))
    assert [(r["scope"], r["name"], r["rank"]) for r in rows[:3]] == [
        ("community", "梅园", "1"),
        ("community", "松林", "2"),
        ("total", "全街道 subdistrict", ""),
    ]
    songlin = rows[1]
    assert (
        songlin["inspections_required"],
        songlin["inspections_done"],
        songlin["overdue"],
        songlin["median_hours_to_close"],
        songlin["alerts"],
    ) == ("2", "1", "1", "36.0", "n/a")
    police = next(r for r in rows if r["name"] == "police_station")
    assert (
        police["scope"],
        police["parts_done"],
        police["median_hours_to_done"],
        police["score"],
        police["venues"],
    ) == ("department", "2", "15.0", "66.7", "")


def test_the_html_page(june: tuple[str, Assessment]) -> None:
    page = render_html(june[1])
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert '"Noto Sans CJK SC"' in page and "&#34;" not in page.split("</style>")[0]
    assert page.count("<svg") == 4 and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )
    assert "梅园" in page and "综合得分" in page and "<script" not in page


def test_the_command_in_all_three_forms(june: tuple[str, Assessment], tmp_path: Path) -> None:
    url, _ = june
    parser = argparse.ArgumentParser(prog="firewatch")
    cli.add_commands(parser.add_subparsers(dest="command"))
    config = Config.model_validate({"database": {"url": url}})
    for form in ("table", "csv", "html"):
        out = tmp_path / f"assessment.{form}"
        args = parser.parse_args(
            ["report", "assessment", "--month", "2026-06", "--format", form, "--out", str(out)]
        )
        assert args.handler(args, config) == 0
        assert "梅园" in out.read_text(encoding="utf-8")
    with pytest.raises(SystemExit):
        parser.parse_args(["report", "assessment", "--month", "2026-13"])
    assert json.dumps(str(Month.parse("2026-06"))) == '"2026-06"'
