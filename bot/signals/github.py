"""GitHub REST API: stargazer counts for papers whose code lives in a GitHub repository.

`GET {base}/repos/{owner}/{repo}` answers `stargazers_count`; a missing or private repo answers 404.
`parse_github_repo` turns the URLs found in papers (and on Hugging Face) into `owner/repo`, refusing
anything that is not plainly a repository so that no odd text ends up in a request path.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.signals._shapes import count_value
from bot.signals.http import JsonHttp, MalformedResponse
from bot.signals.types import GITHUB

_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}")
# Paths under github.com that are not user or organisation names.
_RESERVED_OWNERS = frozenset({"orgs", "topics", "features", "marketplace", "sponsors", "settings", "login"})


def parse_github_repo(url: str | None) -> str | None:
    """`owner/repo` for a GitHub repository URL (any sub-page, `.git`, `git@` form), else None."""
    if not url:
        return None
    text = url.strip()[:500]
    if text.startswith("git@github.com:"):
        text = "https://github.com/" + text.removeprefix("git@github.com:")
    elif "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if host not in ("github.com", "www.github.com") or parts.scheme not in ("http", "https"):
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) < 2:
        return None
    owner, repo = segments[0], segments[1].removesuffix(".git")
    if owner.lower() in _RESERVED_OWNERS or repo in (".", ".."):
        return None
    if not (_OWNER.fullmatch(owner) and _REPO.fullmatch(repo)):
        return None
    return f"{owner}/{repo}".lower()  # GitHub names are case-insensitive: one request per repo


class GitHubSource:
    name = GITHUB

    def __init__(self, http: JsonHttp) -> None:
        self.http = http

    def close(self) -> None:
        self.http.close()

    def fetch_stars(self, repo: str) -> float | None:
        """Stars of `owner/repo` (as returned by `parse_github_repo`), or None if GitHub has no such repo."""
        payload = self.http.get(f"repos/{repo}")
        if payload is None:
            return None
        if not isinstance(payload, dict):
            raise MalformedResponse(
                f"unexpected response shape ({type(payload).__name__}, expected an object)"
            )
        stars = count_value(payload, "stargazers_count")
        if stars is None:
            raise MalformedResponse("no stargazers_count in the answer")
        return stars
