"""Small inline SVG charts for the standalone HTML report (no scripts, no network)."""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT, PAD = 640, 220, 40
COLORS = ("#2563eb", "#16a34a", "#dc2626", "#9333ea")


def _frame(title: str, body: str, y_max: float, x_labels: tuple[str, str]) -> str:
    return (
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-label="{escape(title)}">'
        f'<rect x="{PAD}" y="10" width="{WIDTH - PAD - 10}" height="{HEIGHT - PAD - 10}" '
        f'fill="#f8fafc" stroke="#cbd5e1"/>'
        f'<text x="{PAD - 4}" y="16" font-size="10" text-anchor="end">{y_max:,.4g}</text>'
        f'<text x="{PAD - 4}" y="{HEIGHT - PAD}" font-size="10" text-anchor="end">0</text>'
        f'<text x="{PAD}" y="{HEIGHT - PAD + 14}" font-size="10">{escape(x_labels[0])}</text>'
        f'<text x="{WIDTH - 10}" y="{HEIGHT - PAD + 14}" font-size="10" text-anchor="end">{escape(x_labels[1])}</text>'
        f"{body}</svg>"
    )


def line_chart(title: str, series: dict[str, list[tuple[float, float]]], x_labels: tuple[str, str]) -> str:
    """Return an SVG line chart of named series of (x, y) points."""
    points = [point for values in series.values() for point in values]
    if not points:
        return f"<p class='muted'>No data for {escape(title)}.</p>"
    x_min, x_max = min(p[0] for p in points), max(p[0] for p in points)
    y_max = max(*(p[1] for p in points), 1e-09)
    span = max(x_max - x_min, 1e-9)
    inner_w, inner_h = WIDTH - PAD - 10, HEIGHT - PAD - 10
    body = []
    for index, (name, values) in enumerate(series.items()):
        coords = " ".join(
            f"{PAD + (x - x_min) / span * inner_w:.1f},{10 + inner_h - y / y_max * inner_h:.1f}" for x, y in values
        )
        color = COLORS[index % len(COLORS)]
        body.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{coords}"/>')
        body.append(f'<text x="{PAD + 6 + 140 * index}" y="24" font-size="11" fill="{color}">{escape(name)}</text>')
    return _frame(title, "".join(body), y_max, x_labels)


def bar_chart(title: str, categories: list[str], series: dict[str, list[float]]) -> str:
    """Return an SVG grouped bar chart: one group per category, one bar per series."""
    values = [value for column in series.values() for value in column]
    if not categories or not values:
        return f"<p class='muted'>No data for {escape(title)}.</p>"
    y_max = max(*values, 1e-09)
    inner_w, inner_h = WIDTH - PAD - 10, HEIGHT - PAD - 10
    group_w = inner_w / len(categories)
    bar_w = group_w * 0.8 / max(len(series), 1)
    body = []
    for index, (name, column) in enumerate(series.items()):
        color = COLORS[index % len(COLORS)]
        for position, value in enumerate(column):
            height = value / y_max * inner_h
            x = PAD + position * group_w + group_w * 0.1 + index * bar_w
            body.append(f'<rect x="{x:.1f}" y="{10 + inner_h - height:.1f}" width="{bar_w:.1f}" '
                        f'height="{height:.1f}" fill="{color}"><title>{escape(name)} {value:,.2f}</title></rect>')
        body.append(f'<text x="{PAD + 6 + 140 * index}" y="24" font-size="11" fill="{color}">{escape(name)}</text>')
    for position, category in enumerate(categories):
        body.append(f'<text x="{PAD + (position + 0.5) * group_w:.1f}" y="{HEIGHT - PAD + 26}" font-size="10" '
                    f'text-anchor="middle">{escape(category)}</text>')
    return _frame(title, "".join(body), y_max, ("", ""))


def range_bar(value: float | None, low: float, high: float, lo_axis: float, hi_axis: float) -> str:
    """Return a small SVG showing a value against its published range."""
    width, height = 220, 18
    span = max(hi_axis - lo_axis, 1e-9)

    def x(v: float) -> float:
        return 4 + (min(max(v, lo_axis), hi_axis) - lo_axis) / span * (width - 8)

    marker = ""
    if value is not None:
        inside = low <= value <= high
        marker = (f'<circle cx="{x(value):.1f}" cy="9" r="5" fill="{"#16a34a" if inside else "#dc2626"}"/>')
    return (f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
            f'<line x1="4" y1="9" x2="{width - 4}" y2="9" stroke="#cbd5e1" stroke-width="2"/>'
            f'<rect x="{x(low):.1f}" y="4" width="{x(high) - x(low):.1f}" height="10" fill="#bbf7d0"/>{marker}</svg>')
