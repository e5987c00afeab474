"""The PostgreSQL data source's query, as a foundation-SDK data query.

The SDK ships query types for many data sources but not for the SQL ones; this one follows the
SDK's own pattern (`to_json`, `from_json`, a builder, a registered variant), so that dashboards
load back through `Dashboard.from_json` with their targets typed and checked.
"""

from __future__ import annotations

from typing import Any, Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import dashboard

from firewatch.dashboards.model import DATASOURCE_TYPE, DATASOURCE_UID, Format


def datasource_ref() -> dashboard.DataSourceRef:
    return dashboard.DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)


class SqlQuery(cogvariants.Dataquery):
    """`rawSql` in code mode, with the result `format` Grafana should build frames from."""

    def __init__(self, ref_id: str, raw_sql: str, fmt: Format) -> None:
        self.ref_id = ref_id
        self.raw_sql = raw_sql
        self.format = fmt

    def to_json(self) -> dict[str, object]:
        return {
            "refId": self.ref_id,
            "datasource": {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID},
            "editorMode": "code",
            "rawQuery": True,
            "format": self.format.value,
            "rawSql": self.raw_sql,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Refuses what a firewatch target never is: a missing refId or SQL, another format."""
        ref_id, raw_sql = data.get("refId"), data.get("rawSql")
        if not isinstance(ref_id, str) or not isinstance(raw_sql, str) or not raw_sql.strip():
            raise ValueError(f"SQL target needs refId and rawSql, got keys {sorted(data)}")
        return cls(ref_id, raw_sql, Format(data.get("format", Format.TABLE.value)))


class SqlQueryBuilder(cogbuilder.Builder[cogvariants.Dataquery]):
    def __init__(self, raw_sql: str, fmt: Format, ref_id: str = "A") -> None:
        self._query = SqlQuery(ref_id, raw_sql, fmt)

    def build(self) -> cogvariants.Dataquery:
        return self._query


def register() -> None:
    """Make `Dashboard.from_json` decode our targets as `SqlQuery` (idempotent)."""
    from grafana_foundation_sdk.cog.plugins import register_default_plugins

    register_default_plugins()
    cogruntime.register_dataquery_variant(
        cogruntime.DataqueryConfig(identifier=DATASOURCE_TYPE, from_json_hook=SqlQuery.from_json)
    )
