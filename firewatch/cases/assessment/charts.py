"""Inline SVG charts for the HTML assessment: no network, no JavaScript, text as UTF-8.

Text elements carry no font of their own: they inherit the page's CJK-capable font stack.

>>> svg = hbars("得分", [("梅园", 80.0), ("松林", None)], 100.0)
>>> svg.startswith("<svg") and "梅园" in svg and "n/a" in svg
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from xml.sax.saxutils import escape

PALETTE: Final = ("#c0392b", "#2e86c1", "#27ae60", "#8e44ad", "#d68910")
LABEL_W: Final = 120
BAR_H: Final = 22
GAP: Final = 8


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def hbars(
    title: str,
    items: Sequence[tuple[str, float | None]],
    maximum: float | None = None,
    *,
    unit: str = "",
    color: str = PALETTE[1],
    width: int = 560,
) -> str:
    """A horizontal bar per item, its value at the end; None shows as n/a."""
    values = [v for _, v in items if v is not None]
    top = maximum or max(values, default=1.0) or 1.0
    plot = width - LABEL_W - 60
    height = 34 + len(items) * (BAR_H + GAP)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
        f'<text x="0" y="18" class="chart-title">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = 30 + i * (BAR_H + GAP)
        out.append(
            f'<text x="{LABEL_W - 8}" y="{y + BAR_H - 6}" text-anchor="end">{escape(label)}</text>'
        )
        if value is None:
            out.append(f'<text x="{LABEL_W}" y="{y + BAR_H - 6}" class="na">n/a</text>')
            continue
        w = max(1.0, plot * min(value, top) / top)
        out.append(
            f'<rect x="{LABEL_W}" y="{y}" width="{w:.1f}" height="{BAR_H}" fill="{color}" rx="3"/>'
        )
        out.append(
            f'<text x="{LABEL_W + w + 6:.1f}" y="{y + BAR_H - 6}">'
            f"{escape(_fmt(value) + unit)}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def grouped(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    width: int = 760,
    height: int = 300,
    colors: Sequence[str] = PALETTE,
) -> str:
    """Vertical bars, one group per label, one bar per series, with a legend."""
    top = max((v for _, values in series for v in values), default=1.0) or 1.0
    left, bottom, plot_h = 40.0, float(height - 50), float(height - 120)
    slot = (width - left - 10) / max(1, len(labels))
    bar = min(28.0, (slot - 10) / max(1, len(series)))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
        f'<text x="0" y="18" class="chart-title">{escape(title)}</text>',
        f'<line x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}" class="axis"/>',
    ]
    for k, (name, _) in enumerate(series):
        x = left + k * 130
        out.append(
            f'<rect x="{x}" y="28" width="12" height="12" fill="{colors[k % len(colors)]}"/>'
            f'<text x="{x + 18}" y="39">{escape(name)}</text>'
        )
    for i, label in enumerate(labels):
        x0 = left + i * slot + (slot - bar * len(series)) / 2
        for k, (_, values) in enumerate(series):
            value = values[i]
            h = plot_h * value / top
            x = x0 + k * bar
            out.append(
                f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="{bar - 2:.1f}"'
                f' height="{h:.1f}" fill="{colors[k % len(colors)]}"/>'
            )
            out.append(
                f'<text x="{x + bar / 2 - 1:.1f}" y="{bottom - h - 4:.1f}"'
                f' text-anchor="middle" class="small">{escape(_fmt(value))}</text>'
            )
        out.append(
            f'<text x="{left + i * slot + slot / 2:.1f}" y="{bottom + 20}"'
            f' text-anchor="middle">{escape(label)}</text>'
        )
    out.append("</svg>")
    return "".join(out)
