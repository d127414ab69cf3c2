"""The digest as a document: Markdown that reads like a monthly editorial, and JSON with stable keys.

Chat adapters format the same `DigestView` for their own platforms; these two renderings serve the
CLI (`trends digest --format markdown|json`), files and anything downstream that wants the data.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .views import DigestView, EntryView

JSON_SCHEMA_VERSION = 1
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|])")
# "<" only opens an HTML tag or an autolink before a letter, "/", "!" or "?"; "x < 5" is just text, and
# a reader of the raw Markdown should not see "\<". "#" and ">" only mean something opening a line.
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")
_LINE_START = re.compile(r"^([#>])")


def escape_markdown(text: str) -> str:
    """Text that renders as itself: no accidental emphasis, links, tags or headings from a title."""
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))
    return _LINE_START.sub(r"\\\1", _TAG_OPEN.sub(r"\\<", text))


def _link(label: str, url: str) -> str:
    # Parentheses and spaces would end the link target early.
    safe_url = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"[{escape_markdown(label)}]({safe_url})"


def _pick_markdown(entry: EntryView) -> list[str]:
    lines = [f"## {entry.position}. {_link(entry.title, entry.links.abstract)}", ""]
    lines.append(" · ".join(_link(label, url) for label, url in entry.links.labelled()))
    if entry.authors:
        lines += ["", f"*{escape_markdown(entry.authors_short)}*"]
    if entry.why:
        lines += ["", f"**Why →** {escape_markdown(entry.why)}"]
    bullets = entry.insight_bullets
    if len(bullets) == 1:
        lines += ["", f"**Key insights →** {escape_markdown(bullets[0])}"]
    elif bullets:
        lines += ["", "**Key insights →**", "", *(f"- {escape_markdown(b)}" for b in bullets)]
    if entry.topic:
        lines += ["", f"Topic: {escape_markdown(entry.topic)}"]
    return [*lines, ""]


def _other_markdown(entry: EntryView) -> str:
    line = f"- {_link(entry.title, entry.links.abstract)}"
    if entry.authors:
        line += f" — {escape_markdown(entry.authors_short)}"
    if entry.topic:
        line += f" ({escape_markdown(entry.topic)})"
    return line


def render_markdown(digest: DigestView) -> str:
    lines = [f"# {escape_markdown(digest.title)}", ""]
    if not digest.is_published:
        lines += ["> Draft: not published yet.", ""]
    if digest.intro:
        lines += [escape_markdown(digest.intro), ""]
    for entry in digest.picks:
        lines += _pick_markdown(entry)
    if digest.others:
        lines += ["## Other papers you might like", ""]
        lines += [_other_markdown(e) for e in digest.others]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _entry_json(entry: EntryView) -> dict[str, Any]:
    return {
        "position": entry.position,
        "arxiv_id": entry.arxiv_id,
        "paper_id": entry.paper_id,
        "title": entry.title,
        "authors": list(entry.authors),
        "authors_short": entry.authors_short,
        "links": {
            "abstract": entry.links.abstract,
            "pdf": entry.links.pdf,
            "code": entry.links.code,
            "project": entry.links.project,
        },
        "why": entry.why,
        "insights": entry.insights,
        "insight_bullets": list(entry.insight_bullets),
        "topic": entry.topic,
        "reason": entry.reason,
        "score": round(entry.score, 6),
    }


def digest_to_dict(digest: DigestView) -> dict[str, Any]:
    """Every key always present (null when empty), in a fixed order."""
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "month": digest.month,
        "title": digest.title,
        "intro": digest.intro,
        "status": digest.status,
        "created_at": digest.created_at.isoformat(),
        "published_at": digest.published_at.isoformat() if digest.published_at else None,
        "topics_covered": list(digest.topics_covered),
        "picks": [_entry_json(e) for e in digest.picks],
        "others": [_entry_json(e) for e in digest.others],
    }


def render_json(digest: DigestView) -> str:
    return json.dumps(digest_to_dict(digest), ensure_ascii=False, indent=2) + "\n"
