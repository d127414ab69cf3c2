"""Block Kit rendering: core views and replies → Slack messages that stay inside Slack's limits.

Every function returns a `SlackMessage`: the Block Kit `blocks` plus the plain-text `text` fallback
Slack shows in notifications and on clients that cannot render blocks (always set). The limits we
keep, and why:

- a section's text is at most 3,000 characters (Slack's hard limit): longer text is split across
  sections on sentence, then word boundaries;
- at most 50 blocks a message (Slack's limit);
- the serialized blocks stay under `BLOCKS_CHAR_BUDGET` characters: Slack answers
  `msg_blocks_too_long` at roughly 13k characters even under the documented limits, so a message
  that would grow past the budget is cut short with a note instead of being refused.

User-controlled text (titles, queries, topic names) is escaped for mrkdwn so it can never forge a
link, a mention or a broadcast (`<!channel>`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bot.archive.views import IssueSummary, PaperHit, SearchResult, TrendView
from bot.chat.commands import USAGE, Command, Issue, Search
from bot.chat.replies import Reply
from bot.delivery import DeliveryReport
from bot.digest.views import DigestView, EntryView, TopicView
from bot.scheduler.approval import APPROVE_ACTION, approve_value

Block = dict[str, Any]

SECTION_TEXT_LIMIT = 3000
HEADER_TEXT_LIMIT = 150
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
CONTEXT_TEXT_LIMIT = 3000
MAX_BLOCKS = 50
BLOCKS_CHAR_BUDGET = 11_000
FALLBACK_TEXT_LIMIT = 3000
SEARCH_HITS_SHOWN = 5

# Action ids of the buttons we render (the app registers a handler for each).
ACTION_SEARCH_MORE = "trends_search_more"
ACTION_CHART = "trends_chart"
ACTION_LINK_PREFIX = "trends_link_"
ACTION_SHARE = "trends_share"
ACTION_APPROVE = APPROVE_ACTION
APPROVAL_BLOCK_ID = "trends_approval"

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_UNSAFE_URL_CHARS = re.compile(r"[\s<>|]")


@dataclass(frozen=True, slots=True)
class SlackMessage:
    text: str
    blocks: list[Block] = field(default_factory=list)


def escape(text: str) -> str:
    """Escape mrkdwn control characters so user text shows as typed (no links, no mentions)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_url(url: str | None) -> str | None:
    """The URL if it can go inside `<url|label>` and a button; None for anything odd."""
    if not url or len(url) > 2000 or _UNSAFE_URL_CHARS.search(url):
        return None
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    return url


def link(url: str | None, label: str) -> str:
    """`<url|label>` in mrkdwn, or just the escaped label when the URL is unusable."""
    shown = escape(label).replace("|", "¦")
    target = safe_url(url)
    return f"<{target}|{shown}>" if target else shown


def clip(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters, ending with an ellipsis when something was cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + "…"


def split_text(text: str, limit: int = SECTION_TEXT_LIMIT) -> list[str]:
    """Split `text` into chunks of at most `limit` characters: at line or sentence ends when
    possible, else between words, else (one enormous word) anywhere."""
    text = text.strip()
    if not text:
        return []
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    for line in text.split("\n"):
        pieces.extend(_SENTENCE_END.split(line) if len(line) > limit else [line])
        pieces[-1] += "\n"
    chunks: list[str] = []
    current = ""
    for piece in _words_within(pieces, limit):
        joiner = "" if not current or current.endswith("\n") else " "
        if len(current) + len(joiner) + len(piece.rstrip("\n")) <= limit:
            current += joiner + piece
        else:
            if current.strip():
                chunks.append(current.strip())
            current = piece
    if current.strip():
        chunks.append(current.strip())
    return chunks


def _words_within(pieces: Iterable[str], limit: int) -> Iterable[str]:
    """Sentences longer than `limit` broken into words, and words longer than it into slices."""
    for piece in pieces:
        if len(piece.rstrip("\n")) <= limit:
            yield piece
            continue
        for word in piece.split(" "):
            while len(word) > limit:
                yield word[:limit]
                word = word[limit:]
            if word:
                yield word


def _size(block: Block) -> int:
    return len(json.dumps(block, ensure_ascii=False))


class BlockBuilder:
    """Collects blocks while keeping a message under the block count and character budget."""

    def __init__(self, max_blocks: int = MAX_BLOCKS, budget: int = BLOCKS_CHAR_BUDGET) -> None:
        self.blocks: list[Block] = []
        self._max_blocks = max_blocks - 1  # keep room for the "cut short" note
        self._budget = budget - 400
        self._used = 2  # the surrounding "[...]"
        self.truncated = False

    def add(self, block: Block) -> bool:
        """Append `block` if it fits; once something does not fit, nothing more is added."""
        if self.truncated:
            return False
        size = _size(block) + 1
        if len(self.blocks) >= self._max_blocks or self._used + size > self._budget:
            self.truncated = True
            return False
        self.blocks.append(block)
        self._used += size
        return True

    def text(self, mrkdwn: str) -> None:
        """One or more sections holding `mrkdwn`, split to fit Slack's 3,000 characters a section."""
        for chunk in split_text(mrkdwn):
            self.add(section(chunk))

    def finish(self, note: str = "The message was cut short to fit Slack's limits.") -> list[Block]:
        if self.truncated:
            self.blocks.append(context(note))
        return self.blocks


def section(mrkdwn: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(mrkdwn, SECTION_TEXT_LIMIT)}}


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, HEADER_TEXT_LIMIT)}}


def context(mrkdwn: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(mrkdwn, CONTEXT_TEXT_LIMIT)}]}


def link_button(label: str, url: str, action_id: str) -> Block | None:
    target = safe_url(url)
    if target is None:
        return None
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(label, BUTTON_TEXT_LIMIT)},
        "url": target,
        "action_id": action_id,
    }


def action_button(label: str, action_id: str, value: str) -> Block | None:
    if len(value) > BUTTON_VALUE_LIMIT:
        return None
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(label, BUTTON_TEXT_LIMIT)},
        "action_id": action_id,
        "value": value,
    }


def fallback(text: str) -> str:
    """The plain-text `text` of a message: never empty, never longer than Slack shows usefully."""
    return clip(text.strip(), FALLBACK_TEXT_LIMIT) or "Trends in AI"


# --- Digest -----------------------------------------------------------------------------------


def pick_line(entry: EntryView) -> str:
    authors = f" — {escape(entry.authors_short)}" if entry.authors_short else ""
    return f"{entry.position}. *{link(entry.links.abstract, entry.title)}*{authors}"


def _digest_blocks(builder: BlockBuilder, digest: DigestView) -> None:
    builder.add(header(digest.title))
    if digest.intro.strip():
        builder.text(escape(digest.intro))
    if digest.picks:
        builder.text("\n".join(pick_line(entry) for entry in digest.picks))


def _digest_fallback(digest: DigestView) -> list[str]:
    lines = [digest.title, digest.intro, ""]
    return lines + [f"{e.position}. {e.title} {e.links.abstract}" for e in digest.picks]


def digest_summary(digest: DigestView, *, with_thread_note: bool) -> SlackMessage:
    """Title, intro and the numbered, linked picks: a thread's parent, or the `/trends latest` answer."""
    builder = BlockBuilder()
    _digest_blocks(builder, digest)
    notes = []
    if with_thread_note:
        notes.append("One reply per paper in the thread below. React 👍 or 👎 on a paper to vote.")
    if not digest.is_published:
        notes.append("Draft: not published yet.")
    if notes:
        builder.add(context(" ".join(notes)))
    return SlackMessage(text=fallback("\n".join(_digest_fallback(digest))), blocks=builder.finish())


# --- Approval ---------------------------------------------------------------------------------


def approve_button(month: str, label: str) -> Block:
    """The primary button that publishes `month`, behind a confirmation dialog."""
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(label, BUTTON_TEXT_LIMIT)},
        "action_id": APPROVE_ACTION,
        "value": approve_value(month),
        "style": "primary",
        "confirm": {
            "title": {"type": "plain_text", "text": "Publish the digest?"},
            "text": {"type": "plain_text", "text": f"Post the {month} digest to every subscribed channel."},
            "confirm": {"type": "plain_text", "text": "Publish"},
            "deny": {"type": "plain_text", "text": "Not yet"},
        },
    }


def _with_actions(builder: BlockBuilder, actions: Block | None) -> list[Block]:
    blocks = builder.finish()
    if actions is not None:
        blocks.append(actions)
    return blocks


def _builder_leaving_room_for(actions: Block | None) -> BlockBuilder:
    if actions is None:
        return BlockBuilder()
    return BlockBuilder(max_blocks=MAX_BLOCKS - 1, budget=BLOCKS_CHAR_BUDGET - _size(actions))


def _of_audience(digest: DigestView) -> str:
    """ " of vision" for an audience's digest; nothing for the default audience's (as before)."""
    return "" if digest.audience == "default" else f" of {escape(digest.audience)}"


def approval_request(digest: DigestView) -> SlackMessage:
    """The draft as admins review it: title, intro, numbered picks and "Approve and publish"."""
    actions: Block = {
        "type": "actions",
        "block_id": APPROVAL_BLOCK_ID,
        "elements": [approve_button(approve_value(digest.month, digest.audience), "Approve and publish")],
    }
    builder = _builder_leaving_room_for(actions)
    _digest_blocks(builder, digest)
    builder.add(
        context(
            f"Draft of the {escape(digest.month_label)} digest{_of_audience(digest)}, waiting for approval. "
            "An admin's approval posts it to every channel subscribed to it."
        )
    )
    text = [f"Approval needed: {digest.title}", *_digest_fallback(digest)[1:]]
    return SlackMessage(text=fallback("\n".join(text)), blocks=_with_actions(builder, actions))


def approval_result(
    digest: DigestView | None, outcome_mrkdwn: str, *, retry_month: str | None
) -> SlackMessage:
    """The preview once approved: the digest as published, who approved it and what was delivered;
    a "Retry publishing" button when some channel failed (publishing again resumes)."""
    actions: Block | None = None
    if retry_month is not None:
        button = approve_button(retry_month, "Retry publishing")
        actions = {"type": "actions", "block_id": APPROVAL_BLOCK_ID, "elements": [button]}
    builder = _builder_leaving_room_for(actions)
    if digest is not None:
        _digest_blocks(builder, digest)
    builder.add(context(outcome_mrkdwn))
    lines = _digest_fallback(digest) if digest is not None else []
    return SlackMessage(
        text=fallback("\n".join([outcome_mrkdwn, *lines])), blocks=_with_actions(builder, actions)
    )


def pick_message(entry: EntryView) -> SlackMessage:
    """One threaded reply: the paper, why it matters, its key insights, topic and link buttons."""
    builder = BlockBuilder()
    title = f"*{entry.position}. {link(entry.links.abstract, entry.title)}*"
    builder.text(title + (f"\n{escape(entry.authors_short)}" if entry.authors_short else ""))
    if entry.why.strip():
        builder.text(f"*Why →* {escape(entry.why.strip())}")
    bullets = entry.insight_bullets
    if len(bullets) == 1:
        builder.text(f"*Key insights →* {escape(bullets[0])}")
    elif bullets:
        builder.text("*Key insights →*\n" + "\n".join(f"• {escape(b)}" for b in bullets))
    if entry.topic:
        builder.add(context(f"Topic: {escape(entry.topic)}"))
    buttons = [
        button
        for index, (label, url) in enumerate(entry.links.labelled())
        if (button := link_button(label, url, f"{ACTION_LINK_PREFIX}{entry.position}_{index}")) is not None
    ]
    if buttons:
        builder.add({"type": "actions", "elements": buttons})
    text = f"{entry.position}. {entry.title} — {entry.authors_short}\nWhy → {entry.why}"
    return SlackMessage(text=fallback(text), blocks=builder.finish())


# --- Replies to /trends -----------------------------------------------------------------------


def is_shareable(reply: Reply) -> bool:
    """An answer worth posting for the channel: search hits or a digest (not errors or help)."""
    if reply.kind == "search":
        return reply.search is not None and not reply.search.is_empty
    return reply.kind == "digest" and reply.digest is not None


def share_value(command: Command) -> str | None:
    """What a Share button carries: the command to run again, as JSON (None: not shareable)."""
    match command:
        case Search(query=query, page=page):
            return json.dumps({"k": "s", "q": query, "p": page}, ensure_ascii=False)
        case Issue(month=month, audience=audience) if month != "latest":
            return json.dumps({"k": "i", "m": month, "a": audience}, ensure_ascii=False)
    return None


def parse_share_value(value: str) -> Command | None:
    """The command a Share button carries, or None when the payload is not ours."""
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    if data.get("k") == "s":
        query, page = data.get("q"), data.get("p")
        if isinstance(query, str) and query.strip() and type(page) is int and 1 <= page <= 1000:
            return Search(query, page)
        return None
    month, audience = data.get("m"), data.get("a")
    if data.get("k") == "i" and isinstance(month, str) and month and isinstance(audience, str | None):
        return Issue(month, audience)
    return None


def _share_actions(command: Command | None) -> Block | None:
    value = share_value(command) if command is not None else None
    button = action_button("Share", ACTION_SHARE, value) if value is not None else None
    return None if button is None else {"type": "actions", "elements": [button]}


def shared_note(who: str) -> Block:
    """The line on top of a shared answer: who posted it for the channel (`who` is mrkdwn)."""
    return context(f"Shared by {who}")


def render_reply(
    reply: Reply, *, thread_links: Mapping[str, str] | None = None, shareable: bool = True
) -> SlackMessage:
    """The Block Kit form of any chat reply (its plain `text` is the fallback).

    `thread_links` maps the arXiv ids of search hits to their message in this workspace's digest
    thread; with `shareable` a private search or digest answer gets a Share button."""
    if reply.kind == "help":
        return help_message(reply.text)
    if reply.kind == "search" and reply.search is not None:
        return search_message(reply.search, thread_links=thread_links, shareable=shareable)
    if reply.kind == "digest" and reply.digest is not None:
        message = digest_summary(reply.digest, with_thread_note=False)
        actions = _share_actions(Issue(reply.digest.month, reply.digest.audience)) if shareable else None
        if actions is not None and len(message.blocks) < MAX_BLOCKS:
            return SlackMessage(text=message.text, blocks=[*message.blocks, actions])
        return message
    if reply.kind == "topics":
        return topics_message(reply.topics, reply.text)
    if reply.kind == "issues":
        return issues_message(reply.issues, reply.text)
    if reply.kind == "chart" and reply.trend is not None:
        return trend_message(reply.trend, reply.text)
    if reply.kind == "published" and reply.report is not None:
        return published_message(reply.report)
    return text_message(reply.text)


def text_message(text: str) -> SlackMessage:
    """Core text is already mrkdwn-friendly (`*bold*`, backticks); only escape what could link."""
    builder = BlockBuilder()
    builder.text(escape(text))
    return SlackMessage(text=fallback(text), blocks=builder.finish())


def help_message(text: str) -> SlackMessage:
    builder = BlockBuilder()
    builder.text(escape(text))
    builder.add(context("Anything that is not a sub-command is a search: `/trends diffusion models`."))
    return SlackMessage(text=fallback(text), blocks=builder.finish())


def usage_lines() -> list[str]:
    return [f"`/trends {escape(usage)}` — {escape(what)}" for usage, what, _ in USAGE]


def hit_text(number: int, hit: PaperHit, thread_url: str | None = None) -> str:
    details = " · ".join(part for part in (escape(hit.authors_short), hit.month) if part)
    reason = f"\n_{escape(hit.reason)}_" if hit.reason else ""
    thread = ""
    if thread_url is not None and hit.featured is not None and safe_url(thread_url):
        thread = f"\n{link(thread_url, f'Digest thread ({hit.featured.month})')}"
    return f"{number}. *{link(hit.links.abstract, hit.title)}*\n{details}{reason}{thread}"


def search_message(
    result: SearchResult, *, thread_links: Mapping[str, str] | None = None, shareable: bool = False
) -> SlackMessage:
    builder = BlockBuilder()
    query = clip(result.query, 200)
    if result.is_empty:
        builder.text(escape(result.message or f"Nothing found for “{query}”."))
        if result.suggestions:
            builder.add(context("Try: " + ", ".join(f"`{escape(s)}`" for s in result.suggestions[:5])))
        if result.advice:
            builder.add(context(escape(result.advice)))
        empty = result.message or f"Nothing found for “{query}”."
        return SlackMessage(text=fallback(empty), blocks=builder.finish())
    builder.add(context(f"Results for “{escape(query)}” — page {result.page}"))
    first = (result.page - 1) * result.page_size
    links = thread_links or {}
    for number, hit in enumerate(result.hits[:SEARCH_HITS_SHOWN], start=first + 1):
        builder.text(hit_text(number, hit, links.get(hit.arxiv_id)))
    for note in result.notes[:3]:
        builder.add(context(escape(note)))
    buttons = []
    if result.has_more:
        more = json.dumps({"q": result.query, "p": result.page + 1}, ensure_ascii=False)
        buttons.append(action_button("More", ACTION_SEARCH_MORE, more))
    buttons.append(action_button("Chart", ACTION_CHART, result.query))
    shared = share_value(Search(result.query, result.page)) if shareable else None
    if shared is not None:
        buttons.append(action_button("Share", ACTION_SHARE, shared))
    elements = [button for button in buttons if button is not None]
    if elements:
        builder.add({"type": "actions", "elements": elements})
    lines = [f"Results for “{query}” (page {result.page}):"]
    lines += [f"{n}. {h.title} {h.links.abstract}" for n, h in enumerate(result.hits, start=first + 1)]
    return SlackMessage(text=fallback("\n".join(lines)), blocks=builder.finish())


def parse_more_value(value: str) -> tuple[str, int] | None:
    """The (query, page) a "More" button carries, or None when the payload is not ours."""
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    query, page = data.get("q"), data.get("p")
    if not isinstance(query, str) or not isinstance(page, int) or isinstance(page, bool):
        return None
    if not query.strip() or not 1 <= page <= 1000:
        return None
    return query, page


def trend_message(trend: TrendView, text: str) -> SlackMessage:
    """The numbers behind a chart (sent when the image could not be uploaded)."""
    builder = BlockBuilder()
    builder.text(escape(text.split("\n", 1)[0]))
    if trend.points:
        rows = "\n".join(f"{p.month}  {p.count:>6}  {p.share:7.2%}" for p in trend.points)
        builder.text(f"```month      papers    share\n{rows}```")
    return SlackMessage(text=fallback(text), blocks=builder.finish())


def topics_message(topics: Sequence[TopicView], text: str) -> SlackMessage:
    if not topics:
        return text_message(text)
    builder = BlockBuilder()
    builder.add(context(f"{len(topics)} topic(s) the ranking follows"))
    for topic in topics:
        state = "" if topic.enabled else " _(disabled)_"
        lines = [f"*{escape(topic.name)}*{state} · weight {topic.weight:g}"]
        if topic.description:
            lines.append(escape(topic.description))
        if topic.include:
            lines.append("include: " + escape(", ".join(topic.include)))
        if topic.exclude:
            lines.append("exclude: " + escape(", ".join(topic.exclude)))
        builder.text("\n".join(lines))
    return SlackMessage(text=fallback(text), blocks=builder.finish("More topics: see `trends topics list`."))


def issues_message(issues: Sequence[IssueSummary], text: str) -> SlackMessage:
    if not issues:
        return text_message(text)
    lines = [
        f"• *{issue.month}* — {escape(issue.title)} ({issue.status}, {issue.picks} picks)" for issue in issues
    ]
    builder = BlockBuilder()
    builder.text("\n".join(lines))
    builder.add(context("Show one with `/trends issue YYYY-MM`."))
    return SlackMessage(text=fallback(text), blocks=builder.finish())


def published_message(report: DeliveryReport) -> SlackMessage:
    return text_message(report.summary())


def blocks_size(blocks: Sequence[Block]) -> int:
    """Serialized size of `blocks` as Slack measures it (used by tests and the limit checks)."""
    return len(json.dumps(list(blocks), ensure_ascii=False))
