"""The OpenAI-compatible summarizer against a real fake server: prompt, strict parsing, claims checked
against the abstract, fallbacks."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.digest.llm import unsupported_claims
from bot.digest.summarize import (
    MAX_CONSECUTIVE_FAILURES,
    OFFLINE_ID,
    InvalidLLMOutput,
    OfflineSummarizer,
    OpenAICompatibleSummarizer,
    llm_id,
    make_summarizer,
    parse_llm_content,
)
from bot.settings import load_settings
from tests.fakes.llm_server import Behaviour, FakeLLMServer, running_llm_server
from tests.team_abstracts import REPORT, ROUTING

PAPER = ROUTING
MODEL = "fake-model-1"
WHY = "Attention over long documents remains prohibitively expensive."
BULLETS = ["A router sends each token to full or approximate attention.", "Latency drops by 10.9%."]


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with running_llm_server() as fake:
        yield fake


def summarizer_for(server: FakeLLMServer, timeout: float = 5.0) -> OpenAICompatibleSummarizer:
    return OpenAICompatibleSummarizer(server.base_url, MODEL, api_key="sk-test", timeout_seconds=timeout)


def offline() -> tuple[str, str]:
    summary = OfflineSummarizer().summarize(PAPER.title, PAPER.abstract)
    return summary.why, summary.insights


def test_valid_answer_is_used_and_request_is_well_formed(server: FakeLLMServer) -> None:
    server.reply_json(WHY, BULLETS)
    with summarizer_for(server) as summarizer:
        summary = summarizer.summarize(PAPER.title, PAPER.abstract)
    assert (summary.why, summary.insights) == (WHY, "\n".join(BULLETS))
    assert summary.source == llm_id(MODEL) == summarizer.id
    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.body["model"] == MODEL
    assert request.body["temperature"] == 0
    assert request.body["response_format"] == {"type": "json_object"}
    system, user = request.body["messages"]
    assert system["role"] == "system"
    assert '"insights", an array of 2-4 short bullet strings' in system["content"]
    assert "never copying the abstract's first sentence" in system["content"]
    assert user["role"] == "user"
    assert user["content"] == f"Title: {PAPER.title}\n\nAbstract: {PAPER.abstract}"


def test_hallucinated_numbers_and_names_are_dropped(server: FakeLLMServer) -> None:
    server.reply_json(
        WHY + " GPT-7 solved this in 2031.",  # a model and a year the abstract never mentions
        [
            "A router sends each token to full or approximate attention.",
            "Latency drops by 47.3% on LongBench.",  # the abstract says 10.9%
            "It beats Gemini on every benchmark.",  # a name the abstract never mentions
            "It is up to 3.2× faster than dense attention on 128k-token inputs.",
        ],
    )
    with summarizer_for(server) as summarizer:
        summary = summarizer.summarize(PAPER.title, PAPER.abstract)
    assert summary.source == llm_id(MODEL)
    assert summary.why == WHY
    assert summary.insights.split("\n") == [
        "A router sends each token to full or approximate attention.",
        "It is up to 3.2× faster than dense attention on 128k-token inputs.",
    ]
    for invented in ("GPT-7", "2031", "47.3", "Gemini"):
        assert invented not in summary.why + summary.insights


def test_an_answer_with_nothing_supported_falls_back_to_offline(server: FakeLLMServer) -> None:
    server.reply_json("We cut latency by 80%.", ["Latency drops by 80% against Claude."])
    with summarizer_for(server) as summarizer:
        summary = summarizer.summarize(PAPER.title, PAPER.abstract)
    assert summary.source == OFFLINE_ID
    assert (summary.why, summary.insights) == offline()


def test_a_why_opening_on_the_paper_itself_loses_that_sentence(server: FakeLLMServer) -> None:
    server.reply_json(
        "Falcon-Q is a family of language models. Serving multilingual users remains difficult.",
        ["Falcon-Q achieves state-of-the-art results on 12 of 15 multilingual benchmarks."],
    )
    with summarizer_for(server) as summarizer:
        summary = summarizer.summarize(REPORT.title, REPORT.abstract)
    assert summary.why == "Serving multilingual users remains difficult."
    assert "12 of 15" in summary.insights
    # Only the offline Why fills in when every sentence of the model's Why is dropped.
    server.reply_json("We present Falcon-Q.", ["Falcon-Q achieves state-of-the-art results."])
    with summarizer_for(server) as summarizer:
        mixed = summarizer.summarize(REPORT.title, REPORT.abstract)
    assert mixed.why == OfflineSummarizer().summarize(REPORT.title, REPORT.abstract).why
    assert mixed.insights == "Falcon-Q achieves state-of-the-art results."
    assert mixed.source == llm_id(MODEL)


def test_unsupported_claims() -> None:
    source = "RouteMix reduces latency by 10.9% on LongBench, 1,024 tokens at a time."
    assert unsupported_claims("The gain is 10.9% on LongBench.", source) == []
    assert unsupported_claims("It handles 1024 tokens.", source) == []
    assert unsupported_claims("The gain is 11% on LongBench-v2 with Llama.", source) == [
        "11",
        "LongBench-v2",
        "Llama",
    ]
    assert unsupported_claims("Latency falls sharply.", source) == []  # a capital opening a sentence
    assert unsupported_claims("GPT-7 and Qwen9 agree.", source) == ["7", "GPT-7", "Qwen9"]
    assert unsupported_claims("RouteMix is fast.", source) == []


def test_fenced_json_is_accepted(server: FakeLLMServer) -> None:
    server.reply_content('```json\n{"why": "W.", "insights": ["I."]}\n```')
    with summarizer_for(server) as summarizer:
        summary = summarizer.summarize(PAPER.title, PAPER.abstract)
    assert (summary.why, summary.insights, summary.source) == ("W.", "I.", llm_id(MODEL))


FAULTS = {
    "prose": Behaviour(content="Sure! Here is a summary: the paper is great."),
    "invalid json": Behaviour(content='{"why": "W", "insights": '),
    "extra field": Behaviour(content='{"why": "W", "insights": ["I"], "score": 9}'),
    "missing field": Behaviour(content='{"why": "W"}'),
    "not strings": Behaviour(content='{"why": ["W"], "insights": 3}'),
    "insights as a string": Behaviour(content='{"why": "W", "insights": "I"}'),
    "a bullet not a string": Behaviour(content='{"why": "W", "insights": ["I", 7]}'),
    "no bullets": Behaviour(content='{"why": "W", "insights": []}'),
    "too many bullets": Behaviour(content=json.dumps({"why": "W", "insights": ["I"] * 5})),
    "empty field": Behaviour(content='{"why": "   ", "insights": ["I"]}'),
    "empty bullet": Behaviour(content='{"why": "W", "insights": ["I", " "]}'),
    "too long": Behaviour(content=json.dumps({"why": "w" * 5000, "insights": ["I"]})),
    "bullet too long": Behaviour(content=json.dumps({"why": "W", "insights": ["i" * 400]})),
    "a list": Behaviour(content='[{"why": "W", "insights": ["I"]}]'),
    "not a completion": Behaviour(raw_body=b'{"result": "ok"}'),
    "html body": Behaviour(raw_body=b"<html>502 Bad Gateway</html>"),
    "server error": Behaviour(status=500),
    "unauthorised": Behaviour(status=401),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_every_fault_falls_back_to_offline(
    server: FakeLLMServer, fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    server.behaviour = FAULTS[fault]
    with summarizer_for(server) as summarizer:
        summary = summarizer.summarize(PAPER.title, PAPER.abstract)
    assert summary.source == OFFLINE_ID
    assert (summary.why, summary.insights) == offline()
    assert len(server.requests) == 1
    assert "using the offline summary" in caplog.text


def test_slow_server_times_out_and_falls_back(server: FakeLLMServer) -> None:
    server.behaviour = Behaviour(delay_seconds=1.0)
    with summarizer_for(server, timeout=0.2) as summarizer:
        summary = summarizer.summarize(PAPER.title, PAPER.abstract)
    assert summary.source == OFFLINE_ID


def test_unreachable_server_falls_back() -> None:
    with running_llm_server() as fake:
        url = fake.base_url
    with OpenAICompatibleSummarizer(url, MODEL, timeout_seconds=1) as summarizer:
        assert summarizer.summarize(PAPER.title, PAPER.abstract).source == OFFLINE_ID


def test_stops_asking_a_failing_server(server: FakeLLMServer) -> None:
    server.behaviour = Behaviour(status=503)
    with summarizer_for(server) as summarizer:
        for _ in range(MAX_CONSECUTIVE_FAILURES + 3):
            assert summarizer.summarize(PAPER.title, PAPER.abstract).source == OFFLINE_ID
    assert len(server.requests) == MAX_CONSECUTIVE_FAILURES


@pytest.mark.parametrize(
    "content",
    [
        '{"why": "W", "insights": ["I", "J"]}',
        '```\n{"why": "W", "insights": ["I", "J"]}\n```',
        ' {"insights": ["I", "J"], "why": "W"} ',
    ],
)
def test_parse_accepts(content: str) -> None:
    assert parse_llm_content(content) == ("W", ["I", "J"])


@pytest.mark.parametrize(
    "content", ["", "null", '"text"', '{"Why": "W", "insights": ["I"]}', "```json\n```", '{"why": "W"}']
)
def test_parse_rejects(content: str) -> None:
    with pytest.raises(InvalidLLMOutput):
        parse_llm_content(content)


def test_settings_choose_the_summarizer(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    assert make_summarizer(load_settings()).id == OFFLINE_ID
    monkeypatch.setenv("TRENDS_LLM_API_KEY", "sk-from-env")
    settings = load_settings(llm_base_url=server.base_url, llm_model=MODEL)
    with make_summarizer(settings) as summarizer:  # type: ignore[union-attr]
        assert summarizer.id == llm_id(MODEL)
        summarizer.summarize(PAPER.title, PAPER.abstract)
    assert server.requests[0].headers["authorization"] == "Bearer sk-from-env"


def test_the_cache_id_names_the_prompt_version() -> None:
    # Summaries of the earlier prompts were filed as "llm:<model>": a new prompt must not be served
    # them, so the id carries the prompt's version.
    summarizer = OpenAICompatibleSummarizer("http://127.0.0.1:9/v1", MODEL)
    try:
        assert summarizer.id == "llm-v3:fake-model-1"
        assert summarizer.id != f"llm:{MODEL}"
    finally:
        summarizer.close()
