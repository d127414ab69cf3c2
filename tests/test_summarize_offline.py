"""The offline summarizer on real arXiv abstracts: sentence splitting, roles, cleaning, length caps."""

from __future__ import annotations

import json
import re
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
from bot.digest.text import shorten
from bot.sample import sample_rows

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


# --------------------------------------------------------------------------------------------------
# Why → reads on its own and states the problem, not the contribution (bundled May 2025 sample, CC0)
# --------------------------------------------------------------------------------------------------

SAMPLE = {row["id"]: row for row in sample_rows()}
# Pronouns and determiners that only make sense with the sentence before them.
DANGLING = re.compile(r"^(?:They|Their|These|Those|Such|Its|This (?!paper|work|study|survey|article))\b")


def summarize_sample(arxiv_id: str) -> tuple[str, str]:
    paper = SAMPLE[arxiv_id]
    summary = OfflineSummarizer().summarize(paper["title"], paper["abstract"])
    return summary.why, summary.insights


def test_a_why_that_leans_on_the_previous_sentence_brings_it_along() -> None:
    # "They are often poorly documented…" is about the VisIT datasets named the sentence before.
    why, _ = summarize_sample("2505.18115")
    assert "poorly documented" in why
    assert why.startswith("While many VisIT datasets are available")
    assert len(why) <= WHY_MAX_CHARS


def test_a_dangling_why_gives_way_to_a_sentence_that_reads_alone() -> None:
    # "These difficulties are further magnified…" would dangle; the first sentence names them.
    why, _ = summarize_sample("2505.08751")
    assert not DANGLING.match(why)
    assert why.startswith("Building multimodal language models is fundamentally challenging")


def test_a_contribution_is_not_taken_for_the_why() -> None:
    # The abstract opens on "we present Qwen3"; "A key innovation in Qwen3 is…" is a contribution.
    why, insights = summarize_sample("2505.09388")
    assert "key innovation" not in why
    assert "designed to advance performance, efficiency, and multilingual capabilities" in why
    assert "We present Qwen3" in insights
    # "Our method is more parameter-efficient" is a result, not context for the problem after it.
    why, _ = summarize_sample("2505.04310")
    assert "Our method" not in why
    assert why.startswith("Standard metrics used to train existing models")


def test_no_why_in_the_sample_dangles_or_links() -> None:
    dangling = []
    for arxiv_id in SAMPLE:
        why, _ = summarize_sample(arxiv_id)
        if DANGLING.match(why):
            dangling.append((arxiv_id, why[:80]))
        assert "http" not in why
    assert dangling == []


def test_a_long_sentence_is_cut_after_a_whole_clause() -> None:
    sentence = split_sentences(clean_text(SAMPLE["2505.17107"]["abstract"]))[3]
    assert sentence.startswith("We present CRAKEN")
    cut = shorten(sentence, 240)
    assert len(cut) <= 240
    assert cut.endswith("…")
    kept = cut[:-1]
    assert sentence.startswith(kept)
    assert sentence[len(kept)] in ",;:"  # not half of "knowledge-hint injection that transforms…"
    # A lead-in ("In order to …, this paper constructs…") is never kept without its main clause.
    lead_in = split_sentences(clean_text(SAMPLE["2505.06261"]["abstract"]))[1]
    assert lead_in.startswith("In order to scientifically predict")
    cut = shorten(lead_in, 200)
    assert len(cut) <= 200
    assert "this paper constructs" in cut
