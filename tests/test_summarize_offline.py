"""The offline summarizer on real arXiv abstracts: sentence splitting, roles, cleaning, length caps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.digest.summarize import (
    INSIGHTS_MAX_CHARS,
    OFFLINE_ID,
    WHY_MAX_CHARS,
    OfflineSummarizer,
    clean_text,
    split_sentences,
    truncate,
)

ABSTRACTS = {a["id"]: a for a in json.loads((Path(__file__).parent / "data" / "abstracts.json").read_text())}

# (arXiv id, a phrase of the problem sentence, phrases of the contribution/result the insights must hold)
EXPECTED = [
    ("2504.07986", "substantial redundancy in the CoT reasoning traces", ["we introduce SEAL", "11%"]),
    ("2504.02730", "quadratic computational complexity", ["we propose a Hybrid Quantum", "10.9%"]),
    ("2504.03624", "efficient to infer", ["We introduce Nemotron-H", "3× faster"]),
    ("2504.04377", "hindered by a narrow focus", ["we release POLYGUARD", "by 5.5%"]),
    ("2504.01399", "overlook the substantial time", ["this study introduces", "average of 72%"]),
    ("2504.12338", "fail to extract the information", ["5.1 percentage points"]),
]


def summarize(arxiv_id: str) -> tuple[str, str]:
    paper = ABSTRACTS[arxiv_id]
    summary = OfflineSummarizer().summarize(paper["title"], paper["abstract"])
    assert summary.source == OFFLINE_ID
    return summary.why, summary.insights


@pytest.mark.parametrize(("arxiv_id", "problem", "insight_phrases"), EXPECTED)
def test_roles_on_real_abstracts(arxiv_id: str, problem: str, insight_phrases: list[str]) -> None:
    why, insights = summarize(arxiv_id)
    assert problem in why
    for phrase in insight_phrases:
        assert phrase in insights
    assert problem not in insights  # the two parts say different things


@pytest.mark.parametrize("arxiv_id", sorted(ABSTRACTS))
def test_every_summary_is_clean_and_capped(arxiv_id: str) -> None:
    why, insights = summarize(arxiv_id)
    assert why
    assert insights
    assert len(why) <= WHY_MAX_CHARS
    assert len(insights) <= INSIGHTS_MAX_CHARS
    for text in (why, insights):
        assert "$" not in text
        assert "\\" not in text
        assert "  " not in text


def test_is_deterministic() -> None:
    paper = ABSTRACTS["2504.07986"]
    first = OfflineSummarizer().summarize(paper["title"], paper["abstract"])
    again = OfflineSummarizer().summarize(paper["title"], paper["abstract"])
    assert first == again


def test_latex_is_turned_into_text() -> None:
    assert (
        clean_text(r"up to $10.9\%$ and $\sim$3x faster, $O(\log_2 N)$")
        == "up to 10.9% and ~3x faster, O(log_2 N)"
    )
    assert clean_text(r"\textit{rotation embedding} with $1/\sqrt{m}$") == "rotation embedding with 1/√(m)"
    assert clean_text("<b>Bold</b> and **strong** claims") == "Bold and strong claims"
    # LaTeX non-breaking spaces read as spaces, but "~3%" (approximately) keeps its tilde.
    assert clean_text("an approach,~method for ~3% gains") == "an approach, method for ~3% gains"


def test_sentences_survive_abbreviations_decimals_and_math() -> None:
    text = (
        "Prior work (e.g. BERT and GPT) by Smith et al. (2020) reports 3.5 points. "
        "We propose X, i.e. a new method, as in Fig. 2 of J. Doe's study. "
        "It reaches $92.1\\%$ accuracy. Is it better? Yes!"
    )
    sentences = split_sentences(clean_text(text))
    assert sentences == [
        "Prior work (e.g. BERT and GPT) by Smith et al. (2020) reports 3.5 points.",
        "We propose X, i.e. a new method, as in Fig. 2 of J. Doe's study.",
        "It reaches 92.1% accuracy.",
        "Is it better?",
        "Yes!",
    ]


def test_truncate_cuts_on_a_word_boundary() -> None:
    assert truncate("short enough", 50) == "short enough"
    cut = truncate("one two three four five six", 14)
    assert cut == "one two three…"
    assert len(cut) <= 14


@pytest.mark.parametrize(
    "abstract",
    [
        "",
        "   ",
        "word " * 1000,
        "x" * 5000,
        "🚀🔥 emoji only 🤖 " * 50,
        "'; DROP TABLE papers; -- \" OR 1=1 NEAR( * ^ :",
        "$$ unbalanced { math \\frac{",
        "One sentence without a full stop",
    ],
)
def test_hostile_abstracts_give_bounded_text(abstract: str) -> None:
    summary = OfflineSummarizer().summarize("A title", abstract)
    assert summary.why
    assert summary.insights
    assert len(summary.why) <= WHY_MAX_CHARS
    assert len(summary.insights) <= INSIGHTS_MAX_CHARS
