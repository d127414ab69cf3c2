"""Code and project-page links found in a paper's comment and abstract.

Authors announce code as "Code: https://github.com/org/repo." or in the abstract as
"github.com/org/repo", often through LaTeX (`\\url{…}`, `my\\_repo`). This module finds such URLs,
strips the punctuation that ends the sentence around them, and sorts them into
- code: repositories on github.com, gitlab.com, bitbucket.org and huggingface.co (models, spaces,
  datasets), with an owner and a name;
- project pages: `*.github.io` sites, URLs introduced by "project page:" and the like, and any other
  web URL that is not arXiv, a DOI, a licence or a bare code-host page.
Only the first of each kind is stored, so the order of preference matters: source repositories before
Hugging Face models/spaces before datasets; cued project pages and github.io sites before other URLs;
then the comment before the abstract, and the order the author wrote them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 500  # the width of papers.code_url / project_url

# URLs never contain whitespace, and a URL names a host we can spot cheaply ("http", "github", …).
# So the text is searched for those hints, and only the run of non-space characters around each hint is
# examined (one big pattern over every abstract is slow, and unbounded runs invite backtracking).
_HINTS = ("http", "www.", "github", "gitlab.com", "bitbucket.org", "huggingface.co")
_HINT = re.compile("|".join(re.escape(hint) for hint in _HINTS))
_HINT_ANY_CASE = re.compile(_HINT.pattern, re.IGNORECASE)
_RUN_BEFORE = re.compile(r"\S{0,100}\Z")
_RUN_AFTER = re.compile(rf"\S{{0,{MAX_URL_LENGTH + 100}}}")
_URL_START = re.compile(
    r"https?://|www\.|(?:[A-Za-z0-9-]+\.)+github\.io"
    # Code hosts are often written without a scheme.
    r"|(?<![A-Za-z0-9.-])(?:github\.com|gitlab\.com|bitbucket\.org|huggingface\.co)/",
    re.IGNORECASE,
)
# Characters that end a URL written in prose or LaTeX (`\url{…}`, quotes, brackets of markup).
_URL_STOP = re.compile(r"[<>\"'{}|\\^`\[\]]")
_PROJECT_CUE = re.compile(
    r"(?:project|home)\s*(?:page|website|site)|web\s*(?:page|site)|demo(?:\s*page)?|website",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?*'\"`>"
_PAIRS = {")": "(", "]": "["}

_CODE_HOSTS = {"github.com", "gitlab.com", "bitbucket.org", "huggingface.co"}
_NOT_PROJECT_HOSTS = (
    "arxiv.org",
    "doi.org",
    "creativecommons.org",
    "orcid.org",
    "openreview.net",
    "aclanthology.org",
    "ieeexplore.ieee.org",
    "dl.acm.org",
    "proceedings.mlr.press",
    "neurips.cc",
    "papers.nips.cc",
    "springer.com",
    "sciencedirect.com",
    "twitter.com",
    "x.com",
)
# Path prefixes on the code hosts that are not repositories.
_GITHUB_NON_REPOS = {"orgs", "topics", "features", "about", "sponsors", "marketplace", "settings", "login"}
_HF_KINDS = {"spaces", "datasets"}
_HF_NON_REPOS = {"docs", "blog", "papers", "models", "collections", "login", "join", "pricing", "learn"}


@dataclass(frozen=True, slots=True)
class PaperLinks:
    code_urls: tuple[str, ...] = ()
    project_urls: tuple[str, ...] = ()

    @property
    def code_url(self) -> str | None:
        return self.code_urls[0] if self.code_urls else None

    @property
    def project_url(self) -> str | None:
        return self.project_urls[0] if self.project_urls else None


def _clean_latex(text: str) -> str:
    # `\_` and `\~` are how LaTeX writes _ and ~ inside URLs; `\url{…}` braces end at the brace.
    if "\\" not in text:  # most text has no LaTeX escapes: skip four scans
        return text
    return text.replace("\\_", "_").replace("\\~", "~").replace("\\%", "%").replace("\\#", "#")


def _strip_trailing(url: str) -> str:
    """Drop sentence punctuation after a URL, and closing brackets that were not opened inside it."""
    while url:
        last = url[-1]
        unopened = last in _PAIRS and url.count(last) > url.count(_PAIRS[last])
        if last in _TRAILING or unopened:
            url = url[:-1]
        else:
            break
    return url


def _normalise(url: str) -> str:
    if not re.match(r"https?://", url, re.IGNORECASE):
        url = "https://" + url
    return url


def _host_and_path(url: str) -> tuple[str, list[str]]:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:  # e.g. an invalid port or IPv6 literal
        return "", []
    host = host.removeprefix("www.")
    segments = [s for s in parts.path.split("/") if s]
    return host, segments


def _is_code_repository(host: str, segments: list[str]) -> bool:
    if host not in _CODE_HOSTS:
        return False
    if host == "huggingface.co":
        if segments and segments[0] in _HF_KINDS:
            return len(segments) >= 3
        return len(segments) >= 2 and segments[0] not in _HF_NON_REPOS
    if len(segments) < 2:
        return False
    return not (host == "github.com" and segments[0].lower() in _GITHUB_NON_REPOS)


def _code_rank(host: str, segments: list[str]) -> int:
    """Source repositories before model pages and demos, and those before datasets."""
    if host != "huggingface.co":
        return 0
    return 2 if segments and segments[0] == "datasets" else 1


def _is_project_candidate(host: str) -> bool:
    if not host or "." not in host or host in _CODE_HOSTS:
        return False
    return not any(host == bad or host.endswith("." + bad) for bad in _NOT_PROJECT_HOSTS)


def _urls_in(text: str) -> list[tuple[str, bool]]:
    """(url, introduced-by-a-project-cue) pairs in order of appearance."""
    found: list[tuple[str, bool]] = []
    lowered = text.lower()
    if not any(hint in lowered for hint in _HINTS):  # most abstracts: fast substring checks only
        return found
    # A case-insensitive pattern is several times slower; use the lowered text when offsets agree.
    hints = _HINT.finditer(lowered) if len(lowered) == len(text) else _HINT_ANY_CASE.finditer(text)
    examined_until = 0
    for hint in hints:
        if hint.start() < examined_until:
            continue
        before = _RUN_BEFORE.search(text, max(0, hint.start() - 100), hint.start())
        run_start = before.start() if before else hint.start()
        after = _RUN_AFTER.match(text, hint.start())
        run_end = after.end() if after else hint.end()
        examined_until = run_end
        run, offset = text[run_start:run_end], 0
        while (start := _URL_START.search(run, offset)) is not None:
            stop = _URL_STOP.search(run, start.start())
            end = stop.start() if stop else len(run)
            offset = max(end, start.end())
            url = _strip_trailing(run[start.start() : end])
            if not url or len(url) > MAX_URL_LENGTH or url.lower() in ("www.", "http://", "https://"):
                continue
            at = run_start + start.start()
            preceding = text[max(0, at - 40) : at]
            # A cue counts when it sits right before the URL ("Project page: https://…").
            cue = _PROJECT_CUE.search(preceding)
            cued = cue is not None and not re.search(r"https?://|\.\s", preceding[cue.end() :])
            found.append((_normalise(url), cued))
    return found


def extract_links(comment: str | None, abstract: str | None) -> PaperLinks:
    """Code and project-page URLs, comment first, each list without duplicates."""
    code: list[tuple[int, str]] = []
    cued_projects: list[str] = []
    other_projects: list[str] = []
    for text in (comment, abstract):
        if not text:
            continue
        for url, cued in _urls_in(_clean_latex(text)):
            host, segments = _host_and_path(url)
            if _is_code_repository(host, segments):
                code.append((_code_rank(host, segments), url))
            elif _is_project_candidate(host):
                is_github_io = host.endswith(".github.io")
                (cued_projects if cued or is_github_io else other_projects).append(url)
    projects = cued_projects + other_projects
    code_urls = [url for _, url in sorted(code, key=lambda ranked: ranked[0])]  # stable: keeps text order
    return PaperLinks(tuple(dict.fromkeys(code_urls)), tuple(dict.fromkeys(projects)))
