"""Discord rendering: digests, picks and chat replies as embeds within Discord's limits.

Discord refuses a whole message when one embed limit is exceeded (title 256, description 4,096,
field value 1,024, 25 fields, 10 embeds and 6,000 characters over all embeds of a message), so every
text here goes through `clip`/`split_text` and the embed packers below. A digest pick is always one
message: a long "Why →" or "Key insights →" is split over several fields (and embeds) of that
message, and clipped only past the 6,000-character message budget, so that exactly-once delivery
(one recorded message id per pick) holds. Lengths are counted in UTF-16 code units, like Discord's
clients, which is never less than Python's code-point count.

Every digest message carries its delivery marker in the first embed's footer ("… · ref <marker>"),
which is how `DiscordPoster.find_posted` recognises it after a crash.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import discord

from bot.archive.views import IssueSummary, PaperHit, SearchResult, ThreadRef, TrendView
from bot.chat.replies import Reply
from bot.digest.views import DigestView, EntryView, TopicView

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELDS_PER_EMBED = 25
FOOTER_LIMIT = 2048
EMBEDS_PER_MESSAGE = 10
MESSAGE_EMBEDS_TOTAL = 6000
CONTENT_LIMIT = 2000
THREAD_NAME_LIMIT = 100
BUTTON_LABEL_LIMIT = 80
BUTTON_URL_LIMIT = 512
CHOICE_NAME_LIMIT = 100
BUTTONS_PER_ROW = 5
WEB_URL = "https://discord.com/channels"
PLATFORM = "discord"

ACCENT = discord.Colour(0x5865F2)
DRAFT_ACCENT = discord.Colour(0xFEE75C)
ERROR_ACCENT = discord.Colour(0xED4245)
MARKER_PREFIX = "ref "
CHART_FILENAME = "trend.png"
ELLIPSIS = "…"
CUT_NOTE_NAME = "…"
CUT_NOTE = "Cut to fit Discord; the full text is on the abstract page."


def size(text: str) -> int:
    """Length as Discord counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` units, ending with an ellipsis when cut."""
    if size(text) <= limit:
        return text
    if limit <= 0:
        return ""
    cut = text[:limit]
    while size(cut) > limit - 1:
        cut = cut[:-1]
    return cut.rstrip() + ELLIPSIS


def split_text(text: str, limit: int) -> list[str]:
    """Split `text` into pieces of at most `limit` units, preferring paragraph, line, sentence and
    word boundaries, so a long paragraph reads naturally across several fields."""
    text = text.strip()
    pieces: list[str] = []
    while size(text) > limit:
        window = text[:limit]
        while size(window) > limit:
            window = window[:-1]
        cut = -1
        for separator in ("\n\n", "\n", ". ", "; ", ", ", " "):
            position = window.rfind(separator)
            if position >= limit // 3:
                cut = position + len(separator.rstrip()) if separator.strip() else position
                break
        if cut <= 0:
            cut = len(window)
        pieces.append(text[:cut].strip())
        text = text[cut:].strip()
    if text:
        pieces.append(text)
    return pieces


def escape(text: str) -> str:
    """User or paper text shown inside Discord markdown (titles can contain `*`, `_`, `[`, `]`)."""
    escaped = discord.utils.escape_markdown(" ".join(text.split()))
    return escaped.replace("[", "\\[").replace("]", "\\]")


def mentions_safe(text: str) -> str:
    """Defence in depth next to AllowedMentions.none(): break @everyone/@here in echoed text."""
    return text.replace("@everyone", "@\u200beveryone").replace("@here", "@\u200bhere")


def is_linkable(url: str | None) -> bool:
    """Discord rejects the whole message for a button URL that is not http(s) or is too long."""
    if not url or size(url) > BUTTON_URL_LIMIT:
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def marker_footer(label: str, marker: str) -> str:
    return clip(f"{label} · {MARKER_PREFIX}{marker}", FOOTER_LIMIT) if label else f"{MARKER_PREFIX}{marker}"


def footer_has_marker(footer: str | None, marker: str) -> bool:
    """True when a footer written by `marker_footer` names exactly this marker (…-1 is not …-10)."""
    return bool(footer) and marker in (footer or "").split()


def message_has_marker(message: discord.Message, marker: str) -> bool:
    return any(footer_has_marker(embed.footer.text, marker) for embed in message.embeds)


def total_size(embeds: Iterable[discord.Embed]) -> int:
    """The characters Discord counts towards the 6,000 per message."""
    total = 0
    for embed in embeds:
        total += size(embed.title or "") + size(embed.description or "")
        total += size(embed.footer.text or "") + size(embed.author.name or "")
        total += sum(size(f.name or "") + size(f.value or "") for f in embed.fields)
    return total


@dataclass
class _Packer:
    """Adds fields to a message's embeds, opening a new embed at 25 fields, within 6,000 in total."""

    embeds: list[discord.Embed]
    colour: discord.Colour
    reserve: int = 0  # kept free for a closing note
    truncated: bool = False

    @property
    def remaining(self) -> int:
        return MESSAGE_EMBEDS_TOTAL - self.reserve - total_size(self.embeds)

    def add(self, name: str, value: str, *, inline: bool = False) -> bool:
        name = clip(name, FIELD_NAME_LIMIT)
        value = clip(value, FIELD_VALUE_LIMIT) or "—"
        budget = self.remaining - size(name)
        if budget < size(value):
            self.truncated = True
            if budget < 40:  # not enough room for a useful piece
                return False
            value = clip(value, budget)
        if len(self.embeds[-1].fields) >= FIELDS_PER_EMBED:
            if len(self.embeds) >= EMBEDS_PER_MESSAGE:
                self.truncated = True
                return False
            self.embeds.append(discord.Embed(colour=self.colour))
        self.embeds[-1].add_field(name=name, value=value, inline=inline)
        return True

    def add_long(self, name: str, text: str) -> bool:
        """A long text as consecutive fields: "Why →", "Why → (2/3)", …"""
        pieces = split_text(text, FIELD_VALUE_LIMIT) or ["—"]
        for number, piece in enumerate(pieces, start=1):
            label = name if number == 1 else f"{name} ({number}/{len(pieces)})"
            if not self.add(label, piece):
                return False
        return True


# ---------------------------------------------------------------------- digests


def thread_name(digest: DigestView) -> str:
    return clip(" ".join(digest.title.split()) or f"Trends in AI — {digest.month_label}", THREAD_NAME_LIMIT)


def _pick_line(entry: EntryView) -> str:
    topic = f" — {escape(entry.topic)}" if entry.topic else ""
    title = escape(clip(entry.title, 300))
    if is_linkable(entry.links.abstract):
        return f"**{entry.position}.** [{title}]({entry.links.abstract}){topic}"
    return f"**{entry.position}.** {title}{topic}"


def _pack_lines(
    head: str, lines: Sequence[str], *, title: str, colour: discord.Colour, footer: str | None, budget: int
) -> list[discord.Embed]:
    """Title + description (intro, then one line per item) over as many embeds as the limits need."""
    first = discord.Embed(title=clip(title, TITLE_LIMIT), colour=colour)
    if footer:
        first.set_footer(text=footer)
    embeds = [first]
    used = total_size(embeds)
    description = clip(head, DESCRIPTION_LIMIT)
    used += size(description)
    for index, line in enumerate(lines):
        line = clip(line, DESCRIPTION_LIMIT)
        addition = ("\n" if description else "") + line
        left = len(lines) - index
        reserve = size(f"\n…and {left} more") + 2
        if used + size(addition) + reserve > budget:
            description += f"\n…and {left} more"
            break
        if size(description) + size(addition) > DESCRIPTION_LIMIT:
            embeds[-1].description = description
            if len(embeds) >= EMBEDS_PER_MESSAGE:
                description = ""
                break
            embeds.append(discord.Embed(colour=colour))
            description = line
        else:
            description += addition
        used += size(addition)
    embeds[-1].description = description or None
    return embeds


def parent_embeds(digest: DigestView, marker: str | None = None) -> list[discord.Embed]:
    """The digest's parent message: title, intro and the numbered picks, marker in the footer."""
    colour = ACCENT if digest.is_published else DRAFT_ACCENT
    head = digest.intro.strip()
    if not digest.is_published:
        head = "*Draft — not published yet.*\n" + head
    if digest.picks:
        head += "\n"
    footer_label = f"Trends in AI · {digest.month_label}"
    footer = marker_footer(footer_label, marker) if marker else footer_label
    return _pack_lines(
        head,
        [_pick_line(entry) for entry in digest.picks],
        title=digest.title,
        colour=colour,
        footer=footer,
        budget=MESSAGE_EMBEDS_TOTAL,
    )


def entry_embeds(
    entry: EntryView, marker: str | None = None, *, month_label: str = ""
) -> list[discord.Embed]:
    """One pick as the embeds of a single message (title linked to the abstract, authors, why,
    key insights, topic; marker in the footer)."""
    url = entry.links.abstract if is_linkable(entry.links.abstract) else None
    first = discord.Embed(
        title=clip(f"{entry.position}. {' '.join(entry.title.split())}", TITLE_LIMIT),
        url=url,
        colour=ACCENT,
        description=clip(escape(entry.authors_short) if entry.authors else "", DESCRIPTION_LIMIT) or None,
    )
    label = f"Pick {entry.position}" + (f" · {month_label}" if month_label else "")
    first.set_footer(text=marker_footer(label, marker) if marker else label)
    packer = _Packer([first], ACCENT, reserve=size(CUT_NOTE_NAME + CUT_NOTE))
    if entry.topic:
        packer.add("Topic", escape(entry.topic), inline=True)
    if entry.arxiv_id:
        packer.add("arXiv", entry.arxiv_id, inline=True)
    if entry.why.strip():
        packer.add_long("Why →", entry.why)
    bullets = entry.insight_bullets
    if len(bullets) == 1:
        packer.add_long("Key insights →", bullets[0])
    elif bullets:
        packer.add_long("Key insights →", "\n".join(f"• {escape(b)}" for b in bullets))
    if packer.truncated:
        packer.reserve = 0
        packer.add(CUT_NOTE_NAME, CUT_NOTE)
    return packer.embeds


def link_buttons(entry: EntryView) -> discord.ui.View | None:
    """Abstract / PDF / Code / Project page as link buttons (no interaction: nothing to store)."""
    view = discord.ui.View(timeout=None)
    for label, url in entry.links.labelled():
        if is_linkable(url) and len(view.children) < BUTTONS_PER_ROW:
            view.add_item(discord.ui.Button(style=discord.ButtonStyle.link, label=label, url=url))
    return view if view.children else None


# ---------------------------------------------------------------------- chat replies


@dataclass
class Rendered:
    """What to send for a `Reply`: plain content, embeds and an optional file."""

    content: str | None = None
    embeds: list[discord.Embed] | None = None
    file: discord.File | None = None


def message_link(ref: ThreadRef) -> str:
    """A Discord link to where a digest featured a paper: the paper's own message in the digest
    thread when it was recorded, else the thread (a forum post is a thread too), else the parent."""
    if ref.paper_message_id:
        return f"{WEB_URL}/{ref.workspace_id}/{ref.thread_id or ref.channel_id}/{ref.paper_message_id}"
    if ref.thread_id:
        return f"{WEB_URL}/{ref.workspace_id}/{ref.thread_id}"
    return f"{WEB_URL}/{ref.workspace_id}/{ref.channel_id}/{ref.message_id}"


def thread_link(hit: PaperHit, guild_id: str | None) -> str | None:
    """The digest thread that featured `hit` in this very server; None elsewhere (a link to another
    server, or to Slack, would not open for the reader)."""
    if guild_id is None or hit.featured is None:
        return None
    ref = hit.featured.thread_for(PLATFORM, guild_id)
    return None if ref is None else message_link(ref)


def _hit_field(number: int, hit: PaperHit, guild_id: str | None = None) -> tuple[str, str]:
    links = [f"[Abstract]({hit.links.abstract})"] if is_linkable(hit.links.abstract) else []
    links += [f"[PDF]({hit.links.pdf})"] if is_linkable(hit.links.pdf) else []
    links += [f"[Code]({hit.links.code})"] if is_linkable(hit.links.code) else []
    thread = thread_link(hit, guild_id)
    if thread is not None and hit.featured is not None:
        links.append(f"[Digest thread ({hit.featured.month})]({thread})")
    lines = [f"{escape(hit.authors_short)} · {hit.month}" if hit.authors_short else hit.month]
    if hit.reason:
        lines.append(escape(hit.reason))
    if links:
        lines.append(" · ".join(links))
    return clip(f"{number}. {' '.join(hit.title.split())}", FIELD_NAME_LIMIT), "\n".join(lines)


def search_embeds(result: SearchResult, guild_id: str | None = None) -> list[discord.Embed]:
    """The hits as fields; `guild_id` (the reader's server) adds links to its digest threads."""
    title = clip(f"Results for “{' '.join(result.query.split())}”", TITLE_LIMIT)
    notes = [escape(note) for note in (*result.notes, result.message) if note]
    if result.suggestions:
        notes.append("Try: " + ", ".join(f"`{clip(s, 80).replace('`', '')}`" for s in result.suggestions))
    if result.advice:
        notes.append(escape(result.advice))
    if result.has_more:
        notes.append(f"More results: `/trends search` with `page:{result.page + 1}`.")
    first = discord.Embed(
        title=title,
        colour=ACCENT,
        description=clip(mentions_safe("\n".join(notes)), DESCRIPTION_LIMIT) or None,
    )
    packer = _Packer([first], ACCENT)
    start = (result.page - 1) * result.page_size
    for number, hit in enumerate(result.hits, start=start + 1):
        name, value = _hit_field(number, hit, guild_id)
        if not packer.add(name, value):
            break
    return packer.embeds


def topics_embeds(topics: Sequence[TopicView]) -> list[discord.Embed]:
    packer = _Packer([discord.Embed(title="Topics", colour=ACCENT)], ACCENT)
    for topic in topics:
        state = "" if topic.enabled else " (disabled)"
        details = [f"weight {topic.weight:g}"]
        if topic.include:
            details.append("include: " + ", ".join(escape(p) for p in topic.include))
        if topic.exclude:
            details.append("exclude: " + ", ".join(escape(p) for p in topic.exclude))
        if topic.description:
            details.append(escape(topic.description))
        if not packer.add(f"{topic.name}{state}", "\n".join(details)):
            break
    return packer.embeds


def issues_embeds(issues: Sequence[IssueSummary]) -> list[discord.Embed]:
    lines = [
        f"**{issue.month}** — {escape(issue.title)} · {issue.picks} picks"
        + (" (draft)" if issue.status != "published" else "")
        for issue in issues
    ]
    return _pack_lines(
        "", lines, title="Past digests", colour=ACCENT, footer=None, budget=MESSAGE_EMBEDS_TOTAL
    )


def chart_embed(trend: TrendView, text: str) -> discord.Embed:
    embed = discord.Embed(
        title=clip(f"Trend: “{' '.join(trend.query.split())}”", TITLE_LIMIT),
        colour=ACCENT,
        description=clip(mentions_safe(text), DESCRIPTION_LIMIT),
    )
    embed.set_image(url=f"attachment://{CHART_FILENAME}")
    return embed


def help_embed(lines: Sequence[tuple[str, str]], *, is_admin: bool) -> discord.Embed:
    embed = discord.Embed(
        title="/trends — the monthly Trends in AI digest",
        colour=ACCENT,
        description="Search past digests and the paper archive, or read a month's digest.",
    )
    packer = _Packer([embed], ACCENT)
    for usage, what in lines:
        packer.add(usage, what)
    if not is_admin:
        embed.set_footer(text="Server managers also get /trends-admin: topics, subscriptions and publishing.")
    return embed


def text_reply(text: str, *, error: bool = False) -> Rendered:
    """Plain text: as message content when it fits, else as an embed description."""
    text = mentions_safe(text.strip() or "Done.")
    if size(text) <= CONTENT_LIMIT:
        return Rendered(content=text)
    colour = ERROR_ACCENT if error else ACCENT
    return Rendered(embeds=[discord.Embed(colour=colour, description=clip(text, DESCRIPTION_LIMIT))])


def is_shareable(reply: Reply) -> bool:
    """An answer worth posting for the channel: search hits, a chart, a digest (not errors or help)."""
    if reply.kind == "search":
        return reply.search is not None and not reply.search.is_empty
    if reply.kind == "chart":
        return reply.trend is not None and bool(reply.chart_png)
    return reply.kind == "digest" and reply.digest is not None


def render_reply(reply: Reply, guild_id: str | None = None) -> Rendered:
    """A core `Reply` as a Discord message (the typed payload when there is one, else its text).
    `guild_id` is the reader's server, for links to digest threads posted there."""
    if reply.kind == "search" and reply.search is not None and not reply.search.is_empty:
        return Rendered(embeds=search_embeds(reply.search, guild_id))
    if reply.kind == "digest" and reply.digest is not None:
        return Rendered(embeds=parent_embeds(reply.digest))
    if reply.kind == "topics" and reply.topics:
        return Rendered(embeds=topics_embeds(reply.topics))
    if reply.kind == "issues" and reply.issues:
        return Rendered(embeds=issues_embeds(reply.issues))
    if reply.kind == "chart" and reply.trend is not None and reply.chart_png:
        file = discord.File(io.BytesIO(reply.chart_png), filename=CHART_FILENAME)
        return Rendered(embeds=[chart_embed(reply.trend, reply.text)], file=file)
    return text_reply(reply.text, error=reply.kind == "error")
