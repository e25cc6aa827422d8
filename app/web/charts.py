"""Server-side SVG charts: no JavaScript, no CDN, printable, readable without colour.

Each function returns Markup (safe SVG) with a <title> per bar for hover text and the values
written on the chart, so the numbers are readable in print and by screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from markupsafe import Markup

# No red here: red (#b42318) is reserved for highlighted (late) bars.
PALETTE = ["#0b5cad", "#1b7f3b", "#a15c00", "#6941c6", "#0e7490", "#5c6b7a", "#7a5c00"]


def _num(value) -> float:
    # Display geometry only; the labels keep the exact Decimal text.
    return float(value) if isinstance(value, Decimal) else float(value or 0)


def bar_chart(items: Sequence[tuple[str, object]], *, title: str, value_label=str, width: int = 560,
              bar_height: int = 26, colors: Sequence[str] | None = None, highlight: set[str] | None = None
              ) -> Markup:
    """Horizontal bars: items are (label, value)."""
    colors = colors or PALETTE
    label_w, value_w, pad = 150, 120, 8
    plot_w = max(60, width - label_w - value_w - 2 * pad)
    top = 28
    height = top + len(items) * (bar_height + 6) + pad
    peak = max([_num(v) for _, v in items] or [0]) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f'<text x="{pad}" y="18" font-size="14" font-weight="600" fill="#1d2733">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = top + i * (bar_height + 6)
        w = max(0.0, _num(value) / peak * plot_w)
        color = "#b42318" if highlight and label in highlight else colors[i % len(colors)]
        text = value_label(value)
        parts.append(
            f'<g><title>{escape(label)}: {escape(text)}</title>'
            f'<text x="{pad}" y="{y + bar_height * 0.68:.1f}" font-size="12" fill="#1d2733">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_height}" rx="3" fill="{color}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + bar_height * 0.68:.1f}" font-size="12" '
            f'fill="#1d2733">{escape(text)}</text></g>'
        )
    if not items:
        parts.append(f'<text x="{pad}" y="{top + 14}" font-size="12" fill="#5c6b7a">Sem dados</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label and value above went through escape()


def column_chart(items: Sequence[tuple[str, Sequence[object]]], *, title: str, series: Sequence[str],
                 width: int = 720, height: int = 220, colors: Sequence[str] | None = None) -> Markup:
    """Stacked columns over time: items are (x label, values per series)."""
    colors = colors or PALETTE
    pad_l, pad_b, top = 36, 34, 44
    plot_h = height - top - pad_b
    n = max(1, len(items))
    col_w = max(4.0, (width - pad_l - 8) / n - 3)
    peak = max([sum(_num(v) for v in values) for _, values in items] or [0]) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}">',
        f'<text x="4" y="16" font-size="14" font-weight="600" fill="#1d2733">{escape(title)}</text>',
    ]
    x_leg = 4
    for i, name in enumerate(series):
        parts.append(f'<rect x="{x_leg}" y="24" width="10" height="10" fill="{colors[i % len(colors)]}"/>'
                     f'<text x="{x_leg + 14}" y="33" font-size="11" fill="#1d2733">{escape(name)}</text>')
        x_leg += 24 + 7 * len(name)
    parts.append(f'<text x="4" y="{top + 10}" font-size="10" fill="#5c6b7a">{peak:g}</text>')
    parts.append(f'<line x1="{pad_l}" y1="{top + plot_h}" x2="{width - 4}" y2="{top + plot_h}" stroke="#b9c3cd"/>')
    for i, (label, values) in enumerate(items):
        x = pad_l + i * (col_w + 3)
        y = top + plot_h
        tip = ", ".join(f"{s}: {v}" for s, v in zip(series, values, strict=False))
        parts.append(f"<g><title>{escape(label)} — {escape(tip)}</title>")
        for j, value in enumerate(values):
            h = _num(value) / peak * plot_h
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{col_w:.1f}" height="{h:.1f}" '
                         f'fill="{colors[j % len(colors)]}"/>')
        parts.append("</g>")
        if n <= 12 or i % max(1, n // 10) == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - 14}" font-size="10" fill="#5c6b7a">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label and value above went through escape()
