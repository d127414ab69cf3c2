"""Momentum signals: citations (Semantic Scholar), community upvotes (Hugging Face), code stars (GitHub).

Each source is optional and switchable in settings (`TRENDS_SIGNALS_<SOURCE>_ENABLED`). `service.refresh`
fetches readings for a month's papers and stores in `paper_signals` the values that changed (a row per
change, not per day); `store.latest_signals` gives the ranking each paper's latest values and their
daily growth. Nothing here blocks harvest or the digest: a source that is down is reported, never
raised.

The names below are imported on first use: `bot.signals.types` (what the CLI's help text needs) must
not pull in the HTTP clients and the database layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.lazy import lazy_exports

if TYPE_CHECKING:
    from bot.signals.service import refresh
    from bot.signals.store import latest_signals
    from bot.signals.types import RefreshReport, SourceReport

__all__ = ["RefreshReport", "SourceReport", "latest_signals", "refresh"]

__getattr__ = lazy_exports(
    __name__,
    {
        "RefreshReport": "bot.signals.types",
        "SourceReport": "bot.signals.types",
        "latest_signals": "bot.signals.store",
        "refresh": "bot.signals.service",
    },
)
