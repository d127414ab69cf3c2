"""`trends site`: the published digests as a static site, checked as files and in a real headless browser.

The browser test drives Debian's `chromium` with its `chromedriver` (packages `chromium` and
`chromium-driver`; nothing is downloaded) and skips, saying so, where they are not installed.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.archive.service import ArchiveService
from bot.db.uow import UnitOfWork
from bot.digest.service import DigestService
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
    report = build_site(ArchiveService(session_factory), out)
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
