"""`firewatch dashboards export DIR`: the files a Grafana server provisions itself from.

    DIR/dashboards/<uid>.json                 one file a dashboard
    DIR/provisioning/dashboards/firewatch.yaml  a file provider: that folder, in a Grafana folder
    DIR/provisioning/datasources/firewatch.yaml the PostgreSQL data source (uid firewatch-pg)

Point Grafana's `paths.provisioning` at DIR/provisioning (or copy the two YAML files into
its provisioning folders) and make DIR/dashboards readable at the path the provider names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

from firewatch.dashboards.boards import all_boards
from firewatch.dashboards.datasource import DataSource, provisioning, to_yaml
from firewatch.dashboards.render import to_json

FOLDER_TITLE: Final = "Firewatch"


def folder_uid(title: str) -> str:
    """A stable folder uid from its title.

    >>> folder_uid("Firewatch"), folder_uid("云栖 Control room!")
    ('firewatch', 'control-room')
    """
    slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in title.lower())
    slug = "-".join(part for part in slug.split("-") if part)[:40]
    return slug or "firewatch"


def dashboards(zone: str) -> list[dict[str, Any]]:
    """Every board as Grafana dashboard JSON."""
    return [to_json(board) for board in all_boards(zone)]


def dashboard_text(dashboard: dict[str, Any]) -> str:
    return json.dumps(dashboard, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def provider(path: Path, folder: str) -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": "firewatch",
                "orgId": 1,
                "folder": folder,
                "folderUid": folder_uid(folder),
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,
                "updateIntervalSeconds": 60,
                "options": {"path": str(path), "foldersFromFilesStructure": False},
            }
        ],
    }


def export(
    out: Path, zone: str, source: DataSource | None, folder: str = FOLDER_TITLE
) -> list[Path]:
    """Write the dashboards and both provisioning files under `out`; the paths written."""
    boards_dir = (out / "dashboards").resolve()
    boards_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for dashboard in dashboards(zone):
        path = boards_dir / f"{dashboard['uid']}.json"
        path.write_text(dashboard_text(dashboard), encoding="utf-8")
        written.append(path)
    for kind, data in (
        ("dashboards", provider(boards_dir, folder)),
        ("datasources", provisioning(source)),
    ):
        path = out / "provisioning" / kind / "firewatch.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        header = "# Written by `firewatch dashboards export`; regenerate rather than edit.\n"
        path.write_text(header + to_yaml(data), encoding="utf-8")
        written.append(path)
    return written
