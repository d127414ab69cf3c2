"""Block Kit rendering stays inside Slack's limits whatever the text, and never lets text forge links."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.slack.blocks import (
    ACTION_CHART,
    ACTION_SEARCH_MORE,
    BLOCKS_CHAR_BUDGET,
    MAX_BLOCKS,
    SECTION_TEXT_LIMIT,
    blocks_size,
    digest_summary,
    escape,
    link,
    parse_more_value,
    pick_message,
    render_reply,
    search_message,
    split_text,
)
from bot.archive.views import PaperHit, SearchResult
from bot.chat.replies import Reply
from bot.digest.views import DigestView, EntryView, Links


def _entry(
    position: int, why: str = "Why it matters.", insights: str = "What is new.", **links: str
) -> EntryView:
    return EntryView(
        position=position,
        section="pick",
        paper_id=position,
        arxiv_id=f"2610.{position:05d}",
        title=f"Paper <b>{position}</b> & friends",
        authors=("Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"),
        links=Links(
            abstract=f"https://arxiv.org/abs/2610.{position:05d}",
            pdf=f"https://arxiv.org/pdf/2610.{position:05d}",
            code=links.get("code"),
            project=links.get("project"),
        ),
        why=why,
        insights=insights,
        topic="Agents",
        reason="Top match for Agents",
        score=1.0,
    )


def _digest(picks: int, intro: str = "This month in AI.") -> DigestView:
    return DigestView(
        month="2026-10",
        month_label="October 2026",
        title="Trends in AI — October 2026",
        intro=intro,
        status="published",
        created_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        published_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        topics_covered=("Agents",),
        picks=tuple(_entry(i) for i in range(1, picks + 1)),
        others=(),
    )


def _check_limits(blocks: list[dict[str, object]]) -> None:
    assert len(blocks) <= MAX_BLOCKS
    assert blocks_size(blocks) <= BLOCKS_CHAR_BUDGET
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            assert len(text["text"]) <= SECTION_TEXT_LIMIT


@given(st.text(max_size=12_000))
@settings(max_examples=60, deadline=None)
def test_split_text_keeps_every_word_within_the_limit(text: str) -> None:
    chunks = split_text(text, limit=300)
    assert all(0 < len(chunk) <= 300 for chunk in chunks)
    assert "".join("".join(chunks).split()) == "".join(text.split())


def test_split_text_prefers_sentence_boundaries() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(400))
    chunks = split_text(text)
    assert len(chunks) > 1
    assert all(chunk.endswith(".") for chunk in chunks)


def test_escape_and_link_neutralise_mentions_and_odd_urls() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert link("https://arxiv.org/abs/1", "A|B <c>") == "<https://arxiv.org/abs/1|A¦B &lt;c&gt;>"
    assert link("javascript:alert(1)", "x") == "x"
    assert link("https://ex.com/a b", "x") == "x"


def test_pick_reply_has_title_why_insights_topic_and_link_buttons() -> None:
    message = pick_message(_entry(3, code="https://github.com/x/y", project="https://x.github.io"))
    text = json.dumps(message.blocks, ensure_ascii=False)
    assert "*3. <https://arxiv.org/abs/2610.00003|Paper &lt;b&gt;3&lt;/b&gt; &amp; friends>*" in text
    assert "Ada Lovelace, Alan Turing, Grace Hopper et al." in text
    assert "*Why →* Why it matters." in text
    assert "*Key insights →* What is new." in text
    assert "Topic: Agents" in text
    buttons = message.blocks[-1]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Abstract", "PDF", "Code", "Project page"]
    assert len({b["action_id"] for b in buttons}) == 4
    assert message.text.startswith("3. Paper")


def test_key_insights_render_as_escaped_bullets() -> None:
    insights = "We route tokens <fast>.\n- Cuts latency by 31% & more.\nReleased: code and model weights."
    message = pick_message(_entry(2, insights=insights))
    [section] = [b for b in message.blocks if "Key insights" in json.dumps(b)]
    assert section["text"]["text"] == (
        "*Key insights →*\n• We route tokens &lt;fast&gt;.\n• Cuts latency by 31% &amp; more."
        "\n• Released: code and model weights."
    )


def test_a_huge_pick_is_split_and_cut_to_fit() -> None:
    why = "This matters a great deal. " * 800  # ~21,600 characters
    message = pick_message(_entry(1, why=why, insights="Short."))
    _check_limits(message.blocks)
    sections = [b for b in message.blocks if b["type"] == "section"]
    assert len(sections) >= 3  # split, not clipped to one section
    assert message.blocks[-1]["type"] == "context"
    assert "cut short" in message.blocks[-1]["elements"][0]["text"]
    assert len(message.text) <= 3000


def test_parent_lists_numbered_linked_picks_within_limits() -> None:
    message = digest_summary(_digest(30, intro="An intro. " * 500), with_thread_note=True)
    _check_limits(message.blocks)
    assert message.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Trends in AI — October 2026"},
    }
    text = json.dumps(message.blocks, ensure_ascii=False)
    assert "1. *<https://arxiv.org/abs/2610.00001|" in text
    assert "30. *<https://arxiv.org/abs/2610.00030|" in text
    assert "thread" in text


def _hit(i: int) -> PaperHit:
    return PaperHit(
        arxiv_id=f"2610.{i:05d}",
        title=f"Diffusion {i}",
        authors_short="Ada Lovelace",
        month="2026-10",
        submitted_at=dt.datetime(2026, 10, 5, tzinfo=dt.UTC),
        links=Links(
            abstract=f"https://arxiv.org/abs/2610.{i:05d}", pdf=f"https://arxiv.org/pdf/2610.{i:05d}"
        ),
        reason="matches: diffusion",
        score=1.0,
    )


def test_search_buttons_carry_the_query_and_next_page() -> None:
    result = SearchResult("diffusion 🚀", tuple(_hit(i) for i in range(1, 6)), 1, 5, True, None)
    message = search_message(result)
    actions = message.blocks[-1]
    assert [e["action_id"] for e in actions["elements"]] == [ACTION_SEARCH_MORE, ACTION_CHART]
    assert parse_more_value(actions["elements"][0]["value"]) == ("diffusion 🚀", 2)
    assert actions["elements"][1]["value"] == "diffusion 🚀"


def test_a_query_too_long_for_a_button_drops_the_buttons_not_the_reply() -> None:
    result = SearchResult("x" * 5000, (_hit(1),), 1, 5, True, None)
    message = search_message(result)
    assert all(b["type"] != "actions" for b in message.blocks)
    assert "Diffusion 1" in json.dumps(message.blocks)


@pytest.mark.parametrize(
    "value", ["", "not json", "[]", '{"q": "", "p": 2}', '{"q": "x", "p": true}', '{"q": "x", "p": 10000}']
)
def test_forged_more_values_are_rejected(value: str) -> None:
    assert parse_more_value(value) is None


def test_every_reply_kind_renders_with_a_fallback() -> None:
    for reply in (
        Reply(kind="text", text="Added topic *Robotics*."),
        Reply(kind="error", text="Unbalanced quotes."),
        Reply(kind="topics", text="No topics yet."),
        Reply(kind="issues", text="No digests yet."),
        Reply(kind="digest", text="x", digest=_digest(2)),
        Reply(
            kind="search", text="Nothing", search=SearchResult("q", (), 1, 5, False, 0, message="Nothing.")
        ),
    ):
        message = render_reply(reply)
        assert message.text.strip()
        assert message.blocks
        _check_limits(message.blocks)
