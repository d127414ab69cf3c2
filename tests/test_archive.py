"""ArchiveService on real SQLite and PostgreSQL: search, trend lines, charts, issues."""

from __future__ import annotations

import datetime as dt
import struct

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.archive import matching
from bot.archive.service import ArchiveService
from bot.audiences import default_audience_id
from bot.db.models import DeliveredMessage, Delivery, Digest, DigestEntry, Subscription, Topic
from bot.errors import NotFoundError, ValidationError
from tests.factories import make_paper


def at(month: str, day: int = 10) -> dt.datetime:
    return dt.datetime(int(month[:4]), int(month[5:7]), day, 12, tzinfo=dt.UTC)


def seed(session_factory: sessionmaker[Session]) -> None:
    """Papers over 2026-01..2026-10 with a growing "video diffusion" theme, one published digest."""
    with session_factory() as session:
        papers = []
        n = 0
        for index, month in enumerate([f"2026-{m:02d}" for m in range(1, 11)]):
            for k in range(index + 1):  # 1 video-diffusion paper in January … 10 in October
                n += 1
                papers.append(
                    make_paper(
                        f"2601.{n:05d}",
                        f"Video diffusion model number {n}",
                        "We generate video with a diffusion process and temporal attention.",
                        authors=("Kalani Quispe", "Ada Lovelace", "Alan Turing"),
                        submitted=at(month, 1 + k),
                    )
                )
            for k in range(5):
                n += 1
                papers.append(
                    make_paper(
                        f"2601.{n:05d}",
                        f"Graph neural networks study {n}",
                        "Message passing on graphs for molecules.",
                        authors=("Grace Hopper",),
                        submitted=at(month, 2 + k),
                    )
                )
        session.add_all(papers)
        session.flush()
        featured_old = papers[0]  # January video paper: old, but featured
        default = default_audience_id(session)
        digest = Digest(
            audience_id=default,
            month="2026-02",
            status="published",
            title="Trends in AI — February 2026",
            intro="Hello.",
        )
        digest.published_at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
        draft = Digest(
            audience_id=default, month="2026-10", status="draft", title="Draft October", intro="Soon."
        )
        session.add_all([digest, draft])
        session.flush()
        session.add_all(
            [
                DigestEntry(
                    digest_id=digest.id,
                    paper_id=featured_old.id,
                    position=1,
                    section="pick",
                    topic_name="Video",
                    why="Early video diffusion.",
                    insights="Temporal attention.",
                ),
                DigestEntry(digest_id=digest.id, paper_id=papers[2].id, position=2, section="other"),
                DigestEntry(digest_id=draft.id, paper_id=papers[-1].id, position=1, section="pick"),
            ]
        )
        subscription = Subscription(audience_id=default, platform="slack", workspace_id="T1", channel_id="C1")
        session.add(subscription)
        session.flush()
        delivery = Delivery(digest_id=digest.id, subscription_id=subscription.id, status="done")
        session.add(delivery)
        session.flush()
        session.add_all(
            [
                DeliveredMessage(delivery_id=delivery.id, position=0, message_id="1700000000.000100"),
                DeliveredMessage(
                    delivery_id=delivery.id,
                    position=1,
                    paper_id=featured_old.id,
                    message_id="1700000000.000200",
                ),
            ]
        )
        session.add(
            Topic(
                audience_id=default,
                name="generative-video",
                include_phrases=["video diffusion", "text-to-video"],
                exclude_phrases=[],
                example_ids=[],
            )
        )
        session.commit()


@pytest.fixture
def service(session_factory: sessionmaker[Session]) -> ArchiveService:
    seed(session_factory)
    return ArchiveService(session_factory)


def test_search_puts_featured_papers_first_with_month_and_thread(service: ArchiveService) -> None:
    result = service.search("video diffusion", page_size=5)
    first = result.hits[0]
    assert first.arxiv_id == "2601.00001"  # the oldest paper, but it was featured
    assert first.featured is not None
    assert first.featured.month == "2026-02"
    thread = first.featured.thread
    assert thread is not None
    assert (thread.platform, thread.workspace_id, thread.channel_id) == ("slack", "T1", "C1")
    assert thread.message_id == "1700000000.000100"
    assert thread.paper_message_id == "1700000000.000200"
    assert first.featured.thread_for("discord", "T1") is None
    assert first.reason == "matches: video, diffusion · featured in February 2026"
    # then the archive, newest (recency boost) first among equally relevant titles
    rest = result.archive_hits
    assert rest
    assert all(h.month == "2026-10" for h in rest[:3])
    assert first.links.abstract == "https://arxiv.org/abs/2601.00001"
    assert first.authors_short == "Kalani Quispe, Ada Lovelace, Alan Turing"  # first three, as in digests
    assert result.has_more
    assert result.total_estimate == 55


def test_search_pages_do_not_overlap_and_end(service: ArchiveService) -> None:
    seen: list[str] = []
    page = 1
    while True:
        result = service.search("graph neural", page=page, page_size=20)
        seen += [h.arxiv_id for h in result.hits]
        if not result.has_more:
            break
        page += 1
    assert len(seen) == len(set(seen)) == 50
    past_end = service.search("graph neural", page=99, page_size=20)
    assert past_end.hits == ()
    assert "No more results" in past_end.message


def test_search_filters_month_since_author_topic_and_exclusion(service: ArchiveService) -> None:
    october = service.search("video month:2026-10", page_size=25)
    assert {h.month for h in october.hits} == {"2026-10"}
    assert len(october.hits) == 10
    since = service.search("video since:2026-09", page_size=25)
    assert {h.month for h in since.hits} == {"2026-09", "2026-10"}
    by_author = service.search('author:"Grace Hopper"', page_size=3)
    assert by_author.hits
    assert all("Graph" in h.title for h in by_author.hits)
    assert "author: Grace Hopper" in by_author.hits[0].reason
    topic = service.search("topic:Generative Video", page_size=3)
    assert topic.hits
    assert all("Video diffusion" in h.title for h in topic.hits)
    excluded = service.search("video -diffusion")
    assert excluded.hits == ()


def test_empty_results_come_with_suggestions(service: ArchiveService) -> None:
    nothing = service.search("video quantum")
    assert nothing.hits == ()
    assert nothing.message.startswith("Nothing found")
    assert "video" in nothing.suggestions
    typo = service.search("topic:generative-vidoe")
    assert "topic:generative-video" in typo.suggestions
    assert any("no topic named" in note for note in typo.notes)
    wrong_month = service.search("video month:2025-03")
    assert "video" in wrong_month.suggestions
    blank = service.search("   ")
    assert blank.hits == ()
    assert "Type a few words" in blank.message


HOSTILE = [
    'NEAR(video diffusion) AND "unbalanced',
    "video*) OR 1=1; DROP TABLE papers; --",
    "author: month:13-2026 topic: since:x",
    "\x00video\x00",
    "🎥 video 🚀 diffusion 🤖",
    "x" * 5000,
    "title:video ^diffusion {a b}",
    "'; SELECT * FROM papers_fts WHERE papers_fts MATCH '*",
]


def test_hostile_input_answers_without_crashing(service: ArchiveService) -> None:
    for text in HOSTILE:
        result = service.search(text)
        assert result.hits or result.message, text
        view = service.trend(text)
        # A year of months, or (nothing left to draw once parsed) the hint instead of a line of zeros.
        assert len(view.points) == 12 or view.message.startswith("Type a few words"), text


def test_trend_counts_months_and_change(service: ArchiveService) -> None:
    view = service.trend("video diffusion", months=6)
    assert [p.month for p in view.points] == [f"2026-{m:02d}" for m in range(5, 11)]
    assert [p.count for p in view.points] == [5, 6, 7, 8, 9, 10]
    assert view.points[-1].total == 15
    assert view.points[-1].share == pytest.approx(10 / 15)
    change = view.change
    assert (change.recent, change.previous, change.absolute) == (27, 18, 9)
    assert change.percent == pytest.approx(50.0)
    earlier = service.trend("video", months=3, end_month="2026-03")
    assert [p.count for p in earlier.points] == [1, 2, 3]
    topic = service.trend("topic:generative-video", months=2)
    assert [p.count for p in topic.points] == [9, 10]
    with pytest.raises(ValidationError):
        service.trend("video", end_month="October")


@pytest.mark.parametrize("reads_each_match", [True, False])
def test_trend_counts_agree_whichever_way_sqlite_counts(
    service: ArchiveService, monkeypatch: pytest.MonkeyPatch, reads_each_match: bool
) -> None:
    # SQLite either reads each match's paper row or lists the window's papers first, by cost; both
    # must count the same (PostgreSQL has one way and runs the same assertions).
    monkeypatch.setattr(matching, "_sqlite_reads_each_match", lambda *args: reads_each_match)
    assert [p.count for p in service.trend("video diffusion", months=6).points] == [5, 6, 7, 8, 9, 10]
    assert [p.count for p in service.trend("graph -video", months=3).points] == [5, 5, 5]
    assert [p.count for p in service.trend("topic:generative-video", months=2).points] == [9, 10]
    assert [p.total for p in service.trend("nothing matches this", months=2).points] == [14, 15]


def test_trend_chart_is_an_800_by_400_png(service: ArchiveService) -> None:
    view, png = service.trend_chart("video -$x$ 🎥")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (800, 400)
    assert view.total_matches > 0


@pytest.mark.parametrize("text", ["🎥", "  ", "-video", "«»!?"])
def test_a_trend_of_no_words_draws_nothing_and_says_what_to_type(service: ArchiveService, text: str) -> None:
    view, png = service.trend_chart(text)
    assert view.points == ()
    assert png == b""  # chat adapters send the message instead of a chart of zeros
    assert view.message == "Type a few words to draw a trend, e.g. `diffusion video`."
    assert service.trend("video").points  # words still draw


def test_issues_list_and_view(service: ArchiveService) -> None:
    issues = service.list_issues()
    assert [(i.month, i.status, i.picks) for i in issues] == [
        ("2026-10", "draft", 1),
        ("2026-02", "published", 1),
    ]
    assert [i.month for i in service.list_issues(published_only=True)] == ["2026-02"]
    latest = service.issue("latest")
    assert latest.month == "2026-02"  # a published issue wins over a newer draft
    assert [e.arxiv_id for e in latest.digest.picks] == ["2601.00001"]
    assert latest.digest.picks[0].why == "Early video diffusion."
    assert [e.section for e in latest.digest.others] == ["other"]
    assert latest.threads
    assert latest.threads[0].channel_id == "C1"
    with pytest.raises(NotFoundError, match="2026-10, 2026-02"):
        service.issue("2025-01")
    with pytest.raises(NotFoundError, match="YYYY-MM"):
        service.issue("'; DROP TABLE digests; --")


def test_empty_archive_answers_politely(session_factory: sessionmaker[Session]) -> None:
    service = ArchiveService(session_factory)
    empty = service.search("anything")
    assert empty.message == "The archive has no papers yet."
    assert "trends harvest" in empty.advice
    assert empty.suggestions == ()
    assert service.trending().message.startswith("The archive is empty")
    assert service.list_issues() == []
    with pytest.raises(NotFoundError, match="No digest"):
        service.issue("latest")
