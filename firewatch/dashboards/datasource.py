"""The PostgreSQL data source the dashboards read, for Grafana's HTTP API and for provisioning.

The password is never written to a file: provisioning refers to `$FIREWATCH_GRAFANA_DB_PASSWORD`,
which Grafana expands from its own environment. Give Grafana a read-only role (README.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

from firewatch.dashboards.errors import DataSourceError
from firewatch.dashboards.model import DATASOURCE_NAME, DATASOURCE_TYPE, DATASOURCE_UID

PASSWORD_VARIABLE: Final = "FIREWATCH_GRAFANA_DB_PASSWORD"  # noqa: S105 - its name
PLACEHOLDERS: Final = {
    "url": "$FIREWATCH_GRAFANA_DB_ADDRESS",
    "database": "$FIREWATCH_GRAFANA_DB_NAME",
    "user": "$FIREWATCH_GRAFANA_DB_USER",
}
"""What the provisioning file says when no database URL is known at export."""


@dataclass(frozen=True, slots=True)
class DataSource:
    address: str  # host:port, as Grafana's `url`
    database: str
    user: str
    password: str | None
    sslmode: str = "disable"

    @classmethod
    def from_url(cls, url: str) -> DataSource:
        """
        >>> DataSource.from_url("postgresql://fw:s3cret@db.local:5433/firewatch?sslmode=require")
        DataSource(address='db.local:5433', database='firewatch', user='fw', password='s3cret', sslmode='require')
        """  # noqa: E501
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres"):
            raise DataSourceError(f"expected a postgresql:// URL for the data source, got {url!r}")
        if not parts.hostname:
            raise DataSourceError(
                "the database URL has no host (a Unix socket): Grafana needs a TCP address;"
                " pass --database-url postgresql://user:pass@host:port/db"
            )
        database = parts.path.lstrip("/") or (parts.username or "postgres")
        sslmode = parse_qs(parts.query).get("sslmode", ["disable"])[0]
        return cls(
            address=f"{parts.hostname}:{parts.port or 5432}",
            database=unquote(database),
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password) if parts.password else None,
            sslmode=sslmode,
        )


def _json_data(database: str, sslmode: str) -> dict[str, Any]:
    return {
        "database": database,
        "sslmode": sslmode,
        "postgresVersion": 1500,
        "timescaledb": False,  # $__timeGroup as floor(): the panels work on either backend
        "maxOpenConns": 10,
        "maxIdleConns": 10,
        "connMaxLifetime": 14400,
        "timeInterval": "1m",
    }


def api_body(source: DataSource, *, with_password: bool) -> dict[str, Any]:
    """The body of `POST /api/datasources` and `PUT /api/datasources/uid/{uid}`."""
    body: dict[str, Any] = {
        "uid": DATASOURCE_UID,
        "name": DATASOURCE_NAME,
        "type": DATASOURCE_TYPE,
        "access": "proxy",
        "url": source.address,
        "user": source.user,
        "isDefault": False,
        "jsonData": _json_data(source.database, source.sslmode),
    }
    if with_password and source.password is not None:
        body["secureJsonData"] = {"password": source.password}
    return body


def same_settings(stored: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether what Grafana holds already matches (secure fields cannot be read back)."""
    keys = ("name", "type", "access", "url", "user")
    if any(stored.get(k) != wanted.get(k) for k in keys):
        return False
    held = stored.get("jsonData") or {}
    return all(held.get(k) == v for k, v in wanted["jsonData"].items())


def provisioning(source: DataSource | None) -> dict[str, Any]:
    """`provisioning/datasources/firewatch.yaml`, as data."""
    address = source.address if source else PLACEHOLDERS["url"]
    database = source.database if source else PLACEHOLDERS["database"]
    entry: dict[str, Any] = {
        "name": DATASOURCE_NAME,
        "uid": DATASOURCE_UID,
        "type": DATASOURCE_TYPE,
        "access": "proxy",
        "url": address,
        "user": source.user if source else PLACEHOLDERS["user"],
        "isDefault": False,
        "editable": False,
        "jsonData": _json_data(database, source.sslmode if source else "disable"),
        "secureJsonData": {"password": f"${PASSWORD_VARIABLE}"},
    }
    return {"apiVersion": 1, "datasources": [entry]}


def to_yaml(value: Any, indent: int = 0) -> str:
    """YAML for the provisioning files (mappings, lists, scalars); strings as JSON strings,
    which YAML reads as double-quoted scalars.

    >>> print(to_yaml({"apiVersion": 1, "items": [{"name": "a", "on": True}]}), end="")
    apiVersion: 1
    items:
      - name: "a"
        on: true
    """
    pad = " " * indent
    if isinstance(value, dict):
        lines = []
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:\n{to_yaml(item, indent + 2)}")
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}\n")
        return "".join(lines)
    if isinstance(value, list):
        lines = []
        for item in value:
            body = to_yaml(item, indent + 2)
            lines.append(f"{pad}- {body.lstrip()}" if isinstance(item, dict) else
                         f"{pad}- {_scalar(item)}\n")  # fmt: skip
        return "".join(lines)
    return f"{pad}{_scalar(value)}\n"


def _scalar(value: Any) -> str:
    if isinstance(value, dict | list):
        return "{}" if isinstance(value, dict) else "[]"
    return json.dumps(value, ensure_ascii=False)
