"""The topics admins configure: listing, adding, editing, removing, enabling and disabling them.

Every change is validated here, whatever edge it came from (CLI, Slack, Discord), and logged with the
acting user. Topics belong to an audience (`bot.audiences`; `None` means `default`). An audience
without topics is seeded once from `trends.toml` (`[[topics]]`) or, when none are configured, from the
ranking module's `DEFAULT_TOPICS`; the last topic can't be removed (disable it instead), so an
emptied audience never re-seeds behind an admin's back.
"""

from __future__ import annotations

import difflib
import logging
import math
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.arxiv_ids import parse_arxiv_id
from bot.audiences import audience_id
from bot.db.models import Topic
from bot.db.session_reader import SessionReader
from bot.db.uow import UnitOfWork
from bot.errors import ConfigError, ConflictError, NotFoundError, ValidationError
from bot.ranking.types import TopicSpec
from bot.settings import Settings, TopicSeed

from .topic_list import read_topics
from .views import TopicView

log = logging.getLogger(__name__)

MAX_NAME_CHARS = 64
MAX_DESCRIPTION_CHARS = 500
MAX_PHRASES = 30
MAX_PHRASE_CHARS = 80
MAX_EXAMPLES = 20
MAX_WEIGHT = 10.0


@dataclass(frozen=True, slots=True)
class TopicDraft:
    """A topic as an admin typed it (not yet validated)."""

    name: str
    description: str = ""
    include: Sequence[str] = ()
    exclude: Sequence[str] = ()
    examples: Sequence[str] = ()
    weight: float = 1.0
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class TopicChanges:
    """An edit: `None` leaves a field as it is; a sequence replaces the whole list."""

    name: str | None = None
    description: str | None = None
    include: Sequence[str] | None = None
    exclude: Sequence[str] | None = None
    examples: Sequence[str] | None = None
    weight: float | None = None


def _printable(text: str) -> str:
    """Collapse whitespace and drop control characters (a pasted name may carry them)."""
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch in " \t\n")
    return " ".join(kept.split())


def clean_name(name: str) -> str:
    cleaned = _printable(name)
    if not cleaned:
        raise ValidationError("A topic needs a name, e.g. “Agents”.")
    if len(cleaned) > MAX_NAME_CHARS:
        raise ValidationError(
            f"Topic names are at most {MAX_NAME_CHARS} characters (this one has {len(cleaned)})."
        )
    return cleaned


def clean_description(description: str) -> str:
    cleaned = _printable(description)
    if len(cleaned) > MAX_DESCRIPTION_CHARS:
        raise ValidationError(
            f"A topic description is at most {MAX_DESCRIPTION_CHARS} characters (got {len(cleaned)})."
        )
    return cleaned


def clean_phrases(phrases: Iterable[str], kind: str) -> list[str]:
    """Trimmed, de-duplicated (case-insensitively) phrases, within the count and length limits."""
    seen: set[str] = set()
    cleaned: list[str] = []
    for raw in phrases:
        phrase = _printable(raw)
        if not phrase:
            continue
        if len(phrase) > MAX_PHRASE_CHARS:
            raise ValidationError(
                f"{kind.capitalize()} phrases are at most {MAX_PHRASE_CHARS} characters: "
                f"“{phrase[:40]}…” is {len(phrase)}."
            )
        key = phrase.casefold()
        if key not in seen:
            seen.add(key)
            cleaned.append(phrase)
    if len(cleaned) > MAX_PHRASES:
        raise ValidationError(f"A topic takes at most {MAX_PHRASES} {kind} phrases (got {len(cleaned)}).")
    return cleaned


def clean_examples(examples: Iterable[str]) -> list[str]:
    """Base arXiv ids of example papers (ids, `arXiv:` references or abs/pdf URLs are accepted)."""
    ids: list[str] = []
    for raw in examples:
        if not raw.strip():
            continue
        base = parse_arxiv_id(raw).base
        if base not in ids:
            ids.append(base)
    if len(ids) > MAX_EXAMPLES:
        raise ValidationError(f"A topic takes at most {MAX_EXAMPLES} example papers (got {len(ids)}).")
    return ids


def clean_weight(weight: float) -> float:
    if not isinstance(weight, int | float) or not math.isfinite(weight) or not 0 <= weight <= MAX_WEIGHT:
        raise ValidationError(f"A topic weight must be between 0 and {MAX_WEIGHT:g} (got {weight}).")
    return float(weight)


def to_view(topic: Topic) -> TopicView:
    return TopicView(
        id=topic.id,
        name=topic.name,
        description=topic.description,
        include=tuple(topic.include_phrases),
        exclude=tuple(topic.exclude_phrases),
        examples=tuple(topic.example_ids),
        weight=topic.weight,
        enabled=topic.enabled,
    )


def to_spec(topic: Topic) -> TopicSpec:
    """The ranking module's view of a stored topic."""
    return TopicSpec(
        name=topic.name,
        description=topic.description,
        include=tuple(topic.include_phrases),
        exclude=tuple(topic.exclude_phrases),
        examples=tuple(topic.example_ids),
        weight=topic.weight,
        enabled=topic.enabled,
    )


def _seed_drafts(settings: Settings) -> tuple[list[TopicDraft], str]:
    from bot.ranking import DEFAULT_TOPICS

    configured: Sequence[TopicSeed] = settings.topics
    if configured:
        return [
            TopicDraft(s.name, s.description, s.include, s.exclude, s.examples, s.weight, s.enabled)
            for s in configured
        ], "trends.toml"
    return [
        TopicDraft(t.name, t.description, t.include, t.exclude, t.examples, t.weight, t.enabled)
        for t in DEFAULT_TOPICS
    ], "the built-in defaults"


def ensure_seeded(session: Session, settings: Settings, audience: int) -> None:
    """Give an audience without topics the configured or default ones (in the caller's unit of work)."""
    if session.scalar(select(Topic.id).where(Topic.audience_id == audience).limit(1)) is not None:
        return
    drafts, origin = _seed_drafts(settings)
    names: set[str] = set()
    for draft in drafts:
        try:
            topic = _new_topic(draft, audience)
        except ValidationError as exc:
            raise ConfigError(f"Topic “{draft.name[:64]}” in {origin} is invalid: {exc}") from None
        if topic.name.casefold() in names:
            continue
        names.add(topic.name.casefold())
        session.add(topic)
    session.flush()
    log.info("seeded %d topics from %s", len(names), origin)


def _new_topic(draft: TopicDraft, audience: int) -> Topic:
    return Topic(
        audience_id=audience,
        name=clean_name(draft.name),
        description=clean_description(draft.description),
        include_phrases=clean_phrases(draft.include, "include"),
        exclude_phrases=clean_phrases(draft.exclude, "exclude"),
        example_ids=clean_examples(draft.examples),
        weight=clean_weight(draft.weight),
        enabled=bool(draft.enabled),
    )


def load_topics(session: Session, settings: Settings, audience: int) -> list[Topic]:
    """An audience's topics by name, seeding first if it has none."""
    ensure_seeded(session, settings, audience)
    return list(session.scalars(select(Topic).where(Topic.audience_id == audience).order_by(Topic.name)))


def _find(session: Session, settings: Settings, name: str, audience: int) -> Topic:
    """The audience's topic named `name` (case-insensitive), or NotFoundError suggesting close names."""
    wanted = _printable(name).casefold()
    topics = load_topics(session, settings, audience)
    for topic in topics:
        if topic.name.casefold() == wanted:
            return topic
    by_folded = {t.name.casefold(): t.name for t in topics}
    close = difflib.get_close_matches(wanted, list(by_folded), n=3, cutoff=0.5)
    shown = _printable(name)[:64] or "(empty)"
    if close:
        hint = " or ".join(f"“{by_folded[c]}”" for c in close)
        raise NotFoundError(f"No topic named “{shown}”. Did you mean {hint}?")
    raise NotFoundError(f"No topic named “{shown}”. See `trends topics list` for the topics there are.")


def _check_unique(session: Session, name: str, audience: int, *, except_id: int | None = None) -> None:
    for topic_id, existing in session.execute(
        select(Topic.id, Topic.name).where(Topic.audience_id == audience)
    ):
        if existing.casefold() == name.casefold() and topic_id != except_id:
            raise ConflictError(f"A topic named “{existing}” already exists; pick another name or edit it.")


class TopicService:
    """Use cases over topics; each opens one unit of work and returns plain `TopicView`s."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], settings: Settings) -> None:
        self._uow_factory = uow_factory
        self._settings = settings

    def list_topics(self, *, enabled_only: bool = False, audience: str | None = None) -> list[TopicView]:
        with self._uow_factory() as uow:
            scope = audience_id(uow.session, audience)
            ensure_seeded(uow.session, self._settings, scope)
            # The query `trends topics list` also runs without SQLAlchemy (bot.db.dbapi).
            views = read_topics(SessionReader(uow.session), scope, enabled_only=enabled_only)
            uow.commit()  # keeps the seed, if one was needed
            return views

    def get(self, name: str, *, audience: str | None = None) -> TopicView:
        with self._uow_factory() as uow:
            topic = _find(uow.session, self._settings, name, audience_id(uow.session, audience))
            uow.commit()
            return to_view(topic)

    def add(self, draft: TopicDraft, *, actor: str, audience: str | None = None) -> TopicView:
        with self._uow_factory() as uow:
            scope = audience_id(uow.session, audience)
            ensure_seeded(uow.session, self._settings, scope)
            topic = _new_topic(draft, scope)
            _check_unique(uow.session, topic.name, scope)
            uow.session.add(topic)
            uow.session.flush()
            view = to_view(topic)
            uow.commit()
        log.info("topic %r added by %s", view.name, actor)
        return view

    def edit(self, name: str, changes: TopicChanges, *, actor: str, audience: str | None = None) -> TopicView:
        with self._uow_factory() as uow:
            scope = audience_id(uow.session, audience)
            topic = _find(uow.session, self._settings, name, scope)
            old_name = topic.name
            if changes.name is not None:
                new_name = clean_name(changes.name)
                _check_unique(uow.session, new_name, scope, except_id=topic.id)
                topic.name = new_name
            if changes.description is not None:
                topic.description = clean_description(changes.description)
            if changes.include is not None:
                topic.include_phrases = clean_phrases(changes.include, "include")
            if changes.exclude is not None:
                topic.exclude_phrases = clean_phrases(changes.exclude, "exclude")
            if changes.examples is not None:
                topic.example_ids = clean_examples(changes.examples)
            if changes.weight is not None:
                topic.weight = clean_weight(changes.weight)
            uow.session.flush()
            view = to_view(topic)
            uow.commit()
        log.info("topic %r edited by %s (now named %r)", old_name, actor, view.name)
        return view

    def remove(self, name: str, *, actor: str, audience: str | None = None) -> TopicView:
        with self._uow_factory() as uow:
            scope = audience_id(uow.session, audience)
            topic = _find(uow.session, self._settings, name, scope)
            remaining = uow.session.scalar(
                select(Topic.id).where(Topic.audience_id == scope, Topic.id != topic.id).limit(1)
            )
            if remaining is None:
                raise ConflictError(
                    f"“{topic.name}” is the last topic, and the ranking needs one: "
                    "add another topic first, or disable this one."
                )
            view = to_view(topic)
            uow.session.delete(topic)
            uow.commit()
        log.info("topic %r removed by %s", view.name, actor)
        return view

    def enable(self, name: str, *, actor: str, audience: str | None = None) -> TopicView:
        return self._set_enabled(name, True, actor=actor, audience=audience)

    def disable(self, name: str, *, actor: str, audience: str | None = None) -> TopicView:
        return self._set_enabled(name, False, actor=actor, audience=audience)

    def _set_enabled(self, name: str, enabled: bool, *, actor: str, audience: str | None) -> TopicView:
        with self._uow_factory() as uow:
            topic = _find(uow.session, self._settings, name, audience_id(uow.session, audience))
            topic.enabled = enabled
            uow.session.flush()
            view = to_view(topic)
            uow.commit()
        log.info("topic %r %s by %s", view.name, "enabled" if enabled else "disabled", actor)
        return view
