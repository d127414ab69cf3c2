"""The OpenAI-compatible summarizer against a real fake server: prompt, strict parsing, fallbacks."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.digest.summarize import (
    MAX_CONSECUTIVE_FAILURES,
    OFFLINE_ID,
    InvalidLLMOutput,
    OfflineSummarizer,
    OpenAICompatibleSummarizer,
    make_summarizer,
    parse_llm_content,
)
from bot.settings import load_settings
from tests.fakes.llm_server import Behaviour, FakeLLMServer, running_llm_server
from tests.paper_corpus import digest_papers, pool_rows

PAPER = pool_rows(digest_papers(1))[0]  # a team-written paper with a full-length abstract
MODEL = "fake-model-1"


@pytest.fixture
def server() -> Iterator[FakeLLMServer]:
    with running_llm_server() as fake:
        yield fake


def summarizer_for(server: FakeLLMServer, timeout: float = 5.0) -> OpenAICompatibleSummarizer:
    return OpenAICompatibleSummarizer(server.base_url, MODEL, api_key="sk-test", timeout_seconds=timeout)


def offline() -> tuple[str, str]:
    summary = OfflineSummarizer().summarize(PAPER["title"], PAPER["abstract"])
    return summary.why, summary.insights


def test_valid_answer_is_used_and_request_is_well_formed(server: FakeLLMServer) -> None:
    server.reply_json("Defences are costly.", "One translation model restores 72% accuracy.")
    with summarizer_for(server) as summarizer:
        summary = summarizer.summarize(PAPER["title"], PAPER["abstract"])
    assert (summary.why, summary.insights) == (
        "Defences are costly.",
        "One translation model restores 72% accuracy.",
    )
    assert summary.source == f"llm:{MODEL}" == summarizer.id
    [request] = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.body["model"] == MODEL
    assert request.body["temperature"] == 0
    assert request.body["response_format"] == {"type": "json_object"}
    system, user = request.body["messages"]
    assert system["role"] == "system"
    assert user["role"] == "user"
    assert user["content"] == f"Title: {PAPER['title']}\n\nAbstract: {PAPER['abstract']}"
    # Only the title and abstract reach the model: no authors, ids or categories.
    for other in [*PAPER["authors"], PAPER["id"], *PAPER["categories"]]:
        assert other not in request.prompt_text


def test_fenced_json_is_accepted(server: FakeLLMServer) -> None:
    server.reply_content('```json\n{"why": "W.", "insights": "I."}\n```')
    with summarizer_for(server) as summarizer:
        summary = summarizer.summarize(PAPER["title"], PAPER["abstract"])
    assert (summary.why, summary.insights, summary.source) == ("W.", "I.", f"llm:{MODEL}")


FAULTS = {
    "prose": Behaviour(content="Sure! Here is a summary: the paper is great."),
    "invalid json": Behaviour(content='{"why": "W", "insights": '),
    "extra field": Behaviour(content='{"why": "W", "insights": "I", "score": 9}'),
    "missing field": Behaviour(content='{"why": "W"}'),
    "not strings": Behaviour(content='{"why": ["W"], "insights": 3}'),
    "empty field": Behaviour(content='{"why": "   ", "insights": "I"}'),
    "too long": Behaviour(content=json.dumps({"why": "w" * 5000, "insights": "I"})),
    "a list": Behaviour(content='[{"why": "W", "insights": "I"}]'),
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
        summary = summarizer.summarize(PAPER["title"], PAPER["abstract"])
    assert summary.source == OFFLINE_ID
    assert (summary.why, summary.insights) == offline()
    assert len(server.requests) == 1
    assert "using the offline summary" in caplog.text


def test_slow_server_times_out_and_falls_back(server: FakeLLMServer) -> None:
    server.behaviour = Behaviour(delay_seconds=1.0)
    with summarizer_for(server, timeout=0.2) as summarizer:
        summary = summarizer.summarize(PAPER["title"], PAPER["abstract"])
    assert summary.source == OFFLINE_ID


def test_unreachable_server_falls_back() -> None:
    with running_llm_server() as fake:
        url = fake.base_url
    with OpenAICompatibleSummarizer(url, MODEL, timeout_seconds=1) as summarizer:
        assert summarizer.summarize(PAPER["title"], PAPER["abstract"]).source == OFFLINE_ID


def test_stops_asking_a_failing_server(server: FakeLLMServer) -> None:
    server.behaviour = Behaviour(status=503)
    with summarizer_for(server) as summarizer:
        for _ in range(MAX_CONSECUTIVE_FAILURES + 3):
            assert summarizer.summarize(PAPER["title"], PAPER["abstract"]).source == OFFLINE_ID
    assert len(server.requests) == MAX_CONSECUTIVE_FAILURES


@pytest.mark.parametrize(
    "content",
    [
        '{"why": "W", "insights": "I"}',
        '```\n{"why": "W", "insights": "I"}\n```',
        ' {"insights": "I", "why": "W"} ',
    ],
)
def test_parse_accepts(content: str) -> None:
    assert parse_llm_content(content) == ("W", "I")


@pytest.mark.parametrize("content", ["", "null", '"text"', '{"Why": "W", "insights": "I"}', "```json\n```"])
def test_parse_rejects(content: str) -> None:
    with pytest.raises(InvalidLLMOutput):
        parse_llm_content(content)


def test_settings_choose_the_summarizer(server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    assert make_summarizer(load_settings()).id == OFFLINE_ID
    monkeypatch.setenv("TRENDS_LLM_API_KEY", "sk-from-env")
    settings = load_settings(llm_base_url=server.base_url, llm_model=MODEL)
    with make_summarizer(settings) as summarizer:  # type: ignore[union-attr]
        assert summarizer.id == f"llm:{MODEL}"
        summarizer.summarize(PAPER["title"], PAPER["abstract"])
    assert server.requests[0].headers["authorization"] == "Bearer sk-from-env"
