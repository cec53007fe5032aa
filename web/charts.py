"""Charts drawn on the server as inline SVG (no JavaScript, no CDN): plain bars with text labels and
a <title> on every bar, so the numbers are there for screen readers and without colour."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#12355b", "#2a7f62", "#8a4b00", "#6b4c9a", "#b03a2e", "#3d4651", "#1f77b4", "#7f7f7f")


def bars(title: str, items: Sequence[tuple[str, float | None, str]], *, max_value: float = 1.0,
         width: int = 560, bar_h: int = 22) -> Markup:
    """Horizontal bars: (label, value or None for 'no data', text shown after the bar). Each bar sits
    on a pale track of the full scale, with 0, 50 and 100% marked under the bars when the scale is a
    share, so a low or empty bar still reads as a bar against its whole."""
    label_w, gap, axis_h = 90, 6, 18 if max_value == 1.0 else 0
    h = len(items) * (bar_h + gap) + 10 + axis_h
    span = width - label_w - 110
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" viewBox="0 0 {width} {h}" '
             f'width="{width}" height="{h}"><title>{escape(title)}</title>']
    for i, (label, value, text) in enumerate(items):
        y = 5 + i * (bar_h + gap)
        w = 0 if value is None or max_value <= 0 else round(span * min(value / max_value, 1.0))
        parts.append(f'<text x="{label_w - 6}" y="{y + bar_h * 0.7:.0f}" text-anchor="end" '
                     f'font-size="13">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{span}" height="{bar_h}" fill="#e7ebf0"/>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="{PALETTE[0]}">'
                     f'<title>{escape(label)}: {escape(text)}</title></rect>')
        parts.append(f'<text x="{label_w + span + 6}" y="{y + bar_h * 0.7:.0f}" font-size="13">{escape(text)}</text>')
    if axis_h:
        y = h - 4
        for share in (0, 0.5, 1):
            x = label_w + round(span * share)
            parts.append(f'<line x1="{x}" y1="2" x2="{x}" y2="{y - 12}" stroke="#8a939e" stroke-dasharray="2 3"/>'
                         f'<text x="{x}" y="{y}" text-anchor="middle" font-size="11">{share:.0%}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked(title: str, rows: Sequence[tuple[str, Sequence[tuple[str, int]]]], legend: Sequence[str], *,
            width: int = 560, bar_h: int = 22) -> Markup:
    """One horizontal stacked bar per row: (row label, [(series label, count)]); a legend below."""
    label_w, gap = 90, 6
    total_max = max((sum(n for _s, n in series) for _r, series in rows), default=0) or 1
    span = width - label_w - 50
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(legend)}
    legend_rows = (len(legend) + 3) // 4
    h = len(rows) * (bar_h + gap) + 14 + legend_rows * 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" viewBox="0 0 {width} {h}" '
             f'width="{width}" height="{h}"><title>{escape(title)}</title>']
    for i, (label, series) in enumerate(rows):
        y = 5 + i * (bar_h + gap)
        parts.append(f'<text x="{label_w - 6}" y="{y + bar_h * 0.7:.0f}" text-anchor="end" '
                     f'font-size="13">{escape(label)}</text>')
        x = label_w
        for name, n in series:
            w = round(span * n / total_max)
            parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{bar_h}" fill="{colours.get(name, "#999")}">'
                         f'<title>{escape(label)} {escape(name)}: {n}</title></rect>')
            x += w
        parts.append(f'<text x="{x + 6}" y="{y + bar_h * 0.7:.0f}" font-size="13">{sum(n for _s, n in series)}</text>')
    y0 = 10 + len(rows) * (bar_h + gap)
    for i, name in enumerate(legend):
        x, y = label_w + (i % 4) * 120, y0 + (i // 4) * 20
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colours[name]}"/>'
                     f'<text x="{x + 16}" y="{y + 11}" font-size="12">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
