"""Digest service end to end on a small real database: build, rebuild, publish, exclusions, rendering."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.audiences import default_audience_id
from bot.db.models import Digest, DigestEntry, Paper, PaperSignal, PaperSummary, Vote
from bot.db.uow import UnitOfWork
from bot.digest.render import render_json, render_markdown
from bot.digest.service import DigestService, compose_intro
from bot.digest.summarize import OFFLINE_ID, OpenAICompatibleSummarizer, llm_id
from bot.errors import ConfigError, ConflictError, NotFoundError
from bot.months import Month
from bot.settings import Settings, TopicSeed, load_settings
from tests.fakes.llm_server import FakeLLMServer, running_llm_server
from tests.paper_corpus import digest_papers

# Eight team-written papers with full-length abstracts (one with 201 authors, one with one).
PAPERS = digest_papers(8)
OCTOBER = Month(2026, 10)
FIXED_NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)

EXTRA = [
    (
        "Agents that plan with tools",
        "LLM agents fail at long-horizon tool use. We propose PlanAct, "
        "an agent that plans tool calls; it improves success by 12% on WebArena.",
    ),
    (
        "Reasoning with short chains of thought",
        "Long chains of thought are costly. We introduce a "
        "reasoning method that cuts tokens by 40% at equal accuracy.",
    ),
    ("A survey of agents", "Agents are increasingly important. This survey reviews 200 agent papers."),
    (
        "Safer language models through adversarial training",
        "Language models remain vulnerable to "
        "jailbreaks. We present a training recipe that reduces attack success by 30%.",
    ),
]


def add_papers(session: Session, month: Month = OCTOBER) -> list[Paper]:
    papers = []
    rows = [(p.arxiv_id, p.title, p.abstract, list(p.authors)) for p in PAPERS]
    rows += [
        (f"2610.{9000 + i:05d}", t, ab, ["Ada Lovelace", "Alan Turing"]) for i, (t, ab) in enumerate(EXTRA)
    ]
    for day, (arxiv_id, title, abstract, authors) in enumerate(rows, start=1):
        base = arxiv_id if month == OCTOBER else f"{arxiv_id}9"[:10]
        paper = Paper(
            arxiv_id=base,
            title=title,
            abstract=abstract,
            authors=authors,
            authors_text=" ".join(authors),
            categories=["cs.LG", "cs.CL"],
            primary_category="cs.LG",
            submitted_at=dt.datetime(month.year, month.month, day, 12, tzinfo=dt.UTC),
            updated_at=dt.datetime(month.year, month.month, day, 12, tzinfo=dt.UTC),
            abs_url=f"https://arxiv.org/abs/{base}",
            pdf_url=f"https://arxiv.org/pdf/{base}",
            code_url="https://github.com/example/planact" if title.startswith("Agents that") else None,
        )
        session.add(paper)
        papers.append(paper)
    session.flush()
    return papers


def settings_for(db_url: str, **overrides: object) -> Settings:
    topics = [
        TopicSeed(name="Agents", include=["agent", "tool use"], exclude=["survey"], weight=1.5),
        TopicSeed(name="Reasoning", include=["reasoning", "chain of thought"]),
        TopicSeed(name="Safety", include=["adversarial", "jailbreak", "safety"]),
        TopicSeed(name="Efficiency", include=["efficient", "inference cost"]),
    ]
    return load_settings(
        database_url=db_url, topics=topics, digest_size=4, other_papers=2, max_per_topic=2, **overrides
    )


@pytest.fixture
def papers(session_factory: sessionmaker[Session]) -> list[Paper]:
    with session_factory() as session:
        added = add_papers(session)
        session.commit()
        return added


@pytest.fixture
def service(db_url: str, session_factory: sessionmaker[Session], papers: list[Paper]) -> DigestService:
    return DigestService(lambda: UnitOfWork(session_factory), settings_for(db_url), clock=lambda: FIXED_NOW)


def entry_rows(session_factory: sessionmaker[Session]) -> list[tuple[int, str, str]]:
    with session_factory() as session:
        return [
            (e.position, e.section, e.paper.arxiv_id)
            for e in session.scalars(select(DigestEntry).order_by(DigestEntry.position))
        ]


def test_build_stores_a_draft(service: DigestService, session_factory: sessionmaker[Session]) -> None:
    view = service.build("2026-10")
    assert view.title == "Trends in AI — October 2026"
    assert view.status == "draft"
    assert view.month == "2026-10"
    assert len(view.picks) == 4
    assert len(view.others) == 2
    assert [e.position for e in (*view.picks, *view.others)] == [1, 2, 3, 4, 5, 6]
    assert view.intro.startswith("This month: ")
    assert view.intro.endswith("out of 12 new papers.")
    for topic in view.topics_covered:
        assert topic.lower() in view.intro.lower()
    for pick in view.picks:
        assert pick.why
        assert pick.insights
        assert pick.links.abstract == f"https://arxiv.org/abs/{pick.arxiv_id}"
    assert all(not other.why for other in view.others)
    assert [(p, s) for p, s, _ in entry_rows(session_factory)] == [
        (1, "pick"),
        (2, "pick"),
        (3, "pick"),
        (4, "pick"),
        (5, "other"),
        (6, "other"),
    ]
    assert service.get(OCTOBER) == view
    assert service.latest() == view
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(PaperSummary)) == 4


def test_rebuild_replaces_the_draft(
    db_url: str, service: DigestService, session_factory: sessionmaker[Session]
) -> None:
    service.build(OCTOBER)
    first = entry_rows(session_factory)
    smaller = DigestService(
        lambda: UnitOfWork(session_factory), settings_for(db_url).model_copy(update={"digest_size": 2})
    )
    rebuilt = smaller.build(OCTOBER)
    assert len(rebuilt.picks) == 2
    rows = entry_rows(session_factory)
    assert [(position, section) for position, section, _ in rows] == [
        (1, "pick"),
        (2, "pick"),
        (3, "other"),
        (4, "other"),
    ]
    assert [arxiv_id for _, _, arxiv_id in rows[:2]] == [arxiv_id for _, _, arxiv_id in first[:2]]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Digest)) == 1
        assert session.scalar(select(func.count()).select_from(DigestEntry)) == 4


def test_published_digest_is_immutable(service: DigestService) -> None:
    service.build(OCTOBER)
    published = service.mark_published(OCTOBER)
    assert published.status == "published"
    assert published.published_at == FIXED_NOW
    assert service.mark_published(OCTOBER) == published  # publishing again changes nothing
    with pytest.raises(
        ConflictError, match=r"The October 2026 digest was published on 2026-11-02 and can't be rebuilt"
    ):
        service.build(OCTOBER)
    assert service.get(OCTOBER) == published


def test_earlier_published_papers_are_not_repeated(
    service: DigestService, session_factory: sessionmaker[Session]
) -> None:
    first = service.build(OCTOBER)
    shown = {e.arxiv_id for e in first.picks[:2]}
    with session_factory() as session:  # a September digest that already showed two of them
        september = Digest(
            audience_id=default_audience_id(session),
            month="2026-09",
            status="published",
            title="Trends in AI — September 2026",
            published_at=FIXED_NOW,
        )
        ids = session.scalars(select(Paper.id).where(Paper.arxiv_id.in_(shown))).all()
        september.entries = [DigestEntry(paper_id=pid, position=i) for i, pid in enumerate(ids, start=1)]
        session.add(september)
        session.commit()
    rebuilt = service.build(OCTOBER)
    assert shown.isdisjoint({e.arxiv_id for e in (*rebuilt.picks, *rebuilt.others)})
    assert service.latest().month == "2026-09"  # the newest *published* digest wins


def test_month_without_papers_says_to_harvest(service: DigestService) -> None:
    with pytest.raises(NotFoundError, match=r"trends harvest --month 2026-11"):
        service.build("2026-11")
    with pytest.raises(NotFoundError, match="trends digest --month 2026-11"):
        service.get("2026-11")


def test_votes_and_signals_are_loaded(service: DigestService, session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        paper = session.scalars(select(Paper).where(Paper.arxiv_id == "2610.09002")).one()
        session.add_all(
            [
                Vote(
                    audience_id=default_audience_id(session),
                    platform="slack",
                    workspace_id="T1",
                    user_id=f"U{i}",
                    paper_id=paper.id,
                    value=1,
                )
                for i in range(3)
            ]
        )
        session.add(
            PaperSignal(paper_id=paper.id, source="github", name="stars", value=120.0, observed_at=FIXED_NOW)
        )
        session.commit()
    scored = {s.candidate.arxiv_id: s.candidate for s in service.rank(OCTOBER).ranked}
    assert scored["2610.09002"].votes == 3
    assert scored["2610.09002"].signals["github.stars"] == 120.0
    assert scored["2610.09001"].votes == 0
    assert not scored["2610.09001"].signals


def test_markdown_and_json(service: DigestService) -> None:
    view = service.build(OCTOBER)
    markdown = render_markdown(view)
    assert markdown.startswith("# Trends in AI — October 2026\n")
    assert view.intro in markdown.replace("\\", "")
    assert "## 1. [" in markdown
    assert "## 4. [" in markdown
    assert markdown.count("**Why →**") == 4
    assert markdown.count("**Key insights →**") == 4
    assert "## Other papers you might like" in markdown
    assert "[Abstract](https://arxiv.org/abs/" in markdown
    assert "· [PDF](https://arxiv.org/pdf/" in markdown
    planact = next((e for e in view.picks if e.title.startswith("Agents that")), None)
    if planact is not None:
        assert "[Code](https://github.com/example/planact)" in markdown
    assert markdown.count("[Code](") == sum(1 for e in view.picks if e.links.code)
    data = json.loads(render_json(view))
    assert list(data) == [
        "schema_version",
        "month",
        "title",
        "intro",
        "status",
        "created_at",
        "published_at",
        "topics_covered",
        "picks",
        "others",
    ]
    assert [p["arxiv_id"] for p in data["picks"]] == [e.arxiv_id for e in view.picks]
    assert set(data["picks"][0]["links"]) == {"abstract", "pdf", "code", "project"}


def test_authors_short() -> None:
    from bot.digest.views import short_authors

    assert short_authors(("A", "B", "C", "D")) == "A, B, C et al."
    assert short_authors(("A", "B")) == "A, B"
    assert short_authors(()) == ""


@pytest.fixture
def llm() -> Iterator[FakeLLMServer]:
    with running_llm_server() as fake:
        yield fake


def test_llm_summaries_are_cached(
    db_url: str, session_factory: sessionmaker[Session], papers: list[Paper], llm: FakeLLMServer
) -> None:
    llm.reply_json("Why from the model.", ["Insights from the model."])
    with OpenAICompatibleSummarizer(llm.base_url, "fake-model") as summarizer:
        service = DigestService(
            lambda: UnitOfWork(session_factory), settings_for(db_url), summarizer=summarizer
        )
        view = service.build(OCTOBER)
        assert len(llm.requests) == 4
        # The month's context (a topic's paper count) leads; the model's Why follows it.
        assert all(p.why.endswith("Why from the model.") for p in view.picks)
        again = service.build(OCTOBER)
        assert len(llm.requests) == 4  # every summary came from the cache
        assert [p.insights for p in again.picks] == [p.insights for p in view.picks]
        with session_factory() as session:  # a new version of one pick is summarised again
            paper = session.get(Paper, view.picks[0].paper_id)
            assert paper is not None
            paper.version = 2
            session.commit()
        service.build(OCTOBER)
        assert len(llm.requests) == 5
        llm.behaviour.status = 500
        with session_factory() as session:
            paper = session.get(Paper, view.picks[1].paper_id)
            assert paper is not None
            paper.version = 3
            session.commit()
        fell_back = service.build(OCTOBER)
    assert not fell_back.picks[1].why.endswith("Why from the model.")
    with session_factory() as session:
        rows = session.execute(select(PaperSummary.paper_id, PaperSummary.summarizer))
        sources = {row.paper_id: row.summarizer for row in rows}
    assert sources[view.picks[1].paper_id] in {OFFLINE_ID, llm_id("fake-model")}
    assert list(sources.values()).count(llm_id("fake-model")) >= 3


def test_summaries_cached_under_an_older_prompt_are_not_served(
    db_url: str, session_factory: sessionmaker[Session], papers: list[Paper], llm: FakeLLMServer
) -> None:
    # Rows as the v3 offline summarizer and the unversioned "llm:<model>" id (the earlier prompts)
    # filed them: the Why they hold may open on the abstract's background or on "We…".
    with session_factory() as session:
        for paper in session.scalars(select(Paper)):
            for old_id in ("offline-v3", "llm:fake-model"):
                session.add(
                    PaperSummary(
                        paper_id=paper.id, summarizer=old_id, paper_version=1, why="Stale why.", insights="x"
                    )
                )
        session.commit()
    llm.reply_json("Why from the model.", ["Insights from the model."])
    with OpenAICompatibleSummarizer(llm.base_url, "fake-model") as summarizer:
        view = DigestService(
            lambda: UnitOfWork(session_factory), settings_for(db_url), summarizer=summarizer
        ).build(OCTOBER)
    assert len(llm.requests) == 4  # asked afresh: nothing was served from the old rows
    assert all(p.why.endswith("Why from the model.") for p in view.picks)
    offline = DigestService(lambda: UnitOfWork(session_factory), settings_for(db_url)).build(OCTOBER)
    assert not any("Stale why." in p.why for p in offline.picks)


def test_intro_wording() -> None:
    assert compose_intro([], 0) == "This month: no picks, out of 0 new papers."


def test_a_configured_embedding_model_that_is_missing_is_a_clear_config_error(
    db_url: str, session_factory: sessionmaker[Session], papers: list[Paper], tmp_path: Path
) -> None:
    settings = settings_for(db_url, embedding_model=str(tmp_path / "no-such-model"))
    service = DigestService(lambda: UnitOfWork(session_factory), settings, clock=lambda: FIXED_NOW)
    with pytest.raises(ConfigError) as info:
        service.build(OCTOBER)
    assert "no-such-model" in str(info.value) or "embedding" in str(info.value).lower()
    with session_factory() as session:  # nothing was stored
        assert session.scalar(select(func.count()).select_from(Digest)) == 0
