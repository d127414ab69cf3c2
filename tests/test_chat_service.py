"""The chat core end to end on a real database: permissions, replies, preview and publish."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from bot.bootstrap import Container, build
from bot.chat import commands as c
from bot.chat.service import ChatService
from bot.db.models import Digest, Subscription, Topic
from bot.invocation import Invocation
from bot.settings import load_settings
from tests.factories import make_paper
from tests.fakes.posters import FakePlatform

MONTH = "2026-10"
ADMIN = Invocation("slack", "T1", "C1", "UADMIN", is_platform_admin=True)
MEMBER = Invocation("slack", "T1", "C1", "UMEMBER")
LISTED_ADMIN = Invocation("slack", "T1", "C1", "ULISTED")

ABSTRACTS = [
    (
        "Tool-using language model agents for web tasks",
        "Large language model agents struggle with long web tasks. We propose a planner that decomposes "
        "tasks into tool calls. Our agent improves success rate by 12% on WebArena.",
    ),
    (
        "Faster diffusion sampling with consistency distillation",
        "Diffusion models are slow at inference because sampling needs many steps. We distill a consistency "
        "model that samples images in two steps. It matches FID of 50-step samplers on ImageNet.",
    ),
    (
        "Chain-of-thought reasoning with verifiers",
        "Reasoning in large language models remains brittle. We train a verifier that scores chains of "
        "thought. Accuracy on GSM8K rises from 71% to 84%.",
    ),
    (
        "Retrieval-augmented generation for long documents",
        "Retrieval augmented generation fails on long documents. We introduce hierarchical retrieval. "
        "It improves answer accuracy by 9 points on three benchmarks.",
    ),
]


@pytest.fixture
def container(db_url: str) -> Iterator[Container]:
    built = build(load_settings(database_url=db_url, admin_user_ids=["ULISTED"], digest_size=3))
    with built.uow() as uow:
        for i, (title, abstract) in enumerate(ABSTRACTS, start=1):
            uow.session.add(
                make_paper(
                    f"2610.{i:05d}",
                    title=title,
                    abstract=abstract,
                    submitted=dt.datetime(2026, 10, i + 1, 12, tzinfo=dt.UTC),
                )
            )
        uow.commit()
    yield built
    built.close()


def _count(container: Container, model: type) -> int:
    with container.uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def test_help_shows_admin_commands_only_to_admins(container: Container) -> None:
    chat = ChatService(container)
    member = await chat.handle(MEMBER, c.Help())
    admin = await chat.handle(ADMIN, c.Help())
    assert "/trends publish" not in member.text
    assert "/trends publish" in admin.text
    assert "/trends <query>" in member.text


@pytest.mark.parametrize(
    "command",
    [
        c.Subscribe(),
        c.Unsubscribe(),
        c.Preview(MONTH),
        c.Publish(MONTH),
        c.parse_command("topics add Robotics include=robot"),
        c.parse_command("topics remove Agents"),
        c.parse_command("topics disable Agents"),
        c.parse_command("topics edit Agents weight=3"),
    ],
)
async def test_members_are_refused_and_nothing_changes(container: Container, command: c.Command) -> None:
    chat = ChatService(container, posters={"slack": FakePlatform()})
    await chat.handle(MEMBER, c.TopicsList())  # seeds the default topics, as any first use does
    before = (_count(container, Subscription), _count(container, Digest), _count(container, Topic))
    with container.uow() as uow:
        weights_before = sorted(uow.session.scalars(select(Topic.weight)).all())
    reply = await chat.handle(MEMBER, command)
    assert reply.kind == "error"
    assert "only workspace admins" in reply.text
    assert (_count(container, Subscription), _count(container, Digest), _count(container, Topic)) == before
    with container.uow() as uow:
        assert sorted(uow.session.scalars(select(Topic.weight)).all()) == weights_before


async def test_admin_ids_from_settings_count_as_admins(container: Container) -> None:
    reply = await ChatService(container).handle(LISTED_ADMIN, c.Subscribe())
    assert reply.kind == "text"
    assert _count(container, Subscription) == 1


async def test_search_and_hostile_queries_reply_without_errors(container: Container) -> None:
    chat = ChatService(container)
    reply = await chat.handle(MEMBER, c.parse_command("diffusion sampling"))
    assert reply.kind == "search"
    assert reply.search is not None
    assert reply.search.hits[0].title.startswith("Faster diffusion")
    assert "Faster diffusion" in reply.text
    for text in ['"; DROP TABLE papers; --', "NEAR(agents", "🚀" * 50, "x" * 5000, '"unbalanced']:
        hostile = await chat.handle(MEMBER, c.parse_command(text))
        assert hostile.kind in ("search", "error"), text
        assert hostile.text
    assert _count(container, Topic) >= 0  # the database is still there and answering


async def test_topics_add_then_list(container: Container) -> None:
    chat = ChatService(container)
    added = await chat.handle(ADMIN, c.parse_command('topics add "Robot learning" include="robot, grasping"'))
    assert added.kind == "text", added.text
    listed = await chat.handle(MEMBER, c.TopicsList())
    assert "Robot learning" in [t.name for t in listed.topics]
    duplicate = await chat.handle(ADMIN, c.parse_command('topics add "robot learning"'))
    assert duplicate.kind == "error"


async def test_preview_then_publish_posts_the_thread_once(container: Container) -> None:
    platform = FakePlatform()
    chat = ChatService(container, posters={"slack": platform})
    assert (await chat.handle(ADMIN, c.Subscribe())).kind == "text"
    preview = await chat.handle(ADMIN, c.Preview(MONTH))
    assert preview.kind == "digest"
    assert preview.digest is not None
    assert preview.digest.status == "draft"
    assert len(preview.digest.picks) == 3
    assert platform.calls == 0  # a preview posts nothing

    published = await chat.handle(ADMIN, c.Publish(MONTH))
    assert published.kind == "published", published.text
    assert published.report is not None
    assert published.report.ok
    assert len(platform.channels["C1"]) == 1 + 3
    again = await chat.handle(ADMIN, c.Publish(MONTH))
    assert again.kind == "published"
    assert len(platform.channels["C1"]) == 1 + 3

    latest = await chat.handle(MEMBER, c.Latest())
    assert latest.digest is not None
    assert latest.digest.status == "published"
    issue = await chat.handle(MEMBER, c.Issue(MONTH))
    assert issue.digest is not None
    assert issue.digest.month == MONTH
    issues = await chat.handle(MEMBER, c.Issues())
    assert [i.month for i in issues.issues] == [MONTH]


async def test_unknown_month_and_bad_month_are_friendly(container: Container) -> None:
    chat = ChatService(container)
    missing = await chat.handle(MEMBER, c.Issue("2020-01"))
    assert missing.kind == "error"
    bad = await chat.handle(MEMBER, c.Issue("october"))
    assert bad.kind == "error"
    assert "YYYY-MM" in bad.text or "2026-10" in bad.text


async def test_chart_returns_png(container: Container) -> None:
    reply = await ChatService(container).handle(MEMBER, c.Chart("diffusion"))
    assert reply.kind == "chart"
    assert reply.chart_png is not None
    assert reply.chart_png.startswith(b"\x89PNG")


async def test_a_chart_of_no_words_is_the_hint_not_a_chart_of_zeros(container: Container) -> None:
    reply = await ChatService(container).handle(MEMBER, c.Chart("🤖"))
    assert reply.kind == "chart"
    assert not reply.chart_png
    assert reply.text == "Type a few words to draw a trend, e.g. `diffusion video`."
    assert "diffusion" in reply.text


async def test_a_month_that_is_not_over_cannot_be_published(container: Container) -> None:
    platform = FakePlatform()
    october_15 = dt.datetime(2026, 10, 15, 12, tzinfo=dt.UTC)
    chat = ChatService(container, posters={"slack": platform}, clock=lambda: october_15)
    await chat.handle(ADMIN, c.Subscribe())
    refused = await chat.handle(ADMIN, c.Publish(MONTH))
    assert refused.kind == "error"
    assert "isn't over yet" in refused.text
    assert platform.calls == 0
    assert _count(container, Digest) == 0
    preview = await chat.handle(ADMIN, c.Preview(MONTH))  # a preview is fine, and stays a draft
    assert preview.digest is not None
    assert preview.digest.status == "draft"
