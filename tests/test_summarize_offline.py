"""The offline summarizer on team-written abstracts: sentence splitting, roles, cleaning, bullets, caps."""

from __future__ import annotations

import re

import pytest

from bot.digest.offline import BULLET_MAX_CHARS, MAX_BULLETS
from bot.digest.reframe import drop_first_person, lead_with_gap
from bot.digest.summarize import (
    INSIGHTS_MAX_CHARS,
    OFFLINE_ID,
    WHY_MAX_CHARS,
    OfflineSummarizer,
    Summary,
    clean_text,
    split_sentences,
    truncate,
)
from bot.digest.text import shorten
from tests.team_abstracts import (
    ALL,
    BY_KEY,
    DATASETS,
    EDITORIAL,
    LONG,
    MARKUP,
    REPORT,
    ROUTING,
    TeamAbstract,
)

# Pronouns and determiners that only make sense with the sentence before them.
DANGLING = re.compile(r"^(?:They|Their|These|Those|Such|Its|It|This (?!paper|work|study|survey|article))\b")
OWN_OPENING = re.compile(r"^(?:We|Our|This (?:paper|work|study|survey)|In this (?:paper|work))\b")
QUANTITY = re.compile(r"\d(?:[\d.,]*\d)?\s?(?:%|×|points?\b)")


def summarize(paper: TeamAbstract) -> Summary:
    summary = OfflineSummarizer().summarize(paper.title, paper.abstract)
    assert summary.source == OFFLINE_ID
    return summary


def bullets(summary: Summary) -> list[str]:
    return summary.insights.split("\n")


# (abstract, a phrase of the problem the Why states, phrases the Key-insight bullets must hold)
EXPECTED = [
    ("routing", "remains prohibitively expensive", ["We propose RouteMix", "10.9%", "3.2× faster"]),
    ("shortcuts", "substantial redundancy", ["We introduce TRIM", "38%", "1.7 points"]),
    ("datasets", "poorly documented", ["an open recipe", "by 4% on average"]),
    ("report", "Serving multilingual users remains difficult", ["We present Falcon-Q", "12 of 15"]),
    ("metrics", "ignore the order", ["ranking-aware loss", "5.1 percentage points"]),
    ("long", "hard to localise", ["We present CRANE", "61%"]),
    ("markup", "approximation error", ["spectral sketch", "4×"]),
]


@pytest.mark.parametrize(("key", "problem", "insight_phrases"), EXPECTED)
def test_roles(key: str, problem: str, insight_phrases: list[str]) -> None:
    summary = summarize(BY_KEY[key])
    assert problem in summary.why
    for phrase in insight_phrases:
        assert phrase in summary.insights
    assert problem not in summary.insights  # the two parts say different things
    assert not OWN_OPENING.match(summary.why)


@pytest.mark.parametrize("paper", ALL, ids=lambda p: p.key)
def test_every_summary_is_clean_capped_and_in_bullets(paper: TeamAbstract) -> None:
    summary = summarize(paper)
    assert summary.why
    assert len(summary.why) <= WHY_MAX_CHARS
    assert len(summary.insights) <= INSIGHTS_MAX_CHARS
    assert 1 <= len(bullets(summary)) <= MAX_BULLETS
    for text in (summary.why, *bullets(summary)):
        assert text.strip() == text
        assert len(text) <= max(WHY_MAX_CHARS, BULLET_MAX_CHARS)
        assert "$" not in text
        assert "\\" not in text
        assert "{" not in text
        assert "<b>" not in text
        assert "  " not in text
        assert "http" not in text


def test_key_insights_teach_method_result_and_release() -> None:
    method, result, released = bullets(summarize(ROUTING))
    assert method.startswith("We propose RouteMix, a router")
    assert "Nyström approximation" in method  # Nystr\"om, not a LaTeX accent
    assert result.startswith("On the LongBench suite, RouteMix reduces latency by 10.9%")
    assert released == "Released: code."
    # "We release the code, the model weights and the dataset" is a release, not the method.
    method, result, released = bullets(summarize(DATASETS))
    assert method.startswith("We address these challenges with an open recipe")
    assert "4%" in result
    assert released == "Released: code, model weights and data."
    # "The latest release of a family of models" releases nothing.
    assert not any(b.startswith("Released") for b in bullets(summarize(REPORT)))


@pytest.mark.parametrize(
    ("sentence", "bullet"),
    [
        ("Codes and models are available at https://example.org/x.", "Released: code and model weights."),
        ("Source code will be released soon.", "To be released: code."),
        ("We open-source our models, training data, and codes.", "Released: code, model weights and data."),
        ("We train on publicly available datasets from four domains.", None),
        ("Data collection remains costly for many labs.", None),
    ],
)
def test_what_is_released(sentence: str, bullet: str | None) -> None:
    abstract = f"Agents forget what they did. We propose a scratchpad memory for agents. {sentence}"
    released = [b for b in bullets(OfflineSummarizer().summarize("Scratchpads", abstract)) if "eleased:" in b]
    assert released == ([bullet] if bullet else [])


def test_a_cut_bullet_keeps_its_number() -> None:
    abstract = (
        "Retrieval pipelines remain brittle under distribution shift. We propose a retriever that, "
        "after being trained with a curriculum of synthetic queries drawn from many domains, "
        "calibrated on held-out topics and distilled into a small dual encoder that runs on a laptop "
        "CPU, lifts recall by 23% on unseen domains."
    )
    summary = OfflineSummarizer().summarize("Robust retrievers", abstract)
    method = bullets(summary)[0]
    assert len(method) <= BULLET_MAX_CHARS
    # The opening clause (who does what) and the clause with the number, the middle left out.
    assert method.startswith("We propose a retriever that … ")
    assert method.endswith("lifts recall by 23% on unseen domains.")


def test_a_result_without_a_number_is_still_a_bullet() -> None:
    abstract = (
        "Agents forget what they did a few steps ago. We propose a scratchpad memory for agents. "
        "Experiments show that it consistently improves task success over strong baselines."
    )
    summary = OfflineSummarizer().summarize("Scratchpads", abstract)
    assert bullets(summary) == [
        "We propose a scratchpad memory for agents.",
        "Experiments show that it consistently improves task success over strong baselines.",
    ]
    assert summary.why == "Agents forget what they did a few steps ago."


def test_is_deterministic() -> None:
    assert summarize(ROUTING) == summarize(ROUTING)
    assert OfflineSummarizer().id == OFFLINE_ID == "offline-v4"  # v3 cached summaries are not served


def test_latex_and_markup_are_turned_into_text() -> None:
    assert (
        clean_text(r"up to $10.9\%$ and $\sim$3x faster, $O(\log_2 N)$")
        == "up to 10.9% and ~3x faster, O(log_2 N)"
    )
    assert clean_text(r"\textit{rotation embedding} with $1/\sqrt{m}$") == "rotation embedding with 1/√(m)"
    assert clean_text("<b>Bold</b> and **strong** claims") == "Bold and strong claims"
    # LaTeX non-breaking spaces read as spaces, but "~3%" (approximately) keeps its tilde.
    assert clean_text("an approach,~method for ~3% gains") == "an approach, method for ~3% gains"
    assert clean_text(r"Nystr\"om, Nystr\"{o}m, Erd\H{o}s, Fran\c{c}ois, na\"{\i}ve, \'{e}t\'e, \ss") == (
        "Nyström, Nyström, Erdős, François, naïve, été, ß"
    )
    assert clean_text(r"error \< 5 and a stray \\ backslash") == "error < 5 and a stray backslash"
    assert clean_text(r"$3.2\times$ faster") == "3.2× faster"


def test_markup_abstract_reads_clean() -> None:
    summary = summarize(MARKUP)
    # "Kernel attention is attractive …, but its approximation error grows…": the gap, its owner named.
    assert summary.why.startswith("Kernel attention's approximation error")
    assert "Nyström method and Erdős-style random graphs" in summary.insights


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
        "We propose X. " * 400,
        "\\" * 300,
        "Code is available at https://example.org/" + "a" * 3000,
    ],
)
def test_hostile_abstracts_give_bounded_text(abstract: str) -> None:
    summary = OfflineSummarizer().summarize("A title", abstract)
    assert summary.why
    assert summary.insights
    assert len(summary.why) <= WHY_MAX_CHARS
    assert len(summary.insights) <= INSIGHTS_MAX_CHARS
    assert all(len(b) <= BULLET_MAX_CHARS for b in bullets(summary))
    assert len(bullets(summary)) <= MAX_BULLETS


# --------------------------------------------------------------------------------------------------
# Why → reads on its own and states the problem, not the contribution
# --------------------------------------------------------------------------------------------------


def test_a_why_that_leans_on_the_previous_sentence_brings_it_along() -> None:
    # "They are often poorly documented…" is about the datasets named the sentence before.
    why = summarize(DATASETS).why
    assert "poorly documented" in why
    assert why.startswith("While many visual instruction datasets are available")
    # "Yet the traces it produces…": "it" is chain-of-thought prompting, named the sentence before.
    why = summarize(BY_KEY["shortcuts"]).why
    assert why.startswith("Chain-of-thought prompting has become")
    assert len(why) <= WHY_MAX_CHARS


def test_background_the_problem_does_not_need_stays_out() -> None:
    why = summarize(BY_KEY["metrics"]).why
    assert why.startswith("Standard metrics used to train existing retrieval models")
    assert "Our method" not in why  # a result about the authors' method is no context for the problem


def test_a_contribution_is_not_taken_for_the_why() -> None:
    # The abstract opens on "We present Falcon-Q"; "A key innovation in Falcon-Q is…" is a contribution,
    # and so is "Falcon-Q comprises…": the problem is told later.
    summary = summarize(REPORT)
    assert "key innovation" not in summary.why
    assert not summary.why.startswith("Falcon-Q")
    assert summary.why.startswith("Serving multilingual users remains difficult")
    assert "We present Falcon-Q" in summary.insights


def test_no_why_dangles_or_links() -> None:
    for paper in ALL:
        why = summarize(paper).why
        assert not DANGLING.match(why), (paper.key, why)
        assert "http" not in why


def test_a_survey_says_what_it_does_in_the_bullets() -> None:
    summary = summarize(BY_KEY["survey"])
    assert summary.why == "Memory designs differ widely across systems, and little work compares them."
    assert bullets(summary)[0].startswith("This survey organises memory mechanisms")


def test_a_long_sentence_is_cut_after_a_whole_clause() -> None:
    sentence = split_sentences(clean_text(LONG.abstract))[1]
    assert sentence.startswith("We present CRANE")
    cut = shorten(sentence, 240)
    assert len(cut) <= 240
    assert cut.endswith("…")
    kept = cut[:-1]
    assert sentence.startswith(kept)
    assert sentence[len(kept)] in ",;:"  # not half of "a budget controller that stops…"
    # A lead-in ("In order to …, this paper constructs…") is never kept without its main clause.
    lead_in = split_sentences(clean_text(LONG.abstract))[2]
    assert lead_in.startswith("In order to measure progress fairly")
    cut = shorten(lead_in, 120)
    assert len(cut) <= 120
    assert "this paper constructs" in cut


def test_every_number_in_a_summary_is_in_the_abstract() -> None:
    for paper in ALL:
        summary = summarize(paper)
        source = clean_text(paper.abstract)
        for number in re.findall(r"\d+(?:\.\d+)?", summary.why + " " + summary.insights):
            assert number in source, (paper.key, number)
        if QUANTITY.search(source):
            assert QUANTITY.search(summary.insights), paper.key


# --------------------------------------------------------------------------------------------------
# Why → in the digest's framing: the gap first, not the abstract's opening words
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "why"),
    [
        # "Despite progress in X, Y remains …": the concession goes, the gap leads.
        (
            "concession",
            "Transcribing overlapping speakers in noisy meeting rooms remains unreliable, "
            "with most errors in short interjections.",
        ),
        # "X have made Y fast, but their figures …": the background goes, "their" is named.
        ("turn", "LLMs' figures often disagree with the source tables."),
        # "X have become common. They still fail …": "They" is named instead of bringing the background.
        (
            "they",
            "Vision-language models still fail to read stacked bars and dual axes, which leads to wrong "
            "answers in finance and science reports.",
        ),
        # "We find that X …": the finding, not the authors.
        (
            "finding",
            "Reward models trained on short answers are biased towards length and fail to penalise "
            "padded responses.",
        ),
        # "Despite A, we identify a key limitation of B: …": the limitation, labelled as one.
        (
            "limitation",
            "A key limitation of code agents: they rarely run the tests they write before submitting a "
            "patch.",
        ),
        # "X are essential. Writing them by hand remains slow": "them" is named inside the sentence.
        (
            "inside",
            "Writing high-quality incident reports by hand remains slow and error-prone, so many teams "
            "skip the step entirely.",
        ),
        # "X are easy to scale but suffer from …": one subject, the predicate that names the gap.
        (
            "shared",
            "Sparse mixture-of-experts models suffer from idle experts that waste accelerator memory.",
        ),
    ],
)
def test_the_why_leads_with_the_gap(key: str, why: str) -> None:
    assert summarize(BY_KEY[key]).why == why


@pytest.mark.parametrize("paper", EDITORIAL, ids=lambda p: p.key)
def test_an_editorial_why_is_faithful_and_never_first_person(paper: TeamAbstract) -> None:
    why = summarize(paper).why
    assert not re.search(r"\b(?:we|our)\b", why, re.IGNORECASE)
    assert not OWN_OPENING.match(why)
    source = clean_text(f"{paper.title} {paper.abstract}")
    for number in re.findall(r"\d+(?:\.\d+)?", why):
        assert number in source
    for name in re.findall(r"(?<!^)(?<![.:] )\b[A-Z][\w'-]*", why):  # capitalised words mid-sentence
        assert name.removesuffix("'").removesuffix("'s") in source, name


def test_a_pronoun_that_could_mean_two_things_is_not_guessed() -> None:
    # "While recent studies have scaled retrieval…, their use…": "their" may be the studies or the
    # retrieval; the sentence is kept whole rather than naming the wrong one.
    why = summarize(BY_KEY["ambiguous"]).why
    assert why.startswith("While recent studies have scaled dense retrieval")
    # "…, yet the key trade-offs remain unclear": the trade-offs of what is said before the turn.
    assert summarize(BY_KEY["bare"]).why.startswith("Recently, federated fine-tuning has shown")
    # "This popularity…" names no noun to put in its place: the sentence it leans on comes along.
    assert summarize(BY_KEY["demonstrative"]).why == (
        "Automated review bots now comment on most pull requests in large open-source projects. This "
        "popularity hides a cost: maintainers spend hours each week dismissing low-value comments."
    )


@pytest.mark.parametrize(
    ("sentence", "framed"),
    [
        (
            "We study whether small agents can ask clarifying questions when a request is ambiguous.",
            "The question: whether small agents can ask clarifying questions when a request is ambiguous.",
        ),
        (
            "Earlier benchmarks only test single-turn requests, whereas we measure multi-turn repair.",
            "Earlier benchmarks only test single-turn requests.",
        ),
        (
            "Our results show that caching halves the latency of long prompts.",
            "Caching halves the latency of long prompts.",
        ),
        (
            "We propose a cache for long prompts.",
            "We propose a cache for long prompts.",
        ),  # a contribution stays
    ],
)
def test_first_person_frames(sentence: str, framed: str) -> None:
    assert drop_first_person(sentence) == framed


@pytest.mark.parametrize(
    ("sentence", "why"),
    [
        (
            "(2) Slow Warm Starts: every new tenant rebuilds its cache from nothing, which stalls the "
            "first hour of traffic.",
            "Every new tenant rebuilds its cache from nothing, which stalls the first hour of traffic.",
        ),
        (
            "ii) the planner forgets constraints stated early in a long dialogue.",
            "The planner forgets constraints stated early in a long dialogue.",
        ),
        (  # a short item after its label: the label stays, it is the point
            "(1) Cost: Too high.",
            "Cost: Too high.",
        ),
        (  # no list marker: a label is the sentence's own
            "Data Scarcity: labelled traces of robot failures are rare and costly to collect.",
            "Data Scarcity: labelled traces of robot failures are rare and costly to collect.",
        ),
    ],
)
def test_a_list_item_loses_its_marker_and_label(sentence: str, why: str) -> None:
    assert lead_with_gap(sentence) == why
