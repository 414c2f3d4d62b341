"""The dashboard's charts as server-rendered SVG: no script, no inline style, so the strictest CSP allows them.

Geometry only lives here; colours and type sizes are in static/verification/admin/dashboard.css, which follows the
admin's light and dark themes. The view boxes are about as wide as a 390 px phone shows them, so labels keep their
size there and scale up on wider screens. Each chart's words for screen readers are its figure's caption.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

# A column chart: value labels left of the plot, time labels below it.
COLUMNS_WIDTH, COLUMNS_HEIGHT = 320, 132
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 38, 314, 10, 110
# A bar chart: one row per bar, the label left of the bar and the value right of it.
BARS_WIDTH, ROW_HEIGHT = 350, 24
LABEL_END, BAR_START, BAR_WIDTH, VALUE_START = 104, 110, 120, 236


@dataclass(frozen=True)
class Bar:
    """One row of a bar chart: what it is, how full (0 to 1), the value written beside it, and if it is flagged."""

    label: str
    share: float
    value: str
    flagged: bool = False


def nice_ceiling(value: int) -> int:
    """Return the smallest of 1, 2, 5, 10, 20, 50... that is at least `value`, for an axis that reads well."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def columns(counts: list[int], ticks: list[tuple[int, str]], name: str, css_class: str = "") -> SafeString:
    """Return a column chart of `counts` (one per time bucket), time labels at `ticks` (bucket index, text)."""
    top = nice_ceiling(max(counts, default=0))
    slot = (PLOT_RIGHT - PLOT_LEFT) / max(len(counts), 1)
    height = PLOT_BOTTOM - PLOT_TOP
    rects = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}"></rect>',
        (
            _coordinates(
                PLOT_LEFT + i * slot + slot * 0.15, PLOT_BOTTOM - height * n / top, slot * 0.7, height * n / top
            )
            for i, n in enumerate(counts)
            if n
        ),
    )
    anchors = {0: "start", len(counts) - 1: "end"}
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="{}">{}</text>',
        (
            (
                _number(PLOT_LEFT + (i + 0.5) * slot if i not in anchors else (PLOT_LEFT if i == 0 else PLOT_RIGHT)),
                COLUMNS_HEIGHT - 6,
                anchors.get(i, "middle"),
                text,
            )
            for i, text in ticks
        ),
    )
    return format_html(
        '<svg class="otp-columns {}" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        '<line class="otp-grid" x1="{}" y1="{}" x2="{}" y2="{}"></line>'
        '<line class="otp-axis" x1="{}" y1="{}" x2="{}" y2="{}"></line>'
        '<text x="{}" y="{}" text-anchor="end">{}</text><text x="{}" y="{}" text-anchor="end">0</text>'
        "<g>{}</g>{}</svg>",
        css_class,
        COLUMNS_WIDTH,
        COLUMNS_HEIGHT,
        name,
        PLOT_LEFT,
        PLOT_TOP,
        PLOT_RIGHT,
        PLOT_TOP,
        PLOT_LEFT,
        PLOT_BOTTOM,
        PLOT_RIGHT,
        PLOT_BOTTOM,
        PLOT_LEFT - 4,
        PLOT_TOP + 4,
        top,
        PLOT_LEFT - 4,
        PLOT_BOTTOM,
        rects,
        labels,
    )


def bars(rows: list[Bar], name: str) -> SafeString:
    """Return a horizontal bar chart, one row per Bar; a flagged bar is drawn in the warning colour."""
    body = format_html_join(
        "",
        '<g class="{}"><text x="{}" y="{}" text-anchor="end">{}</text>'
        '<rect class="otp-track" x="{}" y="{}" width="{}" height="14"></rect>'
        '<rect x="{}" y="{}" width="{}" height="14"></rect>'
        '<text x="{}" y="{}">{}</text></g>',
        (
            (
                "otp-flagged" if row.flagged else "",
                LABEL_END,
                i * ROW_HEIGHT + 16,
                _shorten(row.label),
                BAR_START,
                i * ROW_HEIGHT + 5,
                BAR_WIDTH,
                BAR_START,
                i * ROW_HEIGHT + 5,
                _number(BAR_WIDTH * min(max(row.share, 0.0), 1.0)),
                VALUE_START,
                i * ROW_HEIGHT + 16,
                row.value,
            )
            for i, row in enumerate(rows)
        ),
    )
    return format_html(
        '<svg class="otp-bars" viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        BARS_WIDTH,
        len(rows) * ROW_HEIGHT + 4,
        name,
        body,
    )


def _shorten(label: str, limit: int = 17) -> str:
    """Return `label` cut to fit the label column (the caption has it whole)."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _number(value: float) -> str:
    """Return a coordinate with one decimal: enough for a screen, and short markup."""
    return f"{value:.1f}"


def _coordinates(*values: float) -> tuple[str, ...]:
    return tuple(_number(value) for value in values)
