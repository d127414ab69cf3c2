"""Topics service: seeding, validation with clear errors, and each admin operation (both engines)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Topic
from bot.db.uow import UnitOfWork
from bot.digest.topics import MAX_PHRASES, TopicChanges, TopicDraft, TopicService
from bot.digest.views import TopicView
from bot.errors import ConfigError, ConflictError, NotFoundError, ValidationError
from bot.ranking import DEFAULT_TOPICS
from bot.settings import TopicSeed, load_settings

ACTOR = "test:admin"


@pytest.fixture
def service(db_url: str, session_factory: sessionmaker[Session]) -> TopicService:
    return TopicService(lambda: UnitOfWork(session_factory), load_settings(database_url=db_url))


def test_seeds_the_defaults_once(service: TopicService, session_factory: sessionmaker[Session]) -> None:
    topics = service.list_topics()
    assert sorted(t.name for t in topics) == sorted(t.name for t in DEFAULT_TOPICS)
    assert all(isinstance(t, TopicView) for t in topics)
    service.list_topics()
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Topic)) == len(DEFAULT_TOPICS)


def test_seeds_from_settings_when_configured(db_url: str, session_factory: sessionmaker[Session]) -> None:
    settings = load_settings(
        database_url=db_url,
        topics=[
            TopicSeed(name="Robotics", include=["robot learning"], examples=["arXiv:2410.01234v2"], weight=2),
            TopicSeed(name="Safety", enabled=False),
        ],
    )
    topics = TopicService(lambda: UnitOfWork(session_factory), settings).list_topics()
    assert [(t.name, t.include, t.examples, t.weight, t.enabled) for t in topics] == [
        ("Robotics", ("robot learning",), ("2410.01234",), 2.0, True),
        ("Safety", (), (), 1.0, False),
    ]


def test_invalid_seed_is_a_config_error(db_url: str, session_factory: sessionmaker[Session]) -> None:
    settings = load_settings(database_url=db_url, topics=[TopicSeed(name="Bad", examples=["not-an-id"])])
    with pytest.raises(ConfigError, match=r"Bad.*trends\.toml"):
        TopicService(lambda: UnitOfWork(session_factory), settings).list_topics()


def test_add_edit_enable_disable_remove(service: TopicService) -> None:
    added = service.add(
        TopicDraft(
            "  Robotics ",
            description="Robots that learn.",
            include=["robot learning", "manipulation", "Manipulation", ""],
            exclude=["survey"],
            examples=["2410.01234", "https://arxiv.org/abs/2410.01234v3"],
            weight=1.2,
        ),
        actor=ACTOR,
    )
    assert (added.name, added.include, added.examples, added.weight) == (
        "Robotics",
        ("robot learning", "manipulation"),
        ("2410.01234",),
        1.2,
    )
    edited = service.edit("robotics", TopicChanges(name="Robot learning", exclude=[], weight=0), actor=ACTOR)
    assert (edited.name, edited.exclude, edited.weight, edited.include) == (
        "Robot learning",
        (),
        0.0,
        ("robot learning", "manipulation"),
    )
    assert service.disable("ROBOT LEARNING", actor=ACTOR).enabled is False
    assert "Robot learning" not in [t.name for t in service.list_topics(enabled_only=True)]
    assert service.enable("robot learning", actor=ACTOR).enabled is True
    assert service.remove("Robot learning", actor=ACTOR).name == "Robot learning"
    assert "Robot learning" not in [t.name for t in service.list_topics()]


@pytest.mark.parametrize(
    ("draft", "message"),
    [
        (TopicDraft(""), "needs a name"),
        (TopicDraft(" \t\n "), "needs a name"),
        (TopicDraft("x" * 65), "at most 64 characters"),
        (TopicDraft("Ok", weight=-0.1), "between 0 and 10"),
        (TopicDraft("Ok", weight=10.5), "between 0 and 10"),
        (TopicDraft("Ok", weight=float("nan")), "between 0 and 10"),
        (TopicDraft("Ok", examples=["2410.01234", "robots"]), "'robots' is not an arXiv id"),
        (TopicDraft("Ok", include=[f"phrase {i}" for i in range(MAX_PHRASES + 1)]), "at most 30 include"),
        (TopicDraft("Ok", exclude=["w" * 81]), "at most 80 characters"),
        (TopicDraft("Ok", description="d" * 501), "at most 500 characters"),
    ],
)
def test_invalid_topics_are_refused(service: TopicService, draft: TopicDraft, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        service.add(draft, actor=ACTOR)


def test_duplicate_names_are_refused_case_insensitively(service: TopicService) -> None:
    service.add(TopicDraft("Robotics"), actor=ACTOR)
    with pytest.raises(ConflictError, match="“Robotics” already exists"):
        service.add(TopicDraft("ROBOTICS"), actor=ACTOR)
    service.add(TopicDraft("Quantum chemistry"), actor=ACTOR)
    with pytest.raises(ConflictError, match="already exists"):
        service.edit("quantum chemistry", TopicChanges(name="robotics"), actor=ACTOR)


def test_unknown_topic_suggests_close_names(service: TopicService) -> None:
    service.add(TopicDraft("Robotics"), actor=ACTOR)
    with pytest.raises(NotFoundError, match="Did you mean “Robotics”"):
        service.edit("Robotcs", TopicChanges(weight=2), actor=ACTOR)
    with pytest.raises(NotFoundError, match="trends topics list"):
        service.remove("zzzzzzzzzzzz", actor=ACTOR)


def test_the_last_topic_cannot_be_removed(db_url: str, session_factory: sessionmaker[Session]) -> None:
    settings = load_settings(database_url=db_url, topics=[TopicSeed(name="Only")])
    service = TopicService(lambda: UnitOfWork(session_factory), settings)
    with pytest.raises(ConflictError, match="last topic"):
        service.remove("Only", actor=ACTOR)
    assert [t.name for t in service.list_topics()] == ["Only"]


@pytest.mark.parametrize(
    "name", ["'; DROP TABLE topics; --", 'Agents "NEAR(" *', "🤖 Robots 🦾", "Ünïcödé tópic"]
)
def test_hostile_names_are_stored_literally(service: TopicService, name: str) -> None:
    assert service.add(TopicDraft(name, include=[name]), actor=ACTOR).name == name
    assert service.get(name.upper()).name == name


def test_a_failed_edit_changes_nothing(service: TopicService) -> None:
    service.add(TopicDraft("Robotics", include=["robot"]), actor=ACTOR)
    with pytest.raises(ValidationError):
        service.edit("Robotics", TopicChanges(include=["arm"], weight=99), actor=ACTOR)
    assert service.get("Robotics").include == ("robot",)
