"""`topic:` in search and trends names the asking audience's topic, not another team's of that name.

Every audience starts with the same topic names and edits its own. A lookup across audiences drew one
team's trend with another team's phrases (whichever row came last).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from adapters.cli import app
from bot.archive.service import ArchiveService
from bot.archive.views import TrendPoint
from bot.bootstrap import Container, build
from bot.chat import commands as c
from bot.chat.service import ChatService
from bot.db.models import Audience, Subscription
from bot.digest.topics import TopicChanges, TopicService
from bot.invocation import Invocation
from bot.settings import load_settings
from tests.factories import make_paper

VISION_CHANNEL = Invocation("slack", "T1", "C-vision", "UMEMBER")
GENERAL_CHANNEL = Invocation("slack", "T1", "C-general", "UMEMBER")


@pytest.fixture
def container(db_url: str) -> Iterator[Container]:
    built = build(load_settings(database_url=db_url))
    with built.uow() as uow:
        for i in range(1, 4):  # three papers on tool calling, one on robot grasping
            uow.session.add(make_paper(f"2610.0000{i}", f"Tool calling agents {i}", "Agents call tools."))
        uow.session.add(make_paper("2610.00009", "Robot grasping agents", "Embodied agents grasp."))
        uow.session.add(Audience(name="vision", created_by="test"))
        uow.commit()
    topics = TopicService(built.uow, built.settings)
    topics.list_topics()  # seeds default's topics
    topics.list_topics(audience="vision")  # and vision's, with the same names
    # Each team narrows "Agents" its own way.
    topics.edit("Agents", TopicChanges(include=["tool calling"]), actor="test")
    topics.edit("Agents", TopicChanges(include=["robot grasping"]), actor="test", audience="vision")
    with built.uow() as uow:
        vision = uow.session.scalars(select(Audience).where(Audience.name == "vision")).one()
        uow.session.add(
            Subscription(audience_id=vision.id, platform="slack", workspace_id="T1", channel_id="C-vision")
        )
        uow.commit()
    yield built
    built.close()


def _total(points: tuple[TrendPoint, ...]) -> int:
    return sum(p.count for p in points)


def test_each_audience_s_topic_names_its_own_phrases(container: Container) -> None:
    archive = ArchiveService(container)
    end = "2026-10"
    assert _total(archive.trend("topic:agents", end_month=end).points) == 3
    assert _total(archive.trend("topic:agents", end_month=end, audience="vision").points) == 1
    vision_hits = archive.search("topic:agents", audience="vision").hits
    assert [h.arxiv_id for h in vision_hits] == ["2610.00009"]
    assert {h.arxiv_id for h in archive.search("topic:agents").hits} == {f"2610.0000{i}" for i in (1, 2, 3)}


async def test_chat_uses_the_channel_s_audience(container: Container) -> None:
    chat = ChatService(container)
    in_vision = await chat.handle(VISION_CHANNEL, c.Search("topic:agents"))
    assert in_vision.search is not None
    assert [h.arxiv_id for h in in_vision.search.hits] == ["2610.00009"]
    elsewhere = await chat.handle(GENERAL_CHANNEL, c.Search("topic:agents"))
    assert elsewhere.search is not None
    assert len(elsewhere.search.hits) == 3
    chart = await chat.handle(VISION_CHANNEL, c.Chart("topic:agents", months=1))
    assert chart.trend is not None
    assert [p.count for p in chart.trend.points] == [1]


def test_cli_takes_the_audience(container: Container, db_url: str) -> None:
    runner = CliRunner()
    env = {"TRENDS_DATABASE_URL": db_url, "COLUMNS": "200"}
    vision = runner.invoke(app, ["search", "topic:agents", "-a", "vision"], env=env)
    assert vision.exit_code == 0, vision.output
    assert "Robot grasping agents" in vision.output
    assert "Tool calling" not in vision.output
    trend = runner.invoke(app, ["trend", "topic:agents", "--audience", "vision", "--months", "1"], env=env)
    assert trend.exit_code == 0, trend.output
    assert "2026-10 │      1" in trend.output
    unknown = runner.invoke(app, ["search", "topic:agents", "-a", "nobody"], env=env)
    assert unknown.exit_code == 1
    assert "There is no audience “nobody”" in unknown.output
