"""The generated Grafana JSON: it loads back through the foundation SDK's schema types, is
stable, lays out on the grid, names the provisioned data source; export and its CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as models

from firewatch import cli_dashboards as cli
from firewatch.config import Config
from firewatch.dashboards.export import dashboards, export
from firewatch.dashboards.model import DATASOURCE_TYPE, DATASOURCE_UID
from firewatch.dashboards.sqlquery import SqlQuery, register

ZONE = "Asia/Shanghai"
UIDS = ["fw-control-room", "fw-cases", "fw-inspections", "fw-devices", "fw-venue"]


@pytest.fixture(scope="module")
def generated() -> list[dict[str, Any]]:
    register()
    return dashboards(ZONE)


def test_stable_uids_and_output(generated: list[dict[str, Any]]) -> None:
    assert [d["uid"] for d in generated] == UIDS
    assert generated == dashboards(ZONE)


def test_loads_through_the_sdk_schema(generated: list[dict[str, Any]]) -> None:
    for board in generated:
        loaded = models.Dashboard.from_json(board)
        again = json.loads(json.dumps(loaded, cls=JSONEncoder, sort_keys=True))
        for mine, theirs in zip(board["panels"], again["panels"], strict=True):
            if "custom" not in mine["fieldConfig"]["defaults"]:
                # reading back fills in the panel type's default custom field config
                theirs["fieldConfig"]["defaults"].pop("custom", None)
        assert again == board, f"{board['uid']} changes when read back by the SDK"
        for panel in loaded.panels or []:
            assert isinstance(panel, models.Panel)
            targets = panel.targets or []
            assert targets and all(isinstance(t, SqlQuery) for t in targets), panel.title
            # a known panel type's options decode into the SDK's typed options, not a dict
            assert not isinstance(panel.options, dict), f"{panel.type_val}: untyped options"


def test_targets_name_the_provisioned_data_source(generated: list[dict[str, Any]]) -> None:
    for board in generated:
        for panel in board["panels"]:
            assert panel["datasource"] == {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID}
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == DATASOURCE_UID
                assert target["rawQuery"] and target["editorMode"] == "code"
                want = "time_series" if panel["type"] == "timeseries" else "table"
                assert target["format"] == want, panel["title"]


def test_panels_tile_the_grid(generated: list[dict[str, Any]]) -> None:
    for board in generated:
        cells: set[tuple[int, int]] = set()
        ids = [p["id"] for p in board["panels"]]
        assert ids == list(range(1, len(ids) + 1))
        for panel in board["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24
            mine = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                    for y in range(pos["y"], pos["y"] + pos["h"])}  # fmt: skip
            assert not cells & mine, f"{board['uid']}: {panel['title']} overlaps another panel"
            cells |= mine


def test_variables(generated: list[dict[str, Any]]) -> None:
    venue = next(d for d in generated if d["uid"] == "fw-venue")
    names = [v["name"] for v in venue["templating"]["list"]]
    assert names == ["community", "venue", "device"]
    device = venue["templating"]["list"][2]
    assert device["multi"] and device["includeAll"] and "$venue" in device["query"]
    cases = next(d for d in generated if d["uid"] == "fw-cases")
    tz = next(v for v in cases["templating"]["list"] if v["name"] == "tz")
    assert tz["type"] == "constant" and tz["query"] == ZONE


def _run(argv: list[str], config: Config) -> int:
    parser = argparse.ArgumentParser(prog="firewatch")
    cli.add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args, config)
    return code


def test_export_command(tmp_path: Path, generated: list[dict[str, Any]]) -> None:
    config = Config.model_validate(
        {"database": {"url": "postgresql://fw:s3cret@db.internal:5433/firewatch"}}
    )
    assert _run(["dashboards", "export", str(tmp_path)], config) == 0
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*"))
    assert files == sorted(
        [f"dashboards/{uid}.json" for uid in UIDS]
        + ["provisioning/dashboards/firewatch.yaml", "provisioning/datasources/firewatch.yaml"]
    )
    for board in generated:
        text = (tmp_path / "dashboards" / f"{board['uid']}.json").read_text(encoding="utf-8")
        assert json.loads(text) == board
    source = (tmp_path / "provisioning/datasources/firewatch.yaml").read_text(encoding="utf-8")
    assert 'uid: "firewatch-pg"' in source and 'url: "db.internal:5433"' in source
    assert 'password: "$FIREWATCH_GRAFANA_DB_PASSWORD"' in source
    assert "s3cret" not in "".join(p.read_text(encoding="utf-8") for p in tmp_path.rglob("*.*"))
    provider = (tmp_path / "provisioning/dashboards/firewatch.yaml").read_text(encoding="utf-8")
    assert f'path: "{(tmp_path / "dashboards").resolve()}"' in provider
    assert 'folderUid: "firewatch"' in provider


def test_export_without_a_database_url_uses_placeholders(tmp_path: Path) -> None:
    export(tmp_path, ZONE, None)
    source = (tmp_path / "provisioning/datasources/firewatch.yaml").read_text(encoding="utf-8")
    assert 'url: "$FIREWATCH_GRAFANA_DB_ADDRESS"' in source
    assert 'database: "$FIREWATCH_GRAFANA_DB_NAME"' in source


def test_export_refuses_a_socket_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = Config.model_validate({"database": {"url": "postgresql:///fw?host=/run/pg"}})
    assert _run(["dashboards", "export", str(tmp_path)], config) == 1
    assert "Grafana needs a TCP address" in capsys.readouterr().err
