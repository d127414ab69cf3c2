"""`trends site`: the published digests as a static site, checked as files and in a real headless browser.

The browser test drives Debian's `chromium` with its `chromedriver` (packages `chromium` and
`chromium-driver`; nothing is downloaded) and skips, saying so, where they are not installed.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import io
import json
import re
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.archive.service import ArchiveService
from bot.audiences import AudienceService
from bot.db.uow import UnitOfWork
from bot.digest.service import DigestService
from bot.digest.topics import TopicChanges, TopicDraft, TopicService
from bot.months import Month
from bot.settings import TopicSeed, load_settings
from bot.site import build_site
from tests.factories import make_paper

HOSTILE = '<script>alert("x")</script> Agents & "tools"'


def _papers(session: Session, month: Month, rows: list[tuple[str, str]], prefix: str) -> None:
    for day, (title, abstract) in enumerate(rows, start=1):
        submitted = dt.datetime(month.year, month.month, 1 + day % 28, 12, tzinfo=dt.UTC)
        session.add(make_paper(f"{prefix}.{day:05d}", title, abstract, submitted=submitted))
    session.flush()


def _month_rows(month: Month) -> list[tuple[str, str]]:
    tag = month.label
    return [
        (
            f"Planning tool calls for language agents ({tag}, {i})",
            "Language agents waste tool calls when tool use is unplanned. We propose a planner that orders "
            f"tool calls for agents. It reduces failed tool calls by {10 + i}% on web tasks.",
        )
        for i in range(4)
    ] + [
        (
            f"Message passing for molecule property prediction ({tag}, {i})",
            "Molecular property prediction remains costly for large compounds. We propose a message passing "
            f"network with {3 + i} layers. It improves accuracy by {2 + i}% on molecule benchmarks.",
        )
        for i in range(4)
    ]


@pytest.fixture
def site(db_url: str, session_factory: sessionmaker[Session], tmp_path: Path) -> Path:
    september, october = Month(2026, 9), Month(2026, 10)
    with session_factory() as session:
        _papers(session, september, _month_rows(september), "2609")
        rows = _month_rows(october)
        rows[0] = (HOSTILE, rows[0][1])
        _papers(session, october, rows, "2610")
        session.commit()
    settings = load_settings(
        database_url=db_url,
        topics=[
            TopicSeed(name="Agents", include=["agent", "tool use"]),
            TopicSeed(name="Chemistry", include=["molecule", "molecular"]),
        ],
        digest_size=4,
        other_papers=2,
        max_per_topic=2,
    )
    service = DigestService(lambda: UnitOfWork(session_factory), settings)
    for month in (september, october):
        service.build(month)
        service.mark_published(month)
    out = tmp_path / "site"
    report = build_site(session_factory, out)
    assert (report.issues, report.charts) == (2, 2)
    return out


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("href", "src"):
            if values.get(name):
                self.links.append(str(values[name]))
        if tag == "script" and not values.get("src"):
            self.scripts.append(tag)


def _local_links(page: Path) -> list[str]:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    assert parser.scripts == []  # no inline script: nothing from a paper can run
    return [link for link in parser.links if not link.startswith(("https://", "http://", "data:", "#"))]


def test_site_files_escape_text_and_every_local_link_resolves(site: Path) -> None:
    pages = [site / "index.html", *sorted((site / "issues").glob("*.html"))]
    assert [p.name for p in pages] == ["index.html", "2026-09.html", "2026-10.html"]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert '<html lang="en">' in text
        assert 'name="viewport"' in text
        assert "<script>alert" not in text
        for link in _local_links(page):
            target = (page.parent / link.split("#", 1)[0]).resolve()
            assert target.is_file(), (page.name, link)
    october = (site / "issues" / "2026-10.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Agents &amp; &quot;tools&quot;" in october
    assert "<strong>Key insights →</strong></p><ul><li>" in october
    items = json.loads((site / "search.json").read_text(encoding="utf-8"))
    assert {i["month"] for i in items} == {"2026-09", "2026-10"}
    assert all(i["url"].startswith("issues/2026-") and "#pick-" in i["url"] for i in items)
    index = (site / "index.html").read_text(encoding="utf-8")
    assert 'alt="Papers per month on Agents' in index
    assert (site / "charts" / "agents.png").read_bytes().startswith(b"\x89PNG")


@pytest.fixture
def served(site: Path) -> Iterator[str]:
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip("no chromium/chromedriver (Debian packages chromium and chromium-driver) installed")
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--window-size=390,844",  # a phone
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=driver_path)
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def _errors(driver: Any) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_site_in_a_real_browser(served: str, browser: Any, tmp_path: Path) -> None:
    from PIL import Image
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(served + "index.html")
    assert browser.title == "Trends in AI — archive"
    assert _errors(browser) == []
    # Readable on a phone: nothing wider than the screen.
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")

    # Every local link and image answers.
    for page in ["index.html", "issues/2026-09.html", "issues/2026-10.html"]:
        browser.get(served + page)
        assert _errors(browser) == [], page
        urls = browser.execute_script(
            "return [...document.querySelectorAll('a[href], img[src], link[href], script[src]')]"
            ".map(e => e.href || e.src)"
        )
        for url in urls:
            if url.startswith(served):
                with urllib.request.urlopen(url.split("#", 1)[0], timeout=5) as response:
                    assert response.status == 200, url
            else:
                assert url.startswith(("https://arxiv.org/", "data:")), url
        images = browser.find_elements(By.TAG_NAME, "img")
        assert all(browser.execute_script("return arguments[0].naturalWidth > 0", i) for i in images)

    # The search finds a featured paper and its link opens the pick in its issue.
    browser.get(served + "index.html")
    box = browser.find_element(By.ID, "search")
    WebDriverWait(browser, 5).until(lambda d: d.execute_script("return document.readyState") == "complete")
    box.send_keys("molecule property")
    WebDriverWait(browser, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#results a"))
    results = browser.find_elements(By.CSS_SELECTOR, "#results a")
    assert all("molecule property prediction" in r.text.lower() for r in results)
    assert "found" in browser.find_element(By.ID, "search-status").text
    target = results[0].get_attribute("href")
    results[0].click()
    WebDriverWait(browser, 5).until(lambda d: "/issues/" in d.current_url)
    assert browser.current_url == target
    anchor = target.split("#", 1)[1]
    assert browser.find_element(By.ID, anchor).tag_name == "article"
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Trends in AI")
    assert _errors(browser) == []

    # A screenshot that is not blank.
    browser.get(served + "index.html")
    png = browser.get_screenshot_as_png()
    (tmp_path / "index.png").write_bytes(png)
    image = Image.open(io.BytesIO(png)).convert("L")
    low, high = image.getextrema()
    assert high - low > 100  # text on a background, not one flat colour
    assert len(image.histogram()) - image.histogram().count(0) > 10  # many shades: anti-aliased text


def test_site_command_writes_the_site(
    site: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from adapters.cli import app

    monkeypatch.setenv("TRENDS_DATABASE_URL", db_url)
    out = tmp_path / "from-cli"
    result = CliRunner().invoke(app, ["site", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 2 issues" in result.output
    assert sorted(p.name for p in (out / "issues").iterdir()) == ["2026-09.html", "2026-10.html"]
    assert (out / "index.html").read_text(encoding="utf-8") == (site / "index.html").read_text(
        encoding="utf-8"
    )
    missing = CliRunner().invoke(app, ["site"])
    assert missing.exit_code != 0
    assert "--out" in missing.output


# --- one site per audience ---------------------------------------------------------------------
#
# Two teams on one deployment: `default` (topics Agents = "agent", "tool use", and Chemistry) publishes
# September and October; `vision` (its own Agents = "embodied agent", and Segmentation) publishes
# August and October. Papers are shared (the arXiv archive); digests, picks and topic definitions not.

AUGUST, SEPTEMBER, OCTOBER = Month(2026, 8), Month(2026, 9), Month(2026, 10)
PLANNING, EMBODIED, SEGMENTATION = 4, 3, 3  # papers of each kind per month


def _team_rows(month: Month) -> list[tuple[str, str]]:
    tag = month.label
    return (
        _month_rows(month)
        + [
            (
                f"Embodied agent navigation in simulated homes ({tag}, {i})",
                "An embodied agent must find objects in unseen homes. We propose a map memory for the "
                f"embodied agent. It finds {20 + i}% more objects in simulated homes.",
            )
            for i in range(EMBODIED)
        ]
        + [
            (
                f"Image segmentation with sparse labels ({tag}, {i})",
                "Dense labels make segmentation expensive. We propose segmentation from sparse clicks "
                f"with a mask decoder. It reaches {60 + i}% of the fully supervised score.",
            )
            for i in range(SEGMENTATION)
        ]
    )


@dataclass(frozen=True)
class Teams:
    db_url: str
    session_factory: sessionmaker[Session]


@pytest.fixture
def teams(db_url: str, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> Teams:
    with session_factory() as session:
        for month, prefix in ((AUGUST, "2608"), (SEPTEMBER, "2609"), (OCTOBER, "2610")):
            _papers(session, month, _team_rows(month), prefix)
        session.commit()
    settings = load_settings(
        database_url=db_url,
        topics=[
            TopicSeed(name="Agents", include=["agent", "tool use"]),
            TopicSeed(name="Chemistry", include=["molecule", "molecular"]),
        ],
        digest_size=4,
        other_papers=2,
        max_per_topic=2,
    )

    def uow() -> UnitOfWork:
        return UnitOfWork(session_factory)

    AudienceService(uow, settings).create("vision", actor="test")
    AudienceService(uow, settings).create("nlp", actor="test")  # no digest, ever
    topics = TopicService(uow, settings)
    topics.edit("Agents", TopicChanges(include=["embodied agent"]), actor="test", audience="vision")
    topics.remove("Chemistry", actor="test", audience="vision")
    topics.add(TopicDraft(name="Segmentation", include=["segmentation"]), actor="test", audience="vision")
    digests = DigestService(uow, settings)
    for audience, months in (("default", (SEPTEMBER, OCTOBER)), ("vision", (AUGUST, OCTOBER))):
        for month in months:
            digests.build(month, audience=audience)
            digests.mark_published(month, audience=audience)
    digests.build(AUGUST)  # a draft of default's: never on a site
    monkeypatch.setenv("TRENDS_DATABASE_URL", db_url)
    return Teams(db_url, session_factory)


def _cli(*args: str) -> Any:
    from typer.testing import CliRunner

    from adapters.cli import app

    return CliRunner().invoke(app, ["site", *args])


def _titles(teams: Teams, audience: str) -> tuple[set[str], set[str]]:
    """The paper titles of an audience's published digests: (every entry's, the picks')."""
    archive = ArchiveService(teams.session_factory)
    entries: set[str] = set()
    picks: set[str] = set()
    for summary in archive.list_issues(published_only=True, audience=audience):
        digest = archive.issue(summary.month, published_only=True, audience=audience).digest
        entries |= {e.title for e in (*digest.picks, *digest.others)}
        picks |= {e.title for e in digest.picks}
    return entries, picks


def _site_text(site: Path) -> str:
    """Every text file of a site, unescaped, as one string (to look for titles anywhere in it)."""
    files = sorted(p for p in site.rglob("*") if p.suffix in (".html", ".json", ".js"))
    return "\n".join(html.unescape(p.read_text(encoding="utf-8")) for p in files)


def _assert_self_contained(site: Path) -> None:
    """No inline script, and every local link resolves to a file inside `site`."""
    for page in site.rglob("*.html"):
        for link in _local_links(page):
            target = (page.parent / link.split("#", 1)[0]).resolve()
            assert target.is_file(), (page, link)
            assert target.is_relative_to(site.resolve()), (page, link)


def test_each_audience_site_holds_only_its_own_digests(teams: Teams, tmp_path: Path) -> None:
    sites = {"default": tmp_path / "default", "vision": tmp_path / "vision"}
    for audience, out in sites.items():
        result = _cli("--out", str(out), "--audience", audience)
        assert result.exit_code == 0, result.output
        assert f"of audience {audience}" in result.output
    months = {name: sorted(p.name for p in (out / "issues").iterdir()) for name, out in sites.items()}
    assert months == {
        "default": ["2026-09.html", "2026-10.html"],
        "vision": ["2026-08.html", "2026-10.html"],
    }
    default_entries, default_picks = _titles(teams, "default")
    vision_entries, vision_picks = _titles(teams, "vision")
    assert default_entries - vision_entries  # the teams' digests differ
    assert vision_entries - default_entries
    for name, own, other in (
        ("default", default_entries, vision_entries),
        ("vision", vision_entries, default_entries),
    ):
        text = _site_text(sites[name])
        assert all(" ".join(title.split()) in text for title in own), name
        leaked = {t for t in other - own if " ".join(t.split()) in text}
        assert leaked == set(), (name, leaked)
        _assert_self_contained(sites[name])
    for name, picks in (("default", default_picks), ("vision", vision_picks)):
        items = json.loads((sites[name] / "search.json").read_text(encoding="utf-8"))
        assert {i["title"] for i in items} == {" ".join(t.split()) for t in picks}, name
    assert "Segmentation" in (sites["vision"] / "index.html").read_text(encoding="utf-8")
    assert not (sites["vision"] / "charts" / "chemistry.png").exists()


def test_without_audience_the_site_is_defaults_as_before(teams: Teams, tmp_path: Path) -> None:
    plain, named = tmp_path / "plain", tmp_path / "named"
    assert _cli("--out", str(plain)).exit_code == 0
    assert _cli("--out", str(named), "-a", "default").exit_code == 0
    for page in ("index.html", "issues/2026-09.html", "issues/2026-10.html", "search.json"):
        assert (plain / page).read_bytes() == (named / page).read_bytes(), page
    assert sorted(p.name for p in (plain / "issues").iterdir()) == ["2026-09.html", "2026-10.html"]
    index = (plain / "index.html").read_text(encoding="utf-8")
    assert "<title>Trends in AI — archive</title>" in index
    assert "<h1>Trends in AI — archive</h1>" in index


def _chart_papers(site: Path, topic: str) -> int:
    index = (site / "index.html").read_text(encoding="utf-8")
    found = re.search(rf'alt="Papers per month on {topic} over 12 months \([^)]*\): (\d+) papers', index)
    assert found is not None, index
    return int(found.group(1))


def test_topic_charts_follow_the_audiences_own_topic(teams: Teams, tmp_path: Path) -> None:
    """Both teams have an `Agents` topic; each chart counts the papers of its own team's phrases,
    over the whole archive (August to October here), featured or not."""
    for audience in ("default", "vision"):
        assert _cli("--out", str(tmp_path / audience), "-a", audience).exit_code == 0
    months = 3
    assert _chart_papers(tmp_path / "default", "Agents") == months * (PLANNING + EMBODIED)
    assert _chart_papers(tmp_path / "vision", "Agents") == months * EMBODIED
    assert _chart_papers(tmp_path / "vision", "Segmentation") == months * SEGMENTATION
    default_png = (tmp_path / "default" / "charts" / "agents.png").read_bytes()
    assert default_png != (tmp_path / "vision" / "charts" / "agents.png").read_bytes()


def test_all_audiences_writes_a_site_each_and_an_index(teams: Teams, tmp_path: Path) -> None:
    out = tmp_path / "all"
    result = _cli("--out", str(out), "--all-audiences")
    assert result.exit_code == 0, result.output
    assert "Audience nlp: no digest published yet" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["default", "index.html", "style.css", "vision"]
    for audience in ("default", "vision"):
        alone = tmp_path / f"alone-{audience}"
        assert _cli("--out", str(alone), "-a", audience).exit_code == 0
        for page in sorted(alone.rglob("*")):
            if page.is_file():
                twin = out / audience / page.relative_to(alone)
                assert twin.read_bytes() == page.read_bytes(), twin
        _assert_self_contained(out / audience)
    parser = _Links()
    index = (out / "index.html").read_text(encoding="utf-8")
    parser.feed(index)
    assert [link for link in parser.links if link.endswith("index.html") and "/" in link] == [
        "default/index.html",
        "vision/index.html",
    ]
    assert '<li>nlp <span class="meta">no digest published yet</span></li>' in index
    _assert_self_contained(out)
    assert "--all-audiences" in _cli("--help").output


def test_unknown_audience_is_refused_and_writes_nothing(teams: Teams, tmp_path: Path) -> None:
    out = tmp_path / "nope"
    result = _cli("--out", str(out), "--audience", "nope")
    assert result.exit_code == 1, result.output
    message = " ".join(result.output.split())
    assert "There is no audience “nope”. Audiences: default, nlp, vision." in message
    assert "Traceback" not in result.output
    assert not out.exists()
    both = _cli("--out", str(out), "--audience", "vision", "--all-audiences")
    assert both.exit_code == 2
    assert "not both" in " ".join(both.output.replace("│", " ").split())
    assert not out.exists()


def test_a_site_written_over_another_audiences_keeps_none_of_it(teams: Teams, tmp_path: Path) -> None:
    out = tmp_path / "reused"
    assert _cli("--out", str(out)).exit_code == 0
    assert (out / "issues" / "2026-09.html").exists()
    assert (out / "charts" / "chemistry.png").exists()
    (out / "notes.txt").write_text("the operator's own file", encoding="utf-8")
    assert _cli("--out", str(out), "--audience", "vision").exit_code == 0
    assert sorted(p.name for p in (out / "issues").iterdir()) == ["2026-08.html", "2026-10.html"]
    assert sorted(p.name for p in (out / "charts").iterdir()) == ["agents.png", "segmentation.png"]
    default_only = _titles(teams, "default")[0] - _titles(teams, "vision")[0]
    text = _site_text(out)
    assert not {t for t in default_only if " ".join(t.split()) in text}
    assert (out / "notes.txt").read_text(encoding="utf-8") == "the operator's own file"
