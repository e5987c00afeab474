"""`firewatch dashboards publish`: the folder, the data source and the dashboards, pushed to a
Grafana server with grafana-client, idempotently by uid.

Each thing is read first and written only when missing or different, so a second publish of
the same dashboards changes nothing (no new dashboard versions). The data source's password is
sent when the data source is created, or when Grafana holds none; it is never read back.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

from firewatch.dashboards.datasource import DataSource, api_body, same_settings
from firewatch.dashboards.errors import DashboardPublishError
from firewatch.dashboards.export import folder_uid
from firewatch.dashboards.model import DATASOURCE_UID


class Action(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"  # the data source, when no database URL is known


@dataclass(frozen=True, slots=True)
class PublishReport:
    folder: Action
    datasource: Action
    dashboards: tuple[tuple[str, Action], ...]

    def lines(self) -> list[str]:
        out = [f"folder: {self.folder}", f"data source {DATASOURCE_UID}: {self.datasource}"]
        out += [f"dashboard {uid}: {action}" for uid, action in self.dashboards]
        return out


def connect(url: str, token: str, timeout_s: float = 10.0) -> GrafanaApi:
    api: GrafanaApi = GrafanaApi.from_url(url, credential=token, timeout=timeout_s)
    return api


def _describe(exc: GrafanaException) -> str:
    """Grafana's answer: its status and message (grafana-client's messages may carry both)."""
    message = str(exc.message)
    status = str(exc.status_code or "")
    return message if not status or status in message else f"{status} {message}"


def _get(call: Any, what: str, *args: Any) -> dict[str, Any] | None:
    """What Grafana holds, or None when it answers 404."""
    try:
        found: dict[str, Any] = call(*args)
    except GrafanaClientError as exc:
        if exc.status_code == 404:
            return None
        raise DashboardPublishError(f"reading {what} failed: {_describe(exc)}") from exc
    except GrafanaException as exc:
        raise DashboardPublishError(f"reading {what} failed: {_describe(exc)}") from exc
    except OSError as exc:  # the HTTP client's connection errors
        raise DashboardPublishError(
            f"reading {what} failed: Grafana cannot be reached ({exc})"
        ) from exc
    return found


def _put(call: Any, what: str, *args: Any, **kwargs: Any) -> None:
    try:
        call(*args, **kwargs)
    except GrafanaException as exc:
        raise DashboardPublishError(f"writing {what} failed: {_describe(exc)}") from exc
    except OSError as exc:
        raise DashboardPublishError(
            f"writing {what} failed: Grafana cannot be reached ({exc})"
        ) from exc


def ensure_folder(api: GrafanaApi, title: str) -> tuple[str, Action]:
    uid = folder_uid(title)
    found = _get(api.folder.get_folder, f"folder {uid}", uid)
    if found is None:
        _put(api.folder.create_folder, f"folder {uid}", title, uid=uid)
        return uid, Action.CREATED
    if found.get("title") != title:
        _put(api.folder.update_folder, f"folder {uid}", uid, title=title, overwrite=True)
        return uid, Action.UPDATED
    return uid, Action.UNCHANGED


def ensure_datasource(api: GrafanaApi, source: DataSource | None) -> Action:
    if source is None:
        return Action.SKIPPED
    what = f"data source {DATASOURCE_UID}"
    found = _get(api.datasource.get_datasource_by_uid, what, DATASOURCE_UID)
    if found is None:
        _put(api.datasource.create_datasource, what, api_body(source, with_password=True))
        return Action.CREATED
    has_password = bool((found.get("secureJsonFields") or {}).get("password"))
    wanted = api_body(source, with_password=not has_password)
    if same_settings(found, wanted) and has_password:
        return Action.UNCHANGED
    _put(api.datasource.update_datasource_by_uid, what, DATASOURCE_UID, wanted)
    return Action.UPDATED


def _comparable(dashboard: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in dashboard.items() if k not in ("id", "version")}


def ensure_dashboard(api: GrafanaApi, dashboard: dict[str, Any], folder: str) -> Action:
    uid = str(dashboard["uid"])
    found = _get(api.dashboard.get_dashboard, f"dashboard {uid}", uid)
    if found is not None:
        stored = found.get("dashboard") or {}
        in_folder = (found.get("meta") or {}).get("folderUid") == folder
        if in_folder and _comparable(stored) == _comparable(dashboard):
            return Action.UNCHANGED
    body = {
        "dashboard": {**dashboard, "id": None},
        "folderUid": folder,
        "overwrite": True,
        "message": "firewatch dashboards publish",
    }
    _put(api.dashboard.update_dashboard, f"dashboard {uid}", body)
    return Action.CREATED if found is None else Action.UPDATED


def publish(
    api: GrafanaApi, dashboards: list[dict[str, Any]], folder_title: str, source: DataSource | None
) -> PublishReport:
    """Folder first, then the data source the dashboards name, then the dashboards."""
    folder, folder_action = ensure_folder(api, folder_title)
    datasource_action = ensure_datasource(api, source)
    done = tuple((str(d["uid"]), ensure_dashboard(api, d, folder)) for d in dashboards)
    return PublishReport(folder_action, datasource_action, done)
