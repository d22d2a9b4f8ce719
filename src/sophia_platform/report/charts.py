"""Inline SVG line charts, generated here: no script, no network, readable in light and dark.

Colours come from CSS custom properties of the page (``--s0`` … ``--s7``, ``--grid``), so one
chart serves both colour schemes and print. Each series is one ``<polyline>`` whose
``data-points`` says how many points it has; up to :data:`MARKER_LIMIT` points also get a
``<circle>`` marker with a ``<title>`` tooltip.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

MARKER_LIMIT = 200
WIDTH, HEIGHT = 640, 200
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 12, 12, 28


@dataclass(frozen=True)
class Series:
    """One line: a name and a value per x position (None: no value there)."""

    name: str
    values: Sequence[float | None]


def _nice_max(value: float) -> float:
    """The top of the y axis: a round number that four grid steps divide evenly."""
    for top in (4, 8, 12, 20, 40, 60, 80, 100, 200, 400, 600, 800, 1000, 2000, 4000):
        if value <= top:
            return float(top)
    return float(-(-value // 1000) * 1000)


def _fmt(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def line_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    target: float | None = None,
    unit: str = "",
) -> str:
    """A ``<figure>`` with one SVG line chart; ``labels`` name the x positions."""
    n = len(labels)
    values = [v for s in series for v in s.values if v is not None]
    top = _nice_max(max([*values, target or 0.0], default=0.0))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(i: int) -> float:
        return PAD_LEFT + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return PAD_TOP + plot_h * (1 - v / top)

    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{html.escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg">'
    ]
    for k in range(5):  # horizontal grid lines with their values
        v = top * k / 4
        parts.append(
            f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" '
            f'y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
            f'<text class="axis" x="{PAD_LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">'
            f"{_fmt(v)}</text>"
        )
    if n:
        parts.append(_x_labels(labels, x))
    if target is not None:
        parts.append(
            f'<line class="target" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" '
            f'y1="{y(target):.1f}" y2="{y(target):.1f}"><title>target {_fmt(target)}{unit}'
            "</title></line>"
        )
    for index, line in enumerate(series):
        parts.append(_series(index, line, labels, x, y, unit))
    parts.append("</svg>")
    legend = "".join(
        f'<span class="key"><i class="sw s{i % 8}"></i>{html.escape(s.name)}</span>'
        for i, s in enumerate(series)
    )
    return (
        f'<figure class="chart" id="{html.escape(chart_id)}" data-chart="{html.escape(chart_id)}" '
        f'data-series="{len(series)}" data-points="{n}">'
        f"<figcaption>{html.escape(title)}</figcaption>{''.join(parts)}"
        f'<div class="legend">{legend}</div></figure>'
    )


def _x_labels(labels: Sequence[str], x: object) -> str:
    assert callable(x)
    n = len(labels)
    count = min(n, 4)  # four labels at most, so dated labels never overlap
    picks = sorted({round(j * (n - 1) / (count - 1)) for j in range(count)}) if n > 1 else [0]
    anchor = {0: "start", n - 1: "end"} if n > 1 else {}
    return "".join(
        f'<text class="axis" x="{x(i):.1f}" y="{HEIGHT - 8}" '
        f'text-anchor="{anchor.get(i, "middle")}">{html.escape(labels[i])}</text>'
        for i in picks
    )


def _series(
    index: int, line: Series, labels: Sequence[str], x: object, y: object, unit: str
) -> str:
    assert callable(x) and callable(y)
    pts = [(i, v) for i, v in enumerate(line.values) if v is not None]
    coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in pts)
    name = html.escape(line.name)
    out = [
        f'<polyline class="line s{index % 8}" data-name="{name}" data-points="{len(pts)}" '
        f'points="{coords}"/>'
    ]
    if len(pts) <= MARKER_LIMIT:
        out += [
            f'<circle class="pt s{index % 8}" cx="{x(i):.1f}" cy="{y(v):.1f}" r="2.5">'
            f"<title>{name} · {html.escape(labels[i])}: {_fmt(v)}{unit}</title></circle>"
            for i, v in pts
        ]
    return "".join(out)


BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int = 24) -> str:
    """A compact trend of ``values`` in block characters (at most ``width`` of them)."""
    if not values:
        return ""
    if len(values) > width:  # evenly spaced samples, always ending with the latest value
        values = [values[round(k * (len(values) - 1) / (width - 1))] for k in range(width)]
    low, high = min(values), max(values)
    span = high - low
    return "".join(
        BARS[0 if span == 0 else round((v - low) / span * (len(BARS) - 1))] for v in values
    )
