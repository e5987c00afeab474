"""The assessment as one self-contained HTML page for the office's monthly meeting.

UTF-8, a CJK-capable font stack, the tables, and inline SVG charts (no network, no scripts).
The template is autoescaped; the charts are built by `charts` with their text escaped.
"""

from __future__ import annotations

from typing import Final

import jinja2

from firewatch.cases.assessment import charts
from firewatch.cases.assessment.compute import Assessment
from firewatch.cases.assessment.text import COMMUNITY, DEPARTMENT, cell

FONT_STACK: Final = (
    '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC",'
    ' "Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",'
    ' "Droid Sans Fallback", sans-serif'
)

TEMPLATE: Final = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>消防安全月度考核 {{ r.month }}</title>
<style>
  body { font-family: {{ font_stack|safe }}; margin: 24px 32px; color: #222; }
  h1 { font-size: 24px; margin-bottom: 4px; }
  h2 { font-size: 18px; margin-top: 28px; border-bottom: 2px solid #c0392b; }
  .meta { color: #666; font-size: 13px; }
  .cards { display: flex; gap: 16px; margin: 16px 0; flex-wrap: wrap; }
  .card { border: 1px solid #ddd; border-radius: 6px; padding: 10px 16px; min-width: 120px; }
  .card b { display: block; font-size: 22px; color: #c0392b; }
  table { border-collapse: collapse; font-size: 13px; margin-top: 8px; }
  th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; white-space: nowrap; }
  th { background: #f4f4f4; }
  td.name, th.name { text-align: left; }
  tr.total td { font-weight: bold; background: #fafafa; }
  svg text { font-family: {{ font_stack|safe }}; font-size: 13px; fill: #222; }
  svg text.chart-title { font-size: 15px; font-weight: bold; }
  svg text.small { font-size: 11px; }
  svg text.na { fill: #999; }
  svg line.axis { stroke: #999; }
  .charts { display: flex; flex-wrap: wrap; gap: 24px; }
  .note { color: #666; font-size: 12px; }
</style>
</head>
<body>
<h1>消防安全月度考核 Fire-safety assessment — {{ r.month }}</h1>
<div class="meta">时区 {{ r.timezone }} · 居委 {{ r.communities|length }} 个 ·
 部门 {{ r.departments|length }} 个</div>
<div class="cards">
  <div class="card">应检/已检<b>{{ r.total.inspections_required }} /
    {{ r.total.inspections_done }}</b></div>
  <div class="card">发现隐患<b>{{ r.total.hazards_found }}</b></div>
  <div class="card">整改结案<b>{{ r.total.hazards_closed }}</b></div>
  <div class="card">超期未结<b>{{ r.total.overdue }}</b></div>
  <div class="card">回潮<b>{{ r.total.recurrences }}</b></div>
  <div class="card">设备在线率<b>{{ total_online }}</b></div>
</div>
<h2>居委排名 Communities</h2>
<div class="charts">{{ score_chart|safe }}{{ coverage_chart|safe }}</div>
<div class="charts">{{ found_chart|safe }}</div>
<table>
<tr>{% for c in community_cols %}
  <th class="{{ 'name' if c.key == 'community' }}">{{ c.title }}</th>{% endfor %}</tr>
{% for row in community_rows %}<tr class="{{ row.cls }}">{% for v in row.cells %}
  <td class="{{ 'name' if loop.index == 2 }}">{{ v }}</td>{% endfor %}</tr>
{% endfor %}</table>
<h2>部门排名 Departments</h2>
<div class="charts">{{ department_chart|safe }}</div>
<table>
<tr>{% for c in department_cols %}
  <th class="{{ 'name' if c.key == 'department' }}">{{ c.title }}</th>{% endfor %}</tr>
{% for row in department_rows %}<tr>{% for v in row %}
  <td class="{{ 'name' if loop.index == 2 }}">{{ v }}</td>{% endfor %}</tr>
{% endfor %}</table>
<p class="note">得分: 检查覆盖 40 · 结案率 30 · 按期 20 · 设备在线 10(缺项按比例折算)。
设备在线率为生成报告时的设备在线状态。{% if not r.alerts_available %}
警情与响应时间: n/a(警情表尚未建立)。{% endif %}</p>
</body>
</html>
"""

_ENV: Final = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


def render_html(report: Assessment) -> str:
    names = [r.community for r in report.communities]
    rows = [
        {"cls": "", "cells": [cell(report, c.key, c.value(r)) for c in COMMUNITY]}
        for r in report.communities
    ]
    rows.append(
        {"cls": "total", "cells": [cell(report, c.key, c.value(report.total)) for c in COMMUNITY]}
    )
    coverage = [
        (
            r.community,
            100 * r.inspections_done / r.inspections_required if r.inspections_required else None,
        )
        for r in report.communities
    ]
    online = report.total.device_online_rate
    return _ENV.from_string(TEMPLATE).render(
        r=report,
        font_stack=(FONT_STACK),
        total_online="-" if online is None else f"{100 * online:.1f}%",
        score_chart=(
            charts.hbars(
                "综合得分 score", [(r.community, r.score) for r in report.communities], 100.0
            )
        ),
        coverage_chart=(
            charts.hbars(
                "检查覆盖率 inspection coverage", coverage, 100.0, unit="%", color=charts.PALETTE[2]
            )
        ),
        found_chart=(
            charts.grouped(
                "隐患发现与结案 hazards found / closed / overdue",
                names,
                [
                    ("发现 found", [float(r.hazards_found) for r in report.communities]),
                    ("结案 closed", [float(r.hazards_closed) for r in report.communities]),
                    ("超期 overdue", [float(r.overdue) for r in report.communities]),
                ],
                colors=(charts.PALETTE[1], charts.PALETTE[2], charts.PALETTE[0]),
            )
        ),
        department_chart=(
            charts.hbars(
                "部门得分 department score",
                [(d.label, d.score) for d in report.departments],
                100.0,
                color=charts.PALETTE[3],
            )
        ),
        community_cols=COMMUNITY,
        community_rows=rows,
        department_cols=DEPARTMENT,
        department_rows=[
            [cell(report, c.key, c.value(d)) for c in DEPARTMENT] for d in report.departments
        ],
    )
