"""The digest's editorial voice: an intro with the month's emerging terms and continuing themes, Whys
led by archive facts (topic counts, the earlier featured paper a pick follows), bullets in Markdown."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy.orm import Session, sessionmaker

from bot.archive.trending import emerging_terms
from bot.db.models import Paper
from bot.db.uow import UnitOfWork
from bot.digest.editorial import (
    Featured,
    MonthContext,
    PickContext,
    Trend,
    compose_intro,
    count_topics,
    pick_contexts,
    predecessors,
)
from bot.digest.render import escape_markdown, render_markdown
from bot.digest.service import DigestService
from bot.digest.views import insight_bullets
from bot.months import Month
from bot.ranking.types import TopicSpec
from bot.settings import TopicSeed, load_settings
from tests.factories import add_published_digest, digest_view, make_paper

OCTOBER = Month(2026, 10)
AGENTS = TopicSpec("Agents", include=("agent", "tool use"), exclude=("survey",))
CHEMISTRY = TopicSpec("Chemistry", include=("molecule", "molecular"))


class _Pick:
    def __init__(self, topic: str | None) -> None:
        self.topic = topic


def test_count_topics_follows_include_and_exclude_phrases() -> None:
    texts = [
        "LLM agents plan tool use.",
        "A survey of agents.",  # excluded from Agents
        "Molecular graphs for molecule design.",
        "Agentic workflows",  # "agent" is a phrase, not a prefix
    ]
    assert count_topics(texts, [AGENTS, CHEMISTRY]) == {"Agents": 1, "Chemistry": 1}


def test_intro_tells_the_month_its_trends_and_what_continues() -> None:
    context = MonthContext(
        month="2026-10",
        total_papers=23_512,
        trends=(Trend("tool use", 140, 3.14), Trend("world models", 85, 2.0), Trend("steady", 50, 1.1)),
        featured=(Featured("Earlier agents paper", "2026-08", "Agents", "text"),),
    )
    contexts = [
        PickContext("", Featured("Earlier agents paper", "2026-08", "Agents", "text")),
        PickContext("", None),
    ]
    intro = compose_intro(
        [_Pick("Agents"), _Pick("Agents"), _Pick("RAG"), _Pick(None)], 23_512, context, contexts
    )
    assert intro == (
        "This month: 2 papers on agents, 1 on RAG and 1 more from across the field, "
        "out of 23,512 new papers. "
        "The terms that grew fastest against the previous 3 months: “tool use” (140 papers, 3.1×) and "
        "“world models” (85 papers, 2.0×). "
        "Continuing from earlier digests: agents, featured since August 2026. "
        "One pick follows a paper featured before."
    )
    # Without archive facts, only what the picks themselves say.
    assert compose_intro([], 0) == "This month: no picks, out of 0 new papers."


def test_a_why_is_led_by_the_month_and_ends_with_what_it_follows() -> None:
    earlier = Featured(
        "Search trees over tool calls",
        "2026-09",
        "Agents",
        "Search trees over tool calls. Language agents waste tool calls; a search tree plans them.",
    )
    context = MonthContext(
        month="2026-10",
        total_papers=900,
        topic_papers={"Agents": 140},
        trends=(Trend("tool calls", 40, 2.5),),
        featured=(earlier,),
    )
    picks = [
        (
            "Planning tool calls",
            "Language agents waste tool calls. A planner orders tool calls first.",
            "Agents",
        ),
        ("Protein folding at scale", "Folding long proteins remains slow.", None),
    ]
    first, second = pick_contexts(picks, context)
    assert first.why("Unplanned tool calls waste budget.") == (
        "One of 140 papers on agents this month, part of the rise of “tool calls” (40 papers, 2.5× its "
        "share of the previous 3 months). Unplanned tool calls waste budget. It follows “Search trees over "
        "tool calls”, featured in September 2026."
    )
    assert second == PickContext("", None)
    assert second.why("Folding long proteins remains slow.") == "Folding long proteins remains slow."
    assert pick_contexts(picks, None) == [PickContext("", None), PickContext("", None)]


def test_an_unrelated_earlier_paper_is_not_followed() -> None:
    earlier = Featured("Diffusion for audio", "2026-09", None, "Diffusion models generate audio waveforms.")
    related = Featured("Tool planning", "2026-08", None, "Language agents plan tool calls with search.")
    found = predecessors(
        ["Agents plan tool calls with a learned search.", "Quantum error correction codes."],
        [earlier, related],
    )
    assert found == [related, None]
    assert predecessors([], [earlier]) == []
    assert predecessors(["anything"], []) == [None]


def test_markdown_renders_bullets_and_no_needless_escapes() -> None:
    assert insight_bullets("One.\n- Two.\n\n• Three.") == ("One.", "Two.", "Three.")
    assert insight_bullets("A paragraph from before bullets.") == ("A paragraph from before bullets.",)
    assert escape_markdown("error < 5 and a > b, #1") == "error < 5 and a > b, #1"
    assert escape_markdown("<b>tag</b> *star* [link]") == "\\<b>tag\\</b> \\*star\\* \\[link\\]"
    assert escape_markdown("# heading") == "\\# heading"
    view = digest_view("2026-10", [make_paper("2610.00001", title="Paper")])
    view = replace(view, picks=(replace(view.picks[0], insights="Method.\nGain < 5%."),))
    markdown = render_markdown(view)
    assert "**Key insights →**\n\n- Method.\n- Gain < 5%.\n" in markdown


def _add_month(session: Session, month: Month, papers: list[tuple[str, str]], prefix: str) -> list[int]:
    ids = []
    for day, (title, abstract) in enumerate(papers, start=1):
        paper = make_paper(
            f"{prefix}.{day:05d}",
            title,
            abstract,
            submitted=dt.datetime(month.year, month.month, 1 + day % 28, 12, tzinfo=dt.UTC),
        )
        session.add(paper)
        session.flush()
        ids.append(paper.id)
    return ids


def _molecules(n: int, offset: int = 0) -> list[tuple[str, str]]:
    return [
        (
            f"Message passing for molecule property prediction, study {i + offset}",
            "Molecular property prediction remains costly for large compounds. We propose a message "
            f"passing network with {3 + i % 5} layers. It improves accuracy by {2 + i % 7}% on "
            "molecule benchmarks.",
        )
        for i in range(n)
    ]


def test_a_built_digest_has_the_editorial_voice(db_url: str, session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        for offset, month in enumerate([Month(2026, 7), Month(2026, 8)]):
            _add_month(session, month, _molecules(30, 100 * offset), f"26{month.month:02d}")
        september = _add_month(
            session,
            Month(2026, 9),
            [
                (
                    "Search trees over tool calls for language agents",
                    "Language agents waste tool calls on long tasks. We propose a search tree that plans "
                    "tool calls for agents. It cuts failed tool calls by 20% on web tasks.",
                ),
                *_molecules(29, 300),
            ],
            "2609",
        )
        featured = add_published_digest(session, "2026-09", [session.get_one(Paper, september[0])])
        featured.entries[0].topic_name = "Agents"
        agents = [
            (
                f"Planning tool calls for language agents, variant {i}",
                "Language agents waste tool calls when tool use is unplanned. We propose a planner that "
                "orders tool calls for agents before acting. It reduces failed tool calls by "
                f"{10 + i}% on web tasks.",
            )
            for i in range(12)
        ]
        _add_month(session, OCTOBER, agents + _molecules(18, 500), "2610")
        session.commit()
        trending = emerging_terms(session, "2026-10", limit=10)
    settings = load_settings(
        database_url=db_url,
        topics=[
            TopicSeed(name="Agents", include=["agent", "tool use"]),
            TopicSeed(name="Chemistry", include=["molecule", "molecular"]),
        ],
        digest_size=4,
        other_papers=0,
        max_per_topic=2,
    )
    view = DigestService(lambda: UnitOfWork(session_factory), settings).build(OCTOBER)
    terms = [t.term for t in trending.terms if t.growth >= 1.5]
    assert terms  # the fixture has a trend
    assert "The terms that grew fastest against the previous 3 months: “" in view.intro
    assert f"“{terms[0]}”" in view.intro
    assert "Continuing from earlier digests: agents, featured since September 2026." in view.intro
    agent_picks = [p for p in view.picks if p.topic == "Agents"]
    assert agent_picks
    for pick in agent_picks:
        assert pick.why.startswith("One of 12 papers on agents this month")
        assert pick.why.endswith(
            "It follows “Search trees over tool calls for language agents”, featured in September 2026."
        )
        assert len(pick.insight_bullets) >= 2
        assert any("%" in b for b in pick.insight_bullets)
    for pick in view.picks:
        assert not pick.why.startswith(("We ", "Our ", "This paper"))
