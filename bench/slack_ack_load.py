"""Ack latency of `/trends` under load: 200 concurrent signed slash commands to the app in HTTP mode.

Everything runs locally: the fake Slack Web API (tests/fakes/slack_api.py), the real bolt app on
127.0.0.1 and a migrated SQLite database with some papers. Slack gives an app 3 seconds to
acknowledge a command; this prints the ack latency percentiles, how many acks came within 3 s, and
how long the full answers (through `response_url`) took to arrive.

    python -m bench.slack_ack_load [--requests 200] [--query diffusion] [--papers 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import statistics
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp
from aiohttp import web

from adapters.slack.app import build_web_app, create_runtime
from bot.bootstrap import build
from bot.chat.service import ChatService
from bot.db import migrations
from bot.db.engine import make_engine
from bot.feedback import FeedbackService
from bot.settings import load_settings
from tests.factories import make_paper
from tests.fakes.slack_api import BOT_TOKEN, SIGNING_SECRET, FakeSlack, signed_headers, slash_command_body

ACK_DEADLINE = 3.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def prepare_database(path: Path, papers: int) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrations.upgrade(engine)
    engine.dispose()
    container = build(load_settings(database_url=url))
    words = ("diffusion", "agents", "retrieval", "reasoning", "video", "graphs")
    with container.uow() as uow:
        uow.session.add_all(
            make_paper(
                f"2610.{i:05d}",
                title=f"{words[i % len(words)].title()} models at scale {i}",
                abstract=f"We study {words[i % len(words)]} and {words[(i * 7) % len(words)]} in depth.",
            )
            for i in range(1, papers + 1)
        )
        uow.commit()
    container.close()
    return url


def serve_app(database_url: str, api_url: str, ready: Connection) -> None:
    """The app process: the real bolt app in HTTP mode on 127.0.0.1, as `trends serve slack` runs it."""
    os.environ["SLACK_BOT_TOKEN"] = BOT_TOKEN
    os.environ["SLACK_SIGNING_SECRET"] = SIGNING_SECRET
    os.environ.pop("SLACK_APP_TOKEN", None)
    logging.basicConfig(level=logging.WARNING)

    async def main() -> None:
        settings = load_settings(database_url=database_url, slack_api_url=api_url)
        container = build(settings)
        runtime = create_runtime(
            settings,
            lambda poster: ChatService(container, posters={"slack": poster}),
            FeedbackService(container.session_factory),
        )
        runner = web.AppRunner(build_web_app(runtime.app), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        ready.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())


async def run(requests: int, query: str, papers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = prepare_database(Path(tmp) / "bench.db", papers)
        # Slack (the fake Web API, response_url and the load) lives in this process; the app in its
        # own, so the figures are the app's and not the load generator's.
        async with FakeSlack() as slack:
            receive, send = multiprocessing.Pipe(duplex=False)
            app_process = multiprocessing.get_context("spawn").Process(
                target=serve_app, args=(url, slack.api_url, send), daemon=True
            )
            app_process.start()
            port = await asyncio.to_thread(receive.recv)
            events = f"http://127.0.0.1:{port}/slack/events"
            try:
                connector = aiohttp.TCPConnector(limit=0)
                async with aiohttp.ClientSession(connector=connector) as session:

                    async def one(i: int) -> float:
                        body = slash_command_body(f"{query} {i % 7}", slack.response_url(f"r{i}"))
                        headers = signed_headers(SIGNING_SECRET, body)
                        started = time.perf_counter()
                        async with session.post(events, data=body, headers=headers) as response:
                            await response.read()
                            if response.status != 200:
                                raise RuntimeError(f"HTTP {response.status}")
                        return time.perf_counter() - started

                    await one(-1)  # warm-up: bolt's first request calls auth.test once
                    await slack.wait_for_responses(1, timeout=60)
                    slack.responses.clear()
                    started = time.perf_counter()
                    latencies = await asyncio.gather(*(one(i) for i in range(requests)))
                    acked = time.perf_counter() - started
                    await slack.wait_for_responses(requests, timeout=300)
                    answered = time.perf_counter() - started
                    apologies = sum("went wrong" in r.params.get("text", "") for r in slack.responses)
            finally:
                app_process.terminate()
                app_process.join(10)

    within = sum(latency <= ACK_DEADLINE for latency in latencies)
    ms = [latency * 1000 for latency in latencies]
    print(f"{requests} concurrent signed `/trends {query} …` requests, {papers} papers in SQLite")
    print(
        f"ack latency ms: p50 {percentile(ms, 50):.0f}  p95 {percentile(ms, 95):.0f}  "
        f"p99 {percentile(ms, 99):.0f}  max {max(ms):.0f}  mean {statistics.fmean(ms):.0f}"
    )
    print(f"acked within {ACK_DEADLINE:.0f} s: {within}/{requests}  (all acks in {acked:.2f} s)")
    print(f"all {requests} answers posted to response_url after {answered:.2f} s ({apologies} apologies)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--query", default="diffusion")
    parser.add_argument("--papers", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.query, args.papers))


if __name__ == "__main__":
    main()
