"""The `/trends` commands as data, and the parser for the one-line form Slack sends.

Slack delivers `/trends topics add Robotics include="robot learning"` as one string; Discord delivers
structured sub-commands and options. Both end up as one of the `Command` dataclasses below, which
`ChatService.handle` executes. Anything that is not a known sub-command is a search, so
`/trends diffusion models` just works. Parsing never raises anything but `ValidationError` with a
message that says how to write the command.

Admin commands name the audience they act on (`audience`, None: the channel's audience); in the
one-line form that is `audience=<name>` (or the bare name after `subscribe`, `preview`, `publish`).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from bot.digest.topics import TopicChanges, TopicDraft
from bot.errors import ValidationError

MAX_COMMAND_CHARS = 5000


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Search:
    query: str
    page: int = 1


@dataclass(frozen=True, slots=True)
class Chart:
    query: str
    months: int = 12


@dataclass(frozen=True, slots=True)
class Latest:
    pass


@dataclass(frozen=True, slots=True)
class Issue:
    month: str  # "2026-10" or "latest"
    audience: str | None = None  # None: the channel's audience


@dataclass(frozen=True, slots=True)
class Issues:
    pass


@dataclass(frozen=True, slots=True)
class TopicsList:
    audience: str | None = None


@dataclass(frozen=True, slots=True)
class TopicsAdd:
    draft: TopicDraft
    audience: str | None = None


@dataclass(frozen=True, slots=True)
class TopicsEdit:
    name: str
    changes: TopicChanges
    audience: str | None = None


@dataclass(frozen=True, slots=True)
class TopicsRemove:
    name: str
    audience: str | None = None


@dataclass(frozen=True, slots=True)
class TopicsEnable:
    name: str
    audience: str | None = None


@dataclass(frozen=True, slots=True)
class TopicsDisable:
    name: str
    audience: str | None = None


@dataclass(frozen=True, slots=True)
class Subscribe:
    # The audience the channel follows from now on (None: the one it follows, else `default`). A
    # platform admin naming an audience that does not exist creates it, owned by their workspace.
    audience: str | None = None


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    pass


@dataclass(frozen=True, slots=True)
class Preview:
    month: str | None = None
    audience: str | None = None


@dataclass(frozen=True, slots=True)
class Publish:
    month: str | None = None
    audience: str | None = None


Command = (
    Help
    | Search
    | Chart
    | Latest
    | Issue
    | Issues
    | TopicsList
    | TopicsAdd
    | TopicsEdit
    | TopicsRemove
    | TopicsEnable
    | TopicsDisable
    | Subscribe
    | Unsubscribe
    | Preview
    | Publish
)

ADMIN_COMMANDS: tuple[type, ...] = (
    TopicsAdd,
    TopicsEdit,
    TopicsRemove,
    TopicsEnable,
    TopicsDisable,
    Subscribe,
    Unsubscribe,
    Preview,
    Publish,
)

# Admin commands that act on an audience (all but `unsubscribe`, which acts on the caller's channel).
AUDIENCE_COMMANDS = (
    TopicsAdd,
    TopicsEdit,
    TopicsRemove,
    TopicsEnable,
    TopicsDisable,
    Subscribe,
    Preview,
    Publish,
)

# Usage lines for help, in the order shown; (usage, what it does, admin only).
USAGE: tuple[tuple[str, str, bool], ...] = (
    ("<query>", "search past digests and the paper archive, e.g. `diffusion author:Ho since:2026-01`", False),
    ("chart <query>", "monthly trend of a query over the last 12 months, as a chart", False),
    ("latest", "the latest digest", False),
    ("issue <YYYY-MM>", "the digest of a month", False),
    ("issues", "all past digests", False),
    ("topics [audience=<name>]", "the topics this channel's audience (or the named one) follows", False),
    (
        'topics add <name> include="a, b" exclude="c" weight=1.2 description="…" example=2410.01234',
        "add a topic",
        True,
    ),
    ("topics edit <name> <same options> rename=<new name>", "change a topic", True),
    ("topics remove|enable|disable <name>", "remove, enable or disable a topic", True),
    (
        "subscribe [audience] / unsubscribe",
        "this channel receives (or stops receiving) an audience's monthly digest",
        True,
    ),
    ("preview [YYYY-MM] [audience]", "build and show a draft digest, only to you", True),
    ("publish [YYYY-MM] [audience]", "publish a digest to every channel subscribed to its audience", True),
    ("help", "this help", False),
)

_TOPIC_KEYS = {
    "description": "description",
    "desc": "description",
    "include": "include",
    "exclude": "exclude",
    "example": "examples",
    "examples": "examples",
    "weight": "weight",
    "rename": "rename",
    "name": "rename",
}


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text, posix=True)
    except ValueError:
        raise ValidationError(
            'Unbalanced quotes. Put names with spaces in double quotes, e.g. `topics add "Robot learning"`.'
        ) from None


def _phrases(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))


def parse_topic_changes(tokens: list[str]) -> tuple[str, TopicChanges]:
    """Split `topics add/edit` arguments into the topic name and its key=value options."""
    name_parts: list[str] = []
    values: dict[str, str] = {}
    for token in tokens:
        key, sep, value = token.partition("=")
        if sep and key.casefold() in _TOPIC_KEYS:
            field_name = _TOPIC_KEYS[key.casefold()]
            if field_name in ("include", "exclude", "examples") and field_name in values:
                values[field_name] += "," + value
            else:
                values[field_name] = value
        elif sep and key:
            known = ", ".join(sorted(set(_TOPIC_KEYS.values())))
            raise ValidationError(f"Unknown option `{key[:30]}`. Options are: {known}.")
        else:
            name_parts.append(token)
    name = " ".join(name_parts).strip()
    if not name:
        raise ValidationError('Name the topic, e.g. `topics add "Robot learning" include="robot"`.')
    weight: float | None = None
    if "weight" in values:
        try:
            weight = float(values["weight"])
        except ValueError:
            raise ValidationError(
                f"weight must be a number, e.g. weight=1.5 (got {values['weight'][:20]!r})."
            ) from None
    changes = TopicChanges(
        name=values.get("rename"),
        description=values.get("description"),
        include=_phrases(values["include"]) if "include" in values else None,
        exclude=_phrases(values["exclude"]) if "exclude" in values else None,
        examples=_phrases(values["examples"]) if "examples" in values else None,
        weight=weight,
    )
    return name, changes


def draft_from(name: str, changes: TopicChanges) -> TopicDraft:
    """A new topic from `topics add` options (unset options take the defaults)."""
    if changes.name is not None:
        raise ValidationError("`rename=` is for `topics edit`.")
    return TopicDraft(
        name=name,
        description=changes.description or "",
        include=changes.include or (),
        exclude=changes.exclude or (),
        examples=changes.examples or (),
        weight=1.0 if changes.weight is None else changes.weight,
    )


def parse_command(text: str) -> Command:
    """Parse the text after `/trends`. Unknown words are a search; never raises but ValidationError."""
    text = text.replace("\x00", " ").strip()[:MAX_COMMAND_CHARS]
    if not text:
        return Help()
    head, _, rest = text.partition(" ")
    verb = head.casefold()
    rest = rest.strip()
    if verb in ("help", "-h", "--help", "?"):
        return Help()
    if verb == "latest" and not rest:
        return Latest()
    if verb == "issues" and not rest:
        return Issues()
    if verb == "issue":
        return Issue(rest.split()[0] if rest else "latest")
    if verb == "chart":
        if not rest:
            raise ValidationError("Say what to chart, e.g. `chart diffusion`.")
        return Chart(rest)
    if verb == "search":
        return Search(rest) if rest else Help()
    if verb == "unsubscribe" and not rest:
        return Unsubscribe()
    if verb == "subscribe":
        words = _split(rest)
        named, words = _audience_option(words)
        if len(words) > 1 or (named and words):
            raise ValidationError("Name one audience, e.g. `subscribe vision-team`.")
        return Subscribe(named or (words[0] if words else None))
    if verb in ("preview", "publish"):
        month, audience = _month_and_audience(_split(rest), verb)
        return Preview(month, audience) if verb == "preview" else Publish(month, audience)
    if verb == "topics" or verb == "topic":
        return _parse_topics(rest)
    return Search(text)


def _audience_option(tokens: list[str]) -> tuple[str | None, list[str]]:
    """Take `audience=<name>` out of the tokens."""
    audience: str | None = None
    kept = []
    for token in tokens:
        key, sep, value = token.partition("=")
        if sep and key.casefold() == "audience":
            if not value.strip():
                raise ValidationError("Write the audience's name after `audience=`, e.g. audience=vision.")
            audience = value.strip()
        else:
            kept.append(token)
    return audience, kept


def _month_and_audience(tokens: list[str], verb: str) -> tuple[str | None, str | None]:
    audience, tokens = _audience_option(tokens)
    month: str | None = None
    for token in tokens:
        if month is None and token[:1].isdigit():
            month = token
        elif audience is None:
            audience = token
        else:
            raise ValidationError(f"Write `{verb} [YYYY-MM] [audience]`, e.g. `{verb} 2026-10 vision`.")
    return month, audience


def _parse_topics(rest: str) -> Command:
    audience, tokens = _audience_option(_split(rest))
    if not tokens or (len(tokens) == 1 and tokens[0].casefold() == "list"):
        return TopicsList(audience)
    action = tokens[0].casefold()
    tokens = tokens[1:]
    if action in ("add", "edit"):
        name, changes = parse_topic_changes(tokens)
        if action == "add":
            return TopicsAdd(draft_from(name, changes), audience)
        return TopicsEdit(name, changes, audience)
    simple: dict[str, type[TopicsRemove | TopicsEnable | TopicsDisable]] = {
        "remove": TopicsRemove,
        "delete": TopicsRemove,
        "enable": TopicsEnable,
        "disable": TopicsDisable,
    }
    if action in simple:
        name = " ".join(tokens).strip()
        if not name:
            raise ValidationError(f"Name the topic, e.g. `topics {action} Agents`.")
        return simple[action](name, audience)
    raise ValidationError(
        "Unknown topics action. Use `topics`, `topics add`, `topics edit`, `topics remove`, "
        "`topics enable` or `topics disable`."
    )


def is_admin_command(command: Command) -> bool:
    return isinstance(command, ADMIN_COMMANDS)
