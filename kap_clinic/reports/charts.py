"""Charts drawn on the server as SVG, so the same picture appears on the screen and in the PDF.

Only presentation attributes are used (no inline style), so the page's content security policy lets the SVG show.
Lines drawn alike (the grid, the dose days) are one path each rather than an element per line: the picture is the
same, and WeasyPrint styles and draws every element of the SVG, which made the chart of a long course slow to print.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 40, 110, 16, 36
SCALE_MAX = 27  # PHQ-9 runs 0-27, GAD-7 0-21: one axis fits both
COLOURS = {"phq9": "#1f4e8c", "gad7": "#b35c00"}
NAMES = {"phq9": "PHQ-9", "gad7": "GAD-7"}


@dataclass(frozen=True)
class Point:
    at: datetime
    code: str  # "phq9" or "gad7"
    total: int


def outcome_chart_svg(
    points: Sequence[Point],
    dose_times: Sequence[datetime],
    *,
    baseline: int | None = None,
    remission_below: int | None = None,
    response_at: float | None = None,
    title: str = "PHQ-9 and GAD-7 over time",
) -> SafeString:
    """PHQ-9 and GAD-7 totals over time, the baseline and response/remission lines, and each dose day marked."""
    times = [point.at for point in points] + list(dose_times)
    if not times:
        return mark_safe(  # noqa: S308 - fixed markup, nothing from the caller
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="40" role="img" '
            'aria-label="No scores recorded yet"><text x="0" y="24" font-size="12">No scores recorded yet.</text></svg>'
        )
    first, last = min(times), max(times)
    span = max((last - first).total_seconds(), 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(at: datetime) -> float:
        return round(LEFT + (at - first).total_seconds() / span * plot_w, 1)

    def y(value: float) -> float:
        return round(TOP + plot_h - min(value, SCALE_MAX) / SCALE_MAX * plot_h, 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" class="outcome-chart" font-family="DejaVu Sans, sans-serif">',
        f"<title>{escape(title)}</title>",
    ]
    ticks = range(0, SCALE_MAX + 1, 5)
    grid = "".join(f"M{LEFT} {y(tick)}H{LEFT + plot_w}" for tick in ticks)
    parts.append(f'<path d="{grid}" fill="none" stroke="#ddd" stroke-width="0.5"/>')
    parts.extend(
        f'<text x="{LEFT - 6}" y="{y(tick) + 3}" font-size="9" text-anchor="end">{tick}</text>' for tick in ticks
    )
    if dose_times:
        # Each dose day a dashed vertical line, all in one path (the dash pattern starts afresh on each line).
        days = "".join(f"M{x(at)} {TOP}V{TOP + plot_h}" for at in dose_times)
        first_dose, last_dose = timezone.localtime(min(dose_times)), timezone.localtime(max(dose_times))
        label = (
            f"Dose day {first_dose:%Y-%m-%d}"
            if len(dose_times) == 1
            else f"{len(dose_times)} dose days, {first_dose:%Y-%m-%d} to {last_dose:%Y-%m-%d}"
        )
        parts.append(
            f'<path d="{days}" fill="none" stroke="#7a9a7a" stroke-width="1" stroke-dasharray="2,2" class="dose">'
            f"<title>{label}</title></path>"
        )
    legend = []
    for value, label, colour in (
        (baseline, f"Baseline {baseline}", "#555"),
        (response_at, "Response", "#2e7d32"),
        (remission_below, "Remission", "#6a1b9a"),
    ):
        if value is None:
            continue
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(value)}" y2="{y(value)}" stroke="{colour}" '
            f'stroke-width="0.8" stroke-dasharray="5,3"/>'
        )
        legend.append((label, colour, "dash"))
    for code in ("phq9", "gad7"):
        series = sorted((point for point in points if point.code == code), key=lambda point: point.at)
        if not series:
            continue
        colour = COLOURS[code]
        coords = " ".join(f"{x(point.at)},{y(point.total)}" for point in series)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        for point in series:
            parts.append(
                f'<circle cx="{x(point.at)}" cy="{y(point.total)}" r="2.5" fill="{colour}">'
                f"<title>{NAMES[code]} {point.total} on {timezone.localtime(point.at):%Y-%m-%d}</title></circle>"
            )
        legend.append((NAMES[code], colour, "line"))
    if dose_times:
        legend.append(("Dose day", "#7a9a7a", "dash"))
    for index, (label, colour, kind) in enumerate(legend):
        ly = TOP + 8 + index * 16
        lx = LEFT + plot_w + 12
        dash = ' stroke-dasharray="4,2"' if kind == "dash" else ""
        parts.append(
            f'<line x1="{lx}" x2="{lx + 16}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{lx + 20}" y="{ly + 3}" font-size="9">{escape(label)}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="#333"/>'
        f'<text x="{LEFT}" y="{HEIGHT - 14}" font-size="9">{timezone.localtime(first):%Y-%m-%d}</text>'
        f'<text x="{LEFT + plot_w}" y="{HEIGHT - 14}" font-size="9" text-anchor="end">'
        f"{timezone.localtime(last):%Y-%m-%d}</text>"
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers and escaped labels only
