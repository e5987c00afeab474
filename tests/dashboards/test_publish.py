"""`publish` against a recording HTTP server: the Grafana API calls it makes, in order, and
that a second publish of the same dashboards only reads."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

import pytest

from firewatch import cli_dashboards as cli
from firewatch.config import Config
from firewatch.dashboards.datasource import DataSource
from firewatch.dashboards.errors import DashboardPublishError
from firewatch.dashboards.export import dashboards
from firewatch.dashboards.publish import Action, connect, publish
from tests.dashboards.grafana_stub import GrafanaStub, grafana_stub

ZONE = "Asia/Shanghai"
UIDS = ["fw-control-room", "fw-cases", "fw-inspections", "fw-devices", "fw-venue"]
SOURCE = DataSource.from_url("postgresql://grafana_reader:r3ad@db.internal:5432/firewatch")


@pytest.fixture
def stub() -> Iterator[GrafanaStub]:
    with grafana_stub() as server:
        yield server


@pytest.fixture(scope="module")
def boards() -> list[dict[str, Any]]:
    return dashboards(ZONE)


def _calls(stub: GrafanaStub) -> list[tuple[str, str]]:
    return [(c.method, c.path) for c in stub.calls]


def test_first_publish_creates_everything(stub: GrafanaStub, boards: list[dict[str, Any]]) -> None:
    report = publish(connect(stub.url, "glsa_token"), boards, "Firewatch", SOURCE)
    assert report.folder is Action.CREATED and report.datasource is Action.CREATED
    assert report.dashboards == tuple((uid, Action.CREATED) for uid in UIDS)
    expected = [
        ("GET", "/api/folders/firewatch"),
        ("POST", "/api/folders"),
        ("GET", "/api/datasources/uid/firewatch-pg"),
        ("POST", "/api/datasources"),
    ]
    for uid in UIDS:
        expected += [("GET", f"/api/dashboards/uid/{uid}"), ("POST", "/api/dashboards/db")]
    assert _calls(stub) == expected
    assert {c.authorization for c in stub.calls} == {"Bearer glsa_token"}
    folder, source = stub.calls[1].body, stub.calls[3].body
    assert folder == {"title": "Firewatch", "uid": "firewatch"}
    assert source["uid"] == "firewatch-pg" and source["type"] == "grafana-postgresql-datasource"
    assert source["url"] == "db.internal:5432" and source["user"] == "grafana_reader"
    assert source["jsonData"]["database"] == "firewatch"
    assert source["secureJsonData"] == {"password": "r3ad"}
    posted = [c.body for c in stub.calls if c.path == "/api/dashboards/db"]
    for body, board in zip(posted, boards, strict=True):
        assert body["folderUid"] == "firewatch" and body["overwrite"] is True
        assert body["dashboard"] == {**board, "id": None}


def test_second_publish_only_reads(stub: GrafanaStub, boards: list[dict[str, Any]]) -> None:
    api = connect(stub.url, "glsa_token")
    publish(api, boards, "Firewatch", SOURCE)
    stub.calls.clear()
    again = publish(api, boards, "Firewatch", SOURCE)
    assert again.folder is Action.UNCHANGED and again.datasource is Action.UNCHANGED
    assert {a for _, a in again.dashboards} == {Action.UNCHANGED}
    assert {m for m, _ in _calls(stub)} == {"GET"}
    assert all(stub.dashboards[uid]["dashboard"]["version"] == 1 for uid in UIDS)


def test_changes_are_written_by_uid(stub: GrafanaStub, boards: list[dict[str, Any]]) -> None:
    api = connect(stub.url, "glsa_token")
    publish(api, boards, "Firewatch", SOURCE)
    stub.dashboards["fw-cases"]["dashboard"]["title"] = "edited in the UI"
    stub.folders["firewatch"]["title"] = "firewatch (old)"
    moved = DataSource.from_url("postgresql://grafana_reader@db2.internal:5432/firewatch")
    stub.calls.clear()
    report = publish(api, boards, "Firewatch", moved)
    assert report.folder is Action.UPDATED and report.datasource is Action.UPDATED
    assert dict(report.dashboards)["fw-cases"] is Action.UPDATED
    assert [a for u, a in report.dashboards if u != "fw-cases"] == [Action.UNCHANGED] * 4
    writes = [(c.method, c.path) for c in stub.calls if c.method != "GET"]
    assert writes == [
        ("PUT", "/api/folders/firewatch"),
        ("PUT", "/api/datasources/uid/firewatch-pg"),
        ("POST", "/api/dashboards/db"),
    ]
    assert stub.datasources["firewatch-pg"]["url"] == "db2.internal:5432"
    assert stub.dashboards["fw-cases"]["dashboard"]["version"] == 2


def test_refusal_names_the_call(stub: GrafanaStub, boards: list[dict[str, Any]]) -> None:
    stub.refuse_with = 401
    with pytest.raises(DashboardPublishError, match="folder firewatch failed: 401"):
        publish(connect(stub.url, "wrong"), boards, "Firewatch", SOURCE)


def test_unreachable_grafana_is_named(boards: list[dict[str, Any]]) -> None:
    with grafana_stub() as gone:
        url = gone.url  # a loopback port nobody listens on once the server is closed
    with pytest.raises(DashboardPublishError, match="Grafana cannot be reached"):
        publish(connect(url, "t", timeout_s=2), boards, "Firewatch", SOURCE)


def _run(argv: list[str], config: Config) -> int:
    parser = argparse.ArgumentParser(prog="firewatch")
    cli.add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args, config)
    return code


def test_publish_command(stub: GrafanaStub, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["dashboards", "publish", "--url", stub.url, "--token", "t0k", "--folder", "Fire Ops"]
    assert _run(argv, Config()) == 0
    out = capsys.readouterr()
    assert "folder: created" in out.out and "dashboard fw-venue: created" in out.out
    assert "data source not published" in out.err  # no database URL configured
    assert set(stub.dashboards) == set(UIDS) and set(stub.folders) == {"fire-ops"}
    stub.refuse_with = 500
    assert _run(argv, Config()) == 1
    assert "reading folder fire-ops failed: Server Error 500" in capsys.readouterr().err
