"""Embed rendering stays inside Discord's limits whatever the text: long, emoji-heavy, markdown-laden."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import discord
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.discord.render import (
    FIELD_VALUE_LIMIT,
    MESSAGE_EMBEDS_TOTAL,
    clip,
    entry_embeds,
    footer_has_marker,
    is_linkable,
    link_buttons,
    parent_embeds,
    render_reply,
    size,
    split_text,
    thread_name,
    total_size,
)
from bot.archive.views import PaperHit, SearchResult
from bot.chat.replies import Reply
from bot.digest.views import DigestView, EntryView, Links
from tests.fakes.discord_api import Call, limit_violations


def _entry(position: int = 1, **changes: object) -> EntryView:
    entry = EntryView(
        position=position,
        section="pick",
        paper_id=position,
        arxiv_id=f"2610.{position:05d}",
        title=f"A [bracketed] *starred* title {position}",
        authors=("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
        links=Links(
            abstract=f"https://arxiv.org/abs/2610.{position:05d}",
            pdf=f"https://arxiv.org/pdf/2610.{position:05d}",
        ),
        why="Why it matters.",
        insights="What is new.",
        topic="Agents",
        reason="Top match for Agents",
        score=1.0,
    )
    return replace(entry, **changes)  # type: ignore[arg-type]


def _digest(picks: int = 3, **changes: object) -> DigestView:
    digest = DigestView(
        month="2026-10",
        month_label="October 2026",
        title="Trends in AI — October 2026",
        intro="The month in AI.",
        status="published",
        created_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        published_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        topics_covered=("Agents",),
        picks=tuple(_entry(i) for i in range(1, picks + 1)),
        others=(),
    )
    return replace(digest, **changes)  # type: ignore[arg-type]


def _as_call(embeds: list[discord.Embed]) -> Call:
    return Call("POST", "/channels/1/messages", {}, json={"embeds": [e.to_dict() for e in embeds]})


def test_clip_and_split_respect_utf16_lengths() -> None:
    text = "🚀" * 600  # 1,200 UTF-16 units
    assert size(clip(text, 1024)) <= 1024
    assert clip("short", 10) == "short"
    pieces = split_text("word " * 1000, FIELD_VALUE_LIMIT)
    assert all(size(p) <= FIELD_VALUE_LIMIT for p in pieces)
    assert " ".join(pieces).split() == ["word"] * 1000  # nothing lost, nothing cut mid-word


def test_parent_lists_picks_with_escaped_links_and_the_marker() -> None:
    embeds = parent_embeds(_digest(), "trends-delivery-4-0")
    description = embeds[0].description or ""
    assert (
        "**1.** [A \\[bracketed\\] \\*starred\\* title 1](https://arxiv.org/abs/2610.00001) — Agents"
        in description
    )
    assert footer_has_marker(embeds[0].footer.text, "trends-delivery-4-0")


def test_parent_with_many_long_titles_splits_over_embeds_within_the_message_budget() -> None:
    picks = tuple(_entry(i, title="Very long title " * 40) for i in range(1, 31))
    embeds = parent_embeds(replace(_digest(), picks=picks), "m-0")
    assert len(embeds) >= 2
    assert total_size(embeds) <= MESSAGE_EMBEDS_TOTAL
    assert not limit_violations([_as_call(embeds)])
    assert "more" in (embeds[-1].description or "")  # what didn't fit is announced, not dropped silently


def test_pick_with_huge_texts_is_one_message_within_every_limit() -> None:
    entry = _entry(
        why="Because. " * 1500,
        insights="\n\n".join("Insight " + "x" * 900 for _ in range(8)),
        title="T" * 400,
    )
    embeds = entry_embeds(entry, "trends-delivery-1-1", month_label="October 2026")
    assert not limit_violations([_as_call(embeds)])
    assert len(embeds[0].title or "") <= 256
    names = [f.name for e in embeds for f in e.fields]
    assert names[:3] == ["Topic", "arXiv", "Why →"]
    assert names[3].startswith("Why → (2/")
    assert names[-1] == "…"


def test_key_insights_render_as_escaped_bullets() -> None:
    entry = _entry(insights="Routes *hard* tokens to [experts].\nCuts latency by 31%.\nReleased: code.")
    embeds = entry_embeds(entry, "trends-delivery-1-1")
    [field] = [f for e in embeds for f in e.fields if f.name == "Key insights →"]
    assert field.value == (
        "• Routes \\*hard\\* tokens to \\[experts\\].\n• Cuts latency by 31%.\n• Released: code."
    )
    single = entry_embeds(_entry(insights="One paragraph written before bullets."), "m")
    assert [f.value for e in single for f in e.fields if f.name == "Key insights →"] == [
        "One paragraph written before bullets."
    ]


def test_link_buttons_skip_unusable_urls() -> None:
    entry = _entry(
        links=Links(
            abstract="https://arxiv.org/abs/1", pdf="javascript:alert(1)", code="https://x.io/" + "a" * 600
        )
    )
    view = link_buttons(entry)
    assert view is not None
    assert [getattr(b, "label", None) for b in view.children] == ["Abstract"]
    assert not is_linkable("ftp://example.org/x")


def test_thread_name_fits_discord() -> None:
    assert len(thread_name(_digest(title="T" * 300))) <= 100


def test_search_reply_renders_hits_as_fields() -> None:
    hit = PaperHit(
        arxiv_id="2610.00001",
        title="Diffusion for video",
        authors_short="Ada Lovelace et al.",
        month="2026-10",
        submitted_at=dt.datetime(2026, 10, 5, tzinfo=dt.UTC),
        links=Links(abstract="https://arxiv.org/abs/2610.00001", pdf="https://arxiv.org/pdf/2610.00001"),
        reason="matches: diffusion",
        score=1.0,
    )
    result = SearchResult(
        query="@everyone diffusion", hits=(hit,), page=1, page_size=5, has_more=True, total_estimate=None
    )
    rendered = render_reply(Reply(kind="search", text="fallback", search=result))
    assert rendered.embeds is not None
    embed = rendered.embeds[0]
    assert embed.fields[0].name == "1. Diffusion for video"
    assert "page:2" in (embed.description or "")


def test_long_plain_text_moves_into_an_embed() -> None:
    rendered = render_reply(Reply(kind="text", text="@everyone " + "y" * 3000))
    assert rendered.content is None
    assert rendered.embeds is not None
    assert "@everyone" not in (rendered.embeds[0].description or "")


@settings(max_examples=60, deadline=None)
@given(why=st.text(max_size=7000), insights=st.text(max_size=7000), title=st.text(max_size=600))
def test_any_text_renders_within_limits(why: str, insights: str, title: str) -> None:
    embeds = entry_embeds(_entry(why=why, insights=insights, title=title), "trends-delivery-9-9")
    assert not limit_violations([_as_call(embeds)])
    assert footer_has_marker(embeds[0].footer.text, "trends-delivery-9-9")


@pytest.mark.parametrize("kind", ["error", "text", "published", "help"])
def test_short_text_replies_are_plain_content(kind: str) -> None:
    rendered = render_reply(Reply(kind=kind, text="Done."))  # type: ignore[arg-type]
    assert rendered.content == "Done."
