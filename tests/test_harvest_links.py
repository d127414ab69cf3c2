"""Code and project-page links pulled from realistic arXiv comments and abstracts."""

from __future__ import annotations

import pytest

from bot.paper_links import MAX_URL_LENGTH, extract_links


@pytest.mark.parametrize(
    ("comment", "abstract", "code", "project"),
    [
        (
            "Accepted to NeurIPS 2025. Code: https://github.com/mit-han-lab/duo-attention.",
            "We present DuoAttention ...",
            "https://github.com/mit-han-lab/duo-attention",
            None,
        ),
        (
            "Project page: https://vision.cs.example.edu/nerf-w/ ; 18 pages",
            "Code and models are available at github.com/org/my\\_repo (MIT licence).",
            "https://github.com/org/my_repo",
            "https://vision.cs.example.edu/nerf-w/",
        ),
        (
            None,
            "Videos at https://team.github.io/robot-skills, code at \\url{https://gitlab.com/grp/sub/proj}.",
            "https://gitlab.com/grp/sub/proj",
            "https://team.github.io/robot-skills",
        ),
        (
            "Dataset: https://huggingface.co/datasets/org/bench; model weights: "
            "https://huggingface.co/org/model-7B; source: https://bitbucket.org/team/repo!",
            None,
            "https://bitbucket.org/team/repo",
            None,
        ),
        (
            "Demo at https://huggingface.co/spaces/user/app), see also arXiv:2401.00001",
            "Extends https://arxiv.org/abs/2401.00001 (doi: https://doi.org/10.1145/1234.5678).",
            "https://huggingface.co/spaces/user/app",
            None,
        ),
        (
            "See https://en.wikipedia.org/wiki/Transformer_(machine_learning_model).",
            None,
            None,
            "https://en.wikipedia.org/wiki/Transformer_(machine_learning_model)",
        ),
        (
            "See https://en.wikipedia.org/wiki/Attention.",
            "Our homepage: www.example.org/x.",  # a cued page wins over a stray URL
            None,
            "https://www.example.org/x",
        ),
        (
            "https://github.com/ and https://github.com/orgs/foo and https://huggingface.co/docs/x",
            "Licensed CC BY 4.0 https://creativecommons.org/licenses/by/4.0/",
            None,
            None,
        ),
        (None, None, None, None),
        ("", "No links here, only 3.5 and e.g. and i.e.", None, None),
    ],
)
def test_realistic_links(
    comment: str | None, abstract: str | None, code: str | None, project: str | None
) -> None:
    links = extract_links(comment, abstract)
    assert links.code_url == code
    assert links.project_url == project


def test_comment_before_abstract_and_no_duplicates() -> None:
    links = extract_links(
        "Code: https://github.com/a/first", "https://github.com/a/second and https://github.com/a/first."
    )
    assert links.code_urls == ("https://github.com/a/first", "https://github.com/a/second")


def test_cued_project_page_beats_a_stray_url() -> None:
    links = extract_links("Data from https://data.example.com/x. Project page: https://p.example.org/", None)
    assert links.project_url == "https://p.example.org/"


def test_hostile_text_never_crashes() -> None:
    long_url = "https://github.com/a/" + "b" * (MAX_URL_LENGTH + 10)
    junk = "http://[::1:bad https://999999999999:99999999/ " + "(" * 2000 + " 🤖 " + long_url
    links = extract_links(junk, "x" * 5000)
    assert long_url not in links.code_urls
    assert all(len(url) <= MAX_URL_LENGTH for url in links.code_urls + links.project_urls)
