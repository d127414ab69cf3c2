"""The browsable archive: an audience's published digests and an index as static HTML (`trends site`).

The output is plain files any web server or GitHub Pages can host: `index.html` (the months, the
topics with a trend chart each, a search box), `issues/YYYY-MM.html` (one digest), `search.json` (the
featured papers, for the search box), `search.js`, `style.css` and `charts/*.png`. Pages work without
JavaScript except the search; every text is escaped, only http(s) links are kept, images have alt
text, and the layout is one readable column on a phone.

A site is one audience's (`default` unless named): its digests, its picks in the search index, a chart
per topic its digests covered, drawn with that audience's definition of the topic. Audiences are
teams sharing a deployment, so nothing of another audience's digests may reach a team's site; stale
month pages and charts left in `out` by an earlier run (perhaps of another audience) are removed.
The charts themselves count every paper of the archive (public arXiv metadata) matching the topic's
phrases, featured or not, over the 12 months ending at the newest harvested month.

`build_all_sites` writes one such site per audience with published digests into `out/<audience>/`,
each self-contained (no link leaves its directory, so each can be hosted for its team alone), and an
`out/index.html` listing every audience.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.archive.query import parse_query
from bot.archive.service import ArchiveService
from bot.archive.trend import render_trend_png, trend_view
from bot.archive.views import TrendView
from bot.audiences import DEFAULT_AUDIENCE, audience_id
from bot.db.models import Audience, Topic
from bot.db.uow import UnitOfWork
from bot.digest.views import DigestView, EntryView
from bot.errors import ValidationError
from bot.months import Month

SITE_TITLE = "Trends in AI — archive"
CHART_MONTHS = 12
_SLUG = re.compile(r"[^a-z0-9]+")
# An audience's directory under `build_all_sites`: the names `bot.audiences` allows, nothing else.
_AUDIENCE_DIR = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_MONTH_PAGE = re.compile(r"\d{4}-\d{2}\.html")

STYLE = """
:root { color-scheme: light; --ink: #1b1b1b; --muted: #4a4a4a; --accent: #0b5394; --rule: #d0d0d0; }
* { box-sizing: border-box; }
body { margin: 0; font: 1.05rem/1.6 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #fff; }
main, header, footer { max-width: 46rem; margin: 0 auto; padding: 0 1rem; }
header { border-bottom: 1px solid var(--rule); padding-top: 1rem; }
a { color: var(--accent); }
a:focus, input:focus { outline: 3px solid #f4b400; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; }
.meta, .topic { color: var(--muted); font-size: .95rem; }
article { border-bottom: 1px solid var(--rule); padding: .5rem 0 1rem; }
h1 { font-size: 1.7rem; line-height: 1.25; }
h2 { font-size: 1.25rem; line-height: 1.3; }
img { max-width: 100%; height: auto; }
label { display: block; font-weight: 600; }
input[type=search] { width: 100%; font-size: 1.05rem; padding: .5rem; border: 1px solid var(--muted); }
.links a { margin-right: .75rem; }
"""

SEARCH_JS = """
"use strict";
(function () {
  const input = document.getElementById("search");
  const list = document.getElementById("results");
  const status = document.getElementById("search-status");
  let papers = [];
  fetch("search.json").then((r) => r.json()).then((data) => { papers = data; });
  function render(query) {
    list.replaceChildren();
    const words = query.toLowerCase().split(/\\s+/).filter(Boolean);
    if (!words.length) { status.textContent = ""; return; }
    const found = papers.filter((p) => words.every((w) => p.text.includes(w))).slice(0, 20);
    status.textContent = found.length + (found.length === 1 ? " paper" : " papers") + " found";
    for (const p of found) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = p.url;
      link.textContent = p.title;
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = " — " + p.month_label + (p.topic ? " · " + p.topic : "");
      item.append(link, meta);
      list.append(item);
    }
  }
  input.addEventListener("input", () => render(input.value));
})();
"""


@dataclass(frozen=True, slots=True)
class SiteReport:
    """What one audience's site holds."""

    audience: str
    issues: int
    papers: int
    charts: int
    out: Path


@dataclass(frozen=True, slots=True)
class SitesReport:
    """`build_all_sites`: the sites written, and the audiences listed without one."""

    sites: tuple[SiteReport, ...]
    without_digests: tuple[str, ...]
    out: Path


def _e(text: str) -> str:
    return html.escape(" ".join(text.split()), quote=True)


def _url(url: str | None) -> str | None:
    return url if url and url.startswith(("https://", "http://")) and len(url) < 2000 else None


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-") or "topic"


def site_title(audience: str) -> str:
    """The heading of an audience's site: `default`'s is the plain title, as before audiences."""
    return SITE_TITLE if audience == DEFAULT_AUDIENCE else f"{SITE_TITLE} · {audience}"


def _page(title: str, body: str, *, root: str = "", home: str = SITE_TITLE) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{root}style.css">
</head>
<body>
<a class="skip" href="#content">Skip to content</a>
<header><p><a href="{root}index.html">{_e(home)}</a></p></header>
<main id="content">
{body}
</main>
<footer><p class="meta">Generated by ai-trends-bot.</p></footer>
</body>
</html>
"""


def _entry_html(entry: EntryView) -> str:
    title = _e(entry.title)
    abstract = _url(entry.links.abstract)
    heading = f'<a href="{_e(abstract)}">{title}</a>' if abstract else title
    links = " ".join(
        f'<a href="{_e(url)}">{_e(label)}</a>'
        for label, raw in entry.links.labelled()
        if (url := _url(raw)) is not None
    )
    parts = [f'<article id="pick-{entry.position}">', f"<h2>{entry.position}. {heading}</h2>"]
    if links:
        parts.append(f'<p class="links">{links}</p>')
    if entry.authors:
        parts.append(f'<p class="meta">{_e(entry.authors_short)}</p>')
    if entry.why:
        parts.append(f"<p><strong>Why →</strong> {_e(entry.why)}</p>")
    bullets = entry.insight_bullets
    if bullets:
        items = "".join(f"<li>{_e(b)}</li>" for b in bullets)
        parts.append(f"<p><strong>Key insights →</strong></p><ul>{items}</ul>")
    if entry.topic:
        parts.append(f'<p class="topic">Topic: {_e(entry.topic)}</p>')
    parts.append("</article>")
    return "\n".join(parts)


def issue_html(digest: DigestView, *, home: str = SITE_TITLE) -> str:
    """One digest as a page of its own."""
    body = [f"<h1>{_e(digest.title)}</h1>"]
    if digest.intro:
        body.append(f"<p>{_e(digest.intro)}</p>")
    body += [_entry_html(e) for e in digest.picks]
    if digest.others:
        items = "".join(
            f'<li><a href="{_e(url)}">{_e(e.title)}</a></li>'
            if (url := _url(e.links.abstract))
            else f"<li>{_e(e.title)}</li>"
            for e in digest.others
        )
        body.append(f"<h2>Other papers you might like</h2><ul>{items}</ul>")
    return _page(digest.title, "\n".join(body), root="../", home=home)


def _search_items(digests: Iterable[DigestView]) -> list[dict[str, str]]:
    items = []
    for digest in digests:
        for entry in digest.picks:
            text = " ".join([entry.title, entry.authors_short, entry.topic or "", entry.why]).lower()
            items.append(
                {
                    "title": " ".join(entry.title.split()),
                    "month": digest.month,
                    "month_label": digest.month_label,
                    "topic": entry.topic or "",
                    "url": f"issues/{digest.month}.html#pick-{entry.position}",
                    "text": " ".join(text.split()),
                }
            )
    return items


@dataclass(frozen=True, slots=True)
class Chart:
    """One topic's trend chart on the index: its image file and the numbers it draws."""

    topic: str
    path: str  # relative to the site's directory
    view: TrendView

    @property
    def alt(self) -> str:
        papers = sum(point.count for point in self.view.points)
        span = f"{Month.parse(self.view.first_month).label} to {Month.parse(self.view.last_month).label}"
        return (
            f"Papers per month on {self.topic} over {len(self.view.points)} months ({span}): {papers} "
            "papers in all, and their share of all papers"
        )


def index_html(digests: list[DigestView], charts: list[Chart], *, title: str = SITE_TITLE) -> str:
    """The months, the topics with their charts, and the search box."""
    body = [
        f"<h1>{_e(title)}</h1>",
        '<section aria-labelledby="search-heading"><h2 id="search-heading">Search featured papers</h2>',
        '<label for="search">Words in a title, author, topic or Why</label>',
        '<input id="search" type="search" autocomplete="off">',
        '<p id="search-status" class="meta" role="status"></p><ul id="results"></ul></section>',
        '<section aria-labelledby="issues-heading"><h2 id="issues-heading">Issues</h2>',
    ]
    if digests:
        items = "".join(
            f'<li><a href="issues/{d.month}.html">{_e(d.title)}</a> '
            f'<span class="meta">{len(d.picks)} picks</span></li>'
            for d in digests
        )
        body.append(f"<ul>{items}</ul>")
    else:
        body.append("<p>No digest has been published yet.</p>")
    body.append("</section>")
    if charts:
        body.append('<section aria-labelledby="topics-heading"><h2 id="topics-heading">Topics</h2>')
        body.append(
            '<p class="meta">Each chart counts every paper in the archive that matches the topic, '
            "featured or not.</p>"
        )
        for chart in charts:
            image = f'<img src="{_e(chart.path)}" alt="{_e(chart.alt)}" width="800" height="400">'
            body.append(f"<h3>{_e(chart.topic)}</h3>{image}")
        body.append("</section>")
    body.append('<script src="search.js" defer></script>')
    return _page(title, "\n".join(body), home=title)


def _digests(count: int) -> str:
    return f"{count} digest" if count == 1 else f"{count} digests"


def audiences_index_html(sites: Sequence[SiteReport], without_digests: Sequence[str]) -> str:
    """`build_all_sites`' top page: a link to each audience's site, and the audiences without one."""
    listed = sorted(
        [(site.audience, site) for site in sites] + [(name, None) for name in without_digests],
        key=lambda pair: pair[0],
    )
    items = "".join(
        f'<li><a href="{_e(name)}/index.html">{_e(name)}</a> '
        f'<span class="meta">{_digests(site.issues)} published</span></li>'
        if site is not None
        else f'<li>{_e(name)} <span class="meta">no digest published yet</span></li>'
        for name, site in listed
    )
    body = [
        f"<h1>{_e(SITE_TITLE)}</h1>",
        '<section aria-labelledby="audiences-heading"><h2 id="audiences-heading">Audiences</h2>',
        "<p>Each team's digests, search and topic charts, on a site of its own.</p>",
        f"<ul>{items}</ul>" if items else "<p>There is no audience yet.</p>",
        "</section>",
    ]
    return _page(SITE_TITLE, "\n".join(body))


def _audience_topics(session: Session, audience: int) -> dict[str, list[str]]:
    """The audience's own topic definitions (disabled ones too: a past digest may have covered
    them). Another audience's topic of the same name may mean other phrases."""
    rows = session.execute(select(Topic.name, Topic.include_phrases).where(Topic.audience_id == audience))
    return {name: list(phrases or []) for name, phrases in rows}


def _charts(
    session_factory: sessionmaker[Session], audience: str, topics: Sequence[str], charts_dir: Path
) -> list[Chart]:
    """A trend chart per topic, as the audience defines it, over the whole paper archive."""
    charts: list[Chart] = []
    used: set[str] = set()
    with UnitOfWork(session_factory) as uow:
        known: Mapping[str, Sequence[str]] = _audience_topics(uow.session, audience_id(uow.session, audience))
        for topic in topics:
            name = topic.replace('"', " ")
            view = trend_view(uow.session, parse_query(f'topic:"{name}"', known), months=CHART_MONTHS)
            file_name = base = slug(topic)
            number = 1
            while file_name in used:  # "A.I." and "A I" share a slug
                number += 1
                file_name = f"{base}-{number}"
            used.add(file_name)
            (charts_dir / f"{file_name}.png").write_bytes(render_trend_png(view))
            charts.append(Chart(topic=topic, path=f"charts/{file_name}.png", view=view))
    return charts


def _remove_stale(directory: Path, keep: set[str], pattern: re.Pattern[str]) -> None:
    """Delete our files (named like `pattern`) that this build did not write: a month page or chart
    left by an earlier build, perhaps of another audience, must not stay reachable."""
    for path in directory.iterdir():
        if path.is_file() and pattern.fullmatch(path.name) and path.name not in keep:
            path.unlink()


def build_site(
    session_factory: sessionmaker[Session], out: Path, *, audience: str | None = None
) -> SiteReport:
    """Write the site of an audience's published digests (None: `default`) into `out` (created;
    our files in it are replaced). An unknown audience raises NotFoundError, naming the audiences,
    before anything is written."""
    archive = ArchiveService(session_factory)
    name = (DEFAULT_AUDIENCE if audience is None else audience).strip().casefold()
    summaries = archive.list_issues(published_only=True, audience=name)  # NotFoundError first
    digests = [archive.issue(s.month, published_only=True, audience=name).digest for s in summaries]
    for digest in digests:
        Month.parse(digest.month)  # a month is a file name: never anything else
    title = site_title(name)
    out.mkdir(parents=True, exist_ok=True)
    (out / "issues").mkdir(exist_ok=True)
    (out / "charts").mkdir(exist_ok=True)
    for digest in digests:
        page = issue_html(digest, home=title)
        (out / "issues" / f"{digest.month}.html").write_text(page, encoding="utf-8")
    _remove_stale(out / "issues", {f"{d.month}.html" for d in digests}, _MONTH_PAGE)
    topics = list(dict.fromkeys(t for d in digests for t in d.topics_covered))
    charts = _charts(session_factory, name, topics, out / "charts")
    _remove_stale(out / "charts", {Path(c.path).name for c in charts}, re.compile(r"[a-z0-9-]+\.png"))
    items = _search_items(digests)
    (out / "search.json").write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    (out / "search.js").write_text(SEARCH_JS.lstrip(), encoding="utf-8")
    (out / "style.css").write_text(STYLE.lstrip(), encoding="utf-8")
    (out / "index.html").write_text(index_html(digests, charts, title=title), encoding="utf-8")
    return SiteReport(audience=name, issues=len(digests), papers=len(items), charts=len(charts), out=out)


def build_all_sites(session_factory: sessionmaker[Session], out: Path) -> SitesReport:
    """Write `out/<audience>/` for every audience with a published digest, and `out/index.html`
    listing every audience (those without a published digest as such, with no directory)."""
    with UnitOfWork(session_factory) as uow:
        names = list(uow.session.scalars(select(Audience.name).order_by(Audience.name)))
    for name in names:  # each is a directory name: checked before anything is written
        if not _AUDIENCE_DIR.fullmatch(name):  # the audience rules (bot.audiences) allow no other
            raise ValidationError(f"“{name[:40]}” can't be a directory name; rename the audience.")
    archive = ArchiveService(session_factory)
    sites: list[SiteReport] = []
    without: list[str] = []
    for name in names:
        if archive.list_issues(published_only=True, audience=name):
            sites.append(build_site(session_factory, out / name, audience=name))
        else:
            without.append(name)
    out.mkdir(parents=True, exist_ok=True)
    (out / "style.css").write_text(STYLE.lstrip(), encoding="utf-8")
    (out / "index.html").write_text(audiences_index_html(sites, without), encoding="utf-8")
    return SitesReport(sites=tuple(sites), without_digests=tuple(without), out=out)
