"""The paper-source port and its adapter over the `arxiv` package.

The harvester needs page-level control that `arxiv.Client.results()` hides: the total of a query
(to split big windows), page boundaries (to checkpoint after each page) and a say in which pages are
broken. So `ArxivSource` drives the client's own page calls, `_format_url` and `_parse_feed`, which
keep the client's polite delay and its retries of HTTP errors and empty pages (arxiv is pinned to
`>=4.0,<4.1` for that reason). On top it catches what the client lets through: a body that does not
parse, a page with fewer entries than the total promises (lxml's `recover=True` turns a truncated
document into a short page), an unreadable entry and a read timeout. Those are retried a few times;
then a `HarvestError` names the window. An entry that cannot be stored is skipped with a logged
reason and one that can once cleaned is cleaned (`clean_record`); a character reference to a lone
surrogate, which would make lxml fail the whole page, is read as U+FFFD (`repair_char_refs`).

One `arxiv.Client` is shared per source: the 3-second delay is per client instance.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import arxiv
import requests

from bot.arxiv_ids import is_valid_category, parse_arxiv_id
from bot.errors import HarvestError, ValidationError
from bot.paper_records import PaperRecord, clean_record, is_author_name
from bot.settings import Settings

log = logging.getLogger(__name__)

MINUTE = dt.timedelta(minutes=1)


def _squash(text: object) -> str:
    """Runs of whitespace (arXiv wraps titles and abstracts at ~80 columns) become one space."""
    return " ".join(str(text).split())


def _floor_minute(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class Window:
    """Submitted dates from `first` to `last`, both whole UTC minutes and both included (arXiv's form)."""

    first: dt.datetime
    last: dt.datetime

    def __post_init__(self) -> None:
        if _floor_minute(self.first) != self.first or _floor_minute(self.last) != self.last:
            raise ValueError("window bounds must be whole UTC minutes")
        if self.last < self.first:
            raise ValueError("window ends before it starts")

    @classmethod
    def for_days(cls, first_day: dt.date, last_day: dt.date) -> Window:
        start = dt.datetime.combine(first_day, dt.time(0, 0), tzinfo=dt.UTC)
        end = dt.datetime.combine(last_day, dt.time(23, 59), tzinfo=dt.UTC)
        return cls(start, end)

    @property
    def splittable(self) -> bool:
        return self.last > self.first

    def halves(self) -> tuple[Window, Window]:
        """Two windows that together cover this one, split at the middle minute."""
        minutes = int((self.last - self.first) / MINUTE)
        middle = self.first + MINUTE * (minutes // 2)
        return Window(self.first, middle), Window(middle + MINUTE, self.last)

    def starting_at(self, moment: dt.datetime) -> Window:
        """The rest of this window from `moment`'s minute (for resuming); unchanged if outside."""
        minute = _floor_minute(moment)
        if minute <= self.first or minute > self.last:
            return self
        return Window(minute, self.last)

    def arxiv_range(self) -> str:
        return f"[{self.first:%Y%m%d%H%M} TO {self.last:%Y%m%d%H%M}]"

    def __str__(self) -> str:
        return f"{self.first:%Y-%m-%d %H:%M}–{self.last:%Y-%m-%d %H:%M} UTC"


@dataclass(frozen=True, slots=True)
class SourcePage:
    records: list[PaperRecord]
    total: int  # results of the whole query, as the source reports it
    start: int  # index of the first record of this page
    skipped: int = 0  # entries on the page that could not be read (not in `records`)

    @property
    def entries(self) -> int:
        """Results this page used up, readable or not: where the next page starts."""
        return len(self.records) + self.skipped


class PaperSource(Protocol):
    """Where papers come from: pages of a submitted-date window, oldest first."""

    page_size: int

    def fetch_page(self, window: Window, categories: Sequence[str], start: int) -> SourcePage: ...


def build_query(window: Window, categories: Sequence[str]) -> str:
    """`(cat:cs.LG OR cat:cs.CL) AND submittedDate:[YYYYMMDDHHMM TO YYYYMMDDHHMM]`."""
    if not categories:
        raise ValidationError("Name at least one arXiv category, e.g. cs.LG.")
    bad = [c for c in categories if not is_valid_category(c)]
    if bad:
        shown = ", ".join(repr(c[:40]) for c in bad[:5])
        raise ValidationError(f"Not arXiv categories: {shown} (expected e.g. cs.LG or stat.ML).")
    group = " OR ".join(f"cat:{c}" for c in categories)
    return f"({group}) AND submittedDate:{window.arxiv_range()}"


def record_from_result(result: Any) -> PaperRecord:
    """Convert an `arxiv.Result` into a `PaperRecord`; raises `ValueError` if it is unusable."""
    try:
        parsed = parse_arxiv_id(str(result.entry_id))
    except ValidationError as exc:
        raise ValueError(f"unrecognised entry id: {exc}") from exc
    published: dt.datetime = result.published
    updated: dt.datetime = result.updated
    if published.tzinfo is None or updated.tzinfo is None:
        raise ValueError(f"{parsed} has dates without a time zone")
    categories = tuple(dict.fromkeys(str(c) for c in result.categories if c))
    primary = str(result.primary_category or (categories[0] if categories else ""))
    if not primary:
        raise ValueError(f"{parsed} has no category")
    # Raises UnusableRecord (a ValueError) for what no engine could store.
    return clean_record(
        PaperRecord(
            arxiv_id=parsed.base,
            version=parsed.version or 1,
            title=_squash(result.title),
            abstract=_squash(result.summary),
            authors=tuple(name for a in result.authors if is_author_name(name := _squash(a.name))),
            categories=categories or (primary,),
            primary_category=primary,
            submitted_at=published.astimezone(dt.UTC),
            updated_at=updated.astimezone(dt.UTC),
            comment=_squash(result.comment or "") or None,
            journal_ref=result.journal_ref or None,
            doi=result.doi or None,
        )
    )


# A numeric character reference: lxml passes one naming a surrogate through undecodable, and reading
# that entry's text then raises for the whole page.
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9A-Fa-f]{1,8})|([0-9]{1,10}));")


def _replace_bad_reference(match: re.Match[bytes]) -> bytes:
    hexa, decimal = match.groups()
    code = int(hexa, 16) if hexa else int(decimal)
    return b"&#xFFFD;" if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF else match.group()


def repair_char_refs(body: bytes) -> bytes:
    """`body` with character references to surrogates or beyond Unicode made U+FFFD references."""
    if b"&#" not in body:
        return body
    repaired = _CHAR_REF.sub(_replace_bad_reference, body)
    if repaired == body:
        return body
    log.warning("The arXiv response names characters that do not exist; they are read as U+FFFD")
    return repaired


class _TimeoutSession(requests.Session):
    """A requests session with a default timeout: the arxiv client sets none, and a hung socket
    would stall a harvest forever."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._default_timeout = timeout

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._default_timeout)
        response = super().request(*args, **kwargs)
        body = response.content
        repaired = repair_char_refs(body)
        if repaired is not body:
            # The client parses `content`; a repaired body lets one broken entry cost only itself.
            response._content = repaired
        return response


class _BadPage(Exception):
    """A page that arrived but cannot be trusted; worth asking for again."""


class ArxivSource:
    """`PaperSource` over the arXiv API through one shared `arxiv.Client`."""

    def __init__(
        self,
        *,
        api_url: str,
        page_size: int,
        delay_seconds: float,
        num_retries: int,
        timeout_seconds: float,
        bad_page_retries: int = 3,
    ) -> None:
        self.page_size = page_size
        self.bad_page_retries = bad_page_retries
        self.client = arxiv.Client(page_size=page_size, delay_seconds=delay_seconds, num_retries=num_retries)
        # Per-instance endpoint (a mirror or a local fake); the client formats it with the query.
        self.client.query_url_format = api_url + "?{}"
        self.client._session = _TimeoutSession(timeout_seconds)

    @classmethod
    def from_settings(cls, settings: Settings) -> ArxivSource:
        return cls(
            api_url=settings.arxiv_api_url,
            page_size=settings.arxiv_page_size,
            delay_seconds=settings.arxiv_delay_seconds,
            num_retries=settings.arxiv_num_retries,
            timeout_seconds=settings.arxiv_timeout_seconds,
        )

    def fetch_page(self, window: Window, categories: Sequence[str], start: int) -> SourcePage:
        search = arxiv.Search(
            query=build_query(window, categories),
            max_results=None,
            sort_by=arxiv.SortCriterion.SubmittedDate,
            sort_order=arxiv.SortOrder.Ascending,
        )
        url = self.client._format_url(search, start, self.page_size)
        problem = ""
        for attempt in range(self.bad_page_retries + 1):
            try:
                return self._fetch_checked(url, start)
            except _BadPage as exc:
                problem = str(exc)
            except arxiv.UnexpectedEmptyPageError:
                # The client retried it already; arXiv's sporadic empty pages deserve another round.
                problem = "the page came back empty"
            except requests.exceptions.Timeout:
                problem = "arXiv did not answer in time"
            except (arxiv.HTTPError, requests.RequestException) as exc:
                # The client already retried these `num_retries` times.
                raise HarvestError(
                    f"Could not fetch arXiv papers submitted {window} (from result {start}): "
                    f"{_describe(exc)}. Papers stored so far are kept; run the harvest again to resume."
                ) from exc
            log.warning("Bad arXiv page for %s at %d (try %d): %s", window, start, attempt + 1, problem)
        raise HarvestError(
            f"arXiv kept sending a broken page for papers submitted {window} (from result {start}): "
            f"{problem}. Papers stored so far are kept; run the harvest again to resume."
        )

    def _fetch_checked(self, url: str, start: int) -> SourcePage:
        try:
            feed = self.client._parse_feed(url, first_page=start == 0)
        except ValueError as exc:  # the feed parser chokes on a malformed date
            raise _BadPage(f"unreadable feed ({exc})") from exc
        if feed.malformed:
            raise _BadPage(f"the response is not valid XML ({feed.error})")
        if feed.header.items_per_page <= 0:
            # arXiv always echoes itemsPerPage, even for an empty result; without it this is no feed.
            raise _BadPage("the response is not an arXiv Atom feed")
        total = feed.header.total_results
        expected = max(0, min(self.page_size, total - start))
        if len(feed.results) < expected:
            raise _BadPage(f"got {len(feed.results)} entries where {expected} were due (truncated?)")
        records: list[PaperRecord] = []
        skipped = 0
        for result in feed.results:
            try:
                records.append(record_from_result(result))
            except (ValueError, AttributeError, TypeError) as exc:
                # One odd entry must not stop the month: skip it, loudly.
                skipped += 1
                log.warning("Skipping an arXiv entry that could not be read: %s", exc)
        return SourcePage(records=records, total=total, start=start, skipped=skipped)


def _describe(exc: Exception) -> str:
    if isinstance(exc, arxiv.HTTPError):
        return f"arXiv answered HTTP {exc.status}"
    if isinstance(exc, requests.ConnectionError):
        return "could not connect to the arXiv API"
    return type(exc).__name__
