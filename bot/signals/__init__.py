"""Momentum signals: citations (Semantic Scholar), community upvotes (Hugging Face), code stars (GitHub).

Each source is optional and switchable in settings (`TRENDS_SIGNALS_<SOURCE>_ENABLED`). `service.refresh`
fetches readings for a month's papers and stores in `paper_signals` the values that changed (a row per
change, not per day); `store.latest_signals` gives the ranking each paper's latest values and their
daily growth. Nothing here blocks harvest or the digest: a source that is down is reported, never
raised.
"""

from __future__ import annotations

from bot.signals.service import refresh
from bot.signals.store import latest_signals
from bot.signals.types import RefreshReport, SourceReport

__all__ = ["RefreshReport", "SourceReport", "latest_signals", "refresh"]
