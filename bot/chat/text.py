"""Plain-text forms of chat replies: the fallback every platform shows when rich rendering can't."""

from __future__ import annotations

from bot.archive.views import SearchResult, TrendView


def search_text(result: SearchResult) -> str:
    if result.is_empty:
        lines = [result.message or f"Nothing found for “{result.query}”."]
        if result.suggestions:
            lines.append("Try: " + ", ".join(result.suggestions))
        if result.advice:
            lines.append(result.advice)
        return "\n".join(lines)
    lines = [f"Results for “{result.query}” (page {result.page}):"]
    first = (result.page - 1) * result.page_size
    for number, hit in enumerate(result.hits, start=first + 1):
        lines.append(f"{number}. {hit.title} — {hit.authors_short} ({hit.month}) {hit.links.abstract}")
        lines.append(f"   {hit.reason}")
    if result.has_more:
        lines.append("More results: ask for the next page.")
    return "\n".join(lines)


def trend_text(trend: TrendView) -> str:
    if not trend.points:
        return trend.message or f"No papers match “{trend.query}”."
    change = trend.change
    if change.percent is None:
        delta = f"{change.recent} papers in the last {change.months} months (none before)"
    else:
        delta = (
            f"{change.recent} papers in the last {change.months} months, "
            f"{change.percent:+.0f}% vs the {change.months} before ({change.previous})"
        )
    counts = ", ".join(f"{p.month}: {p.count}" for p in trend.points)
    return f"“{trend.query}”, {trend.first_month} to {trend.last_month}: {delta}.\n{counts}"
