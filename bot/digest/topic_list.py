"""An audience's topics as `TopicView`s, read with plain SQL (`bot.db.reader`).

`TopicService.list_topics` reads through it after seeding, and `trends topics list` reads through it
straight from the driver (`bot.db.dbapi`) when there is nothing to seed: one query, both paths.
"""

from __future__ import annotations

from bot.audience_lookup import audience_id_if_exists
from bot.db.reader import SqlReader, as_bool, as_str_list

from .views import TopicView

_TOPICS = (
    "SELECT id, name, description, include_phrases, exclude_phrases, example_ids, weight, enabled "
    "FROM topics WHERE audience_id = :audience ORDER BY name"
)


def read_topics(reader: SqlReader, audience: int, *, enabled_only: bool = False) -> list[TopicView]:
    """The audience's topics by name (none when it was never seeded)."""
    views = [
        TopicView(
            id=int(topic_id),
            name=str(name),
            description=str(description or ""),
            include=as_str_list(include),
            exclude=as_str_list(exclude),
            examples=as_str_list(examples),
            weight=float(weight),
            enabled=as_bool(enabled),
        )
        for topic_id, name, description, include, exclude, examples, weight, enabled in reader.rows(
            _TOPICS, {"audience": audience}
        )
    ]
    return [view for view in views if view.enabled or not enabled_only]


def topics_if_seeded(reader: SqlReader, audience: str | None) -> list[TopicView] | None:
    """The named audience's topics, or None when `TopicService` must answer: the audience is unknown
    (its error lists the others) or has no topics yet (it seeds them)."""
    scope = audience_id_if_exists(reader, audience)
    if scope is None:
        return None
    return read_topics(reader, scope) or None
