"""Trend lines: how many papers matched a query each month, the recent change, and a PNG chart.

Counting is two grouped queries whatever the number of months (matches per month over the full-text
index, and all papers per month for the share), never one query per month. The chart is drawn with
matplotlib's Agg canvas, imported lazily so that importing the archive stays cheap.
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import warnings

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.archive import matching
from bot.archive._months import month_label, month_of, month_range, month_start, shift_month
from bot.archive.query import ParsedQuery
from bot.archive.views import TrendChange, TrendPoint, TrendView
from bot.db.models import Paper

DEFAULT_MONTHS = 12
MAX_MONTHS = 120
DEFAULT_PERIOD = 3
CHART_SIZE_INCHES = (8.0, 4.0)
CHART_DPI = 100  # 800 × 400 pixels: readable in a chat preview
MAX_TITLE_CHARS = 60


def latest_month(session: Session) -> str | None:
    newest = session.execute(select(func.max(Paper.submitted_at))).scalar_one_or_none()
    return month_of(newest) if newest is not None else None


def change_between(points: tuple[TrendPoint, ...], period: int) -> TrendChange:
    """The last `period` months against the `period` months before them."""
    period = max(1, min(period, len(points) // 2 or 1))
    recent = points[-period:]
    previous = points[-2 * period : -period] if len(points) >= 2 * period else ()
    recent_count = sum(p.count for p in recent)
    previous_count = sum(p.count for p in previous)
    recent_total = sum(p.total for p in recent)
    previous_total = sum(p.total for p in previous)
    return TrendChange(
        months=period,
        recent=recent_count,
        previous=previous_count,
        absolute=recent_count - previous_count,
        percent=(100.0 * (recent_count - previous_count) / previous_count) if previous_count else None,
        recent_share=recent_count / recent_total if recent_total else 0.0,
        previous_share=previous_count / previous_total if previous_total else 0.0,
    )


def trend_view(
    session: Session,
    query: ParsedQuery,
    *,
    months: int = DEFAULT_MONTHS,
    end_month: str | None = None,
    period: int = DEFAULT_PERIOD,
) -> TrendView:
    """Monthly counts for `query` over `months` months ending at `end_month` (default: latest data).

    A `month:`/`since:` in the query narrows the window: `month:` ends it there, `since:` starts it.
    """
    if not query.has_terms:  # e.g. only an emoji or punctuation: no line of zeros, no blank chart
        return TrendView(
            query=query.display(),
            points=(),
            change=change_between((), period),
            message="Type a few words to draw a trend, e.g. `diffusion video`.",
            notes=query.notes,
        )
    months = min(max(int(months), 1), MAX_MONTHS)
    last = end_month or query.month or latest_month(session) or month_of_now()
    first = shift_month(last, -(months - 1))
    if query.since and query.since > first:
        first = min(query.since, last)
    keys = month_range(first, last)
    since, until = month_start(first), month_start(shift_month(last, 1))
    variants = query.variants()
    counts = matching.monthly_counts(session, variants, since=since, until=until) if variants else {}
    totals = matching.monthly_totals(session, since=since, until=until)
    points = tuple(
        TrendPoint(
            month=key,
            count=counts.get(key, 0),
            total=totals.get(key, 0),
            share=(counts.get(key, 0) / totals[key]) if totals.get(key) else 0.0,
        )
        for key in keys
    )
    shown = query.display()
    message = ""
    if not any(p.count for p in points):
        message = f"No papers matched “{shown}” between {month_label(first)} and {month_label(last)}."
    return TrendView(
        query=shown,
        points=points,
        change=change_between(points, period),
        message=message,
        notes=query.notes,
    )


def month_of_now() -> str:
    return month_of(dt.datetime.now(dt.UTC))


def _short(text: str) -> str:
    return text if len(text) <= MAX_TITLE_CHARS else text[: MAX_TITLE_CHARS - 1] + "…"


def render_trend_png(view: TrendView) -> bytes:
    """An 800×400 PNG: bars for matching papers per month, a line for their share of all papers."""
    png = _draw_png(view)
    # A figure is thousands of objects in reference cycles. Collected now, while young (a few ms),
    # they never reach the oldest generation, whose collections scan every object of the process:
    # every ~10th chart used to pause 170 ms for one (chart p95 300 ms instead of 110).
    gc.collect(1)
    return png


def _draw_png(view: TrendView) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = [
        month_start(p.month).strftime("%b\n%Y")
        if i == 0 or p.month.endswith("-01")
        else month_start(p.month).strftime("%b")
        for i, p in enumerate(view.points)
    ]
    counts = [p.count for p in view.points]
    shares = [100.0 * p.share for p in view.points]
    positions = list(range(len(view.points)))

    figure = Figure(figsize=CHART_SIZE_INCHES, dpi=CHART_DPI)
    # Fixed margins: a layout engine would cost more than the drawing itself.
    figure.subplots_adjust(left=0.08, right=0.91, top=0.9, bottom=0.17)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.bar(positions, counts, color="#4C72B0", label="matching papers")
    axes.set_xticks(positions, labels, fontsize=8)
    axes.set_ylabel("matching papers per month")
    axes.set_xlabel("month submitted")
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    share_axes = axes.twinx()
    share_axes.plot(positions, shares, color="#DD8452", marker="o", linewidth=1.5, label="% of all papers")
    share_axes.set_ylabel("% of all papers", color="#DD8452")
    share_axes.set_ylim(bottom=0)
    if max(counts, default=0) == 0:
        axes.set_ylim(0, 1)
    span = f"{month_label(view.first_month)} – {month_label(view.last_month)}"
    # A fixed title position: placing it automatically measures every tick label (a third of the time).
    title = axes.set_title(f"“{_short(view.query or 'no query')}” · {span}", fontsize=11, y=1.01)
    # User text is not mathtext: a `$` in the query must not be parsed (or fail to parse).
    title.set_parse_math(False)
    change = view.change
    if change.percent is not None:
        summary = f"last {change.months} mo vs previous: {change.percent:+.0f}% ({change.absolute:+d})"
    else:
        summary = f"last {change.months} mo: {change.recent} papers"
    axes.text(0.01, 0.98, summary, transform=axes.transAxes, va="top", fontsize=8, color="#333333")
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # missing glyphs (emoji) in the title only warn
        # Fast zlib level: a chart of flat colours compresses well anyway.
        figure.savefig(buffer, format="png", dpi=CHART_DPI, pil_kwargs={"compress_level": 1})
    return buffer.getvalue()
