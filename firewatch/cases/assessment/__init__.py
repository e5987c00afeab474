"""The monthly assessment (考核) per community and department: facts -> compute -> render."""

from __future__ import annotations

from collections.abc import Collection

import psycopg

from firewatch.cases.assessment.compute import Assessment, CommunityRow, DepartmentRow, compute
from firewatch.cases.assessment.facts import Facts, Month, collect, within
from firewatch.cases.assessment.html import render_html
from firewatch.cases.assessment.text import render_csv, render_table
from firewatch.cases.settings import CasesSettings

__all__ = [
    "Assessment",
    "CommunityRow",
    "DepartmentRow",
    "Facts",
    "Month",
    "assess",
    "compute",
    "render_csv",
    "render_html",
    "render_table",
]


def assess(
    conn: psycopg.Connection,
    month: Month,
    settings: CasesSettings,
    communities: Collection[str] | None = None,
) -> Assessment:
    """The assessment of `month` from the store, of every community or of these only."""
    facts = collect(conn, month, settings.zone, settings.departments)
    return compute(facts if communities is None else within(facts, communities))
