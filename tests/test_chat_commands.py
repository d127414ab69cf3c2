"""The one-line `/trends …` parser: every known form, and hostile text never escapes as a crash."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.chat import commands as c
from bot.errors import ValidationError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", c.Help()),
        ("help", c.Help()),
        ("latest", c.Latest()),
        ("issues", c.Issues()),
        ("issue 2026-10", c.Issue("2026-10")),
        ("issue", c.Issue("latest")),
        ("diffusion models", c.Search("diffusion models")),
        ("search diffusion", c.Search("diffusion")),
        ("latest diffusion models", c.Search("latest diffusion models")),
        ("chart diffusion", c.Chart("diffusion")),
        ("topics", c.TopicsList()),
        ("topics list", c.TopicsList()),
        ("topics remove Agents", c.TopicsRemove("Agents")),
        ('topics disable "Robot learning"', c.TopicsDisable("Robot learning")),
        ("subscribe", c.Subscribe()),
        ("unsubscribe", c.Unsubscribe()),
        ("preview", c.Preview(None)),
        ("publish 2026-10", c.Publish("2026-10")),
    ],
)
def test_known_forms(text: str, expected: c.Command) -> None:
    assert c.parse_command(text) == expected


def test_topics_add_with_options() -> None:
    command = c.parse_command(
        'topics add "Robot learning" include="robot learning, manipulation" include=grasping '
        'exclude=survey weight=1.5 description="Robots that learn" example=2410.01234'
    )
    assert isinstance(command, c.TopicsAdd)
    draft = command.draft
    assert draft.name == "Robot learning"
    assert tuple(draft.include) == ("robot learning", "manipulation", "grasping")
    assert tuple(draft.exclude) == ("survey",)
    assert draft.weight == 1.5
    assert draft.description == "Robots that learn"
    assert tuple(draft.examples) == ("2410.01234",)


def test_topics_edit_leaves_unset_fields_alone() -> None:
    command = c.parse_command("topics edit Agents weight=2 rename=Agentic")
    assert isinstance(command, c.TopicsEdit)
    assert command.name == "Agents"
    assert command.changes.weight == 2.0
    assert command.changes.name == "Agentic"
    assert command.changes.include is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('topics add "Unclosed', "Unbalanced quotes"),
        ("topics add include=x", "Name the topic"),
        ("topics add X weight=heavy", "weight must be a number"),
        ("topics add X colour=red", "Unknown option"),
        ("topics frobnicate X", "Unknown topics action"),
        ("topics remove", "Name the topic"),
        ("chart", "Say what to chart"),
        ("topics add X rename=Y", "rename="),
    ],
)
def test_mistakes_get_a_helpful_message(text: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        c.parse_command(text)


@pytest.mark.parametrize(
    "text",
    [
        '"; DROP TABLE papers; --',
        "NEAR(diffusion model, 3) OR title:* AND (",
        "🚀🔥 diffusion 🤖",
        "x" * 5000,
        "a\x00b",
        "‮evil‬ \u200b zero width",
    ],
)
def test_hostile_text_becomes_a_search(text: str) -> None:
    command = c.parse_command(text)
    assert isinstance(command, c.Search)
    assert len(command.query) <= c.MAX_COMMAND_CHARS
    assert "\x00" not in command.query


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_parser_never_raises_anything_but_validation_error(text: str) -> None:
    message = None
    try:
        command: c.Command | None = c.parse_command(text)
    except ValidationError as exc:
        command, message = None, str(exc)
    assert command is not None or message


def test_admin_commands_are_marked() -> None:
    assert c.is_admin_command(c.parse_command("publish"))
    assert c.is_admin_command(c.parse_command("topics add X"))
    assert not c.is_admin_command(c.parse_command("topics"))
    assert not c.is_admin_command(c.parse_command("diffusion"))
