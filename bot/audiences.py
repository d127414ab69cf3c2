"""Audiences, who owns them, and who may administer them: one policy for the CLI, Slack and Discord.

An audience is a named team (`default`, `vision`, `nlp`…) with its own topics, subscribed channels,
digests and votes. Its owners are Slack workspaces / Discord servers: a platform admin (Slack
workspace admin or owner, Discord Manage Server) administers exactly the audiences their workspace
owns. Deployment admins (`TRENDS_ADMIN_USER_IDS`, "slack:T123:U456" / "discord:GUILD:USER")
administer every audience. `authorize` is called by the chat core before every admin command, and a
refusal raises `PermissionDeniedError` saying why, before anything changes.

`default` is the one audience that may be without owners (a fresh deployment, or one migrated
before any channel subscribed): the first platform admin who administers it claims it for their
workspace, which is how a single-team deployment keeps working as it always did. Once owned, other
workspaces need a deployment admin to add them (`trends audiences owners add`). Set
`TRENDS_ALLOWED_WORKSPACES` so that no uninvited workspace can be the first.

A channel follows one audience: its subscription's, else `default`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.audience_lookup import DEFAULT_AUDIENCE as DEFAULT_AUDIENCE  # re-exported: its old home
from bot.audience_lookup import audience_id_if_exists
from bot.db.models import Audience, AudienceOwner, Digest, Subscription, Topic, utcnow
from bot.db.session_reader import SessionReader
from bot.db.uow import UnitOfWork
from bot.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from bot.invocation import Invocation
from bot.settings import Settings

log = logging.getLogger(__name__)

PLATFORMS = ("slack", "discord")
MAX_NAME_CHARS = 40
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_ID = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


def clean_audience_name(name: str) -> str:
    """A lower-case slug: letters, digits, '-' and '_', at most 40 characters."""
    cleaned = name.strip().casefold()
    if not _NAME.fullmatch(cleaned):
        shown = name.strip()[:MAX_NAME_CHARS] or "(empty)"
        raise ValidationError(
            f"“{shown}” is not an audience name: use 1–{MAX_NAME_CHARS} lower-case letters, digits, "
            "'-' or '_', starting with a letter or digit (e.g. vision-team)."
        )
    return cleaned


@dataclass(frozen=True, slots=True, order=True)
class Workspace:
    """A Slack workspace (team id) or Discord server (guild id)."""

    platform: str
    workspace_id: str

    @classmethod
    def parse(cls, text: str) -> Workspace:
        """Parse "slack:T0123" or "discord:1234567890"."""
        platform, sep, workspace = text.strip().partition(":")
        platform = platform.casefold()
        if not sep or platform not in PLATFORMS or not _ID.fullmatch(workspace):
            raise ValidationError(
                f"“{text.strip()[:80]}” is not a workspace: write slack:<team id> or discord:<server id>."
            )
        return cls(platform, workspace)

    def __str__(self) -> str:
        return f"{self.platform}:{self.workspace_id}"


@dataclass(frozen=True, slots=True)
class AudienceView:
    id: int
    name: str
    owners: tuple[Workspace, ...]
    topics: int
    subscriptions: int
    digests: int


@dataclass(frozen=True, slots=True)
class DeploymentAdmins:
    """`TRENDS_ADMIN_USER_IDS`: "platform:workspace:user" entries, plus deprecated bare user ids."""

    qualified: frozenset[tuple[str, str, str]]
    legacy: frozenset[str]

    @classmethod
    def from_settings(cls, settings: Settings) -> DeploymentAdmins:
        qualified: set[tuple[str, str, str]] = set()
        legacy: set[str] = set()
        for entry in settings.admin_user_ids:
            parts = entry.split(":")
            if len(parts) == 3:
                qualified.add((parts[0].casefold(), parts[1], parts[2]))
            else:
                legacy.add(entry)
        return cls(frozenset(qualified), frozenset(legacy))

    def __contains__(self, inv: object) -> bool:
        if not isinstance(inv, Invocation):
            return False
        if (inv.platform, inv.workspace_id, inv.user_id) in self.qualified:
            return True
        # Deprecated (see bot/settings.py): a bare id is that user id in any workspace, as before.
        return inv.user_id in self.legacy


# ------------------------------------------------------------------------------ session helpers


def default_audience_id(session: Session) -> int:
    """The id of `default` (created here if missing: migration 0006 makes it, an emptied table not)."""
    query = select(Audience.id).where(Audience.name == DEFAULT_AUDIENCE)
    found = session.scalar(query)
    if found is not None:
        return int(found)
    bind = session.get_bind()
    if not isinstance(bind, Engine):  # a session bound to a connection: create it in its transaction
        audience = Audience(name=DEFAULT_AUDIENCE, created_by="bot")
        session.add(audience)
        session.flush()
        return audience.id
    # Created in a transaction of its own, committed at once: an uncommitted row in the caller's
    # transaction would make every concurrent use case wait on it (two at once would deadlock).
    try:
        with bind.begin() as conn:
            conn.execute(
                insert(Audience).values(name=DEFAULT_AUDIENCE, created_by="bot", created_at=utcnow())
            )
    except IntegrityError:
        pass  # another use case created it meanwhile
    return int(session.scalars(query).one())


def audience_id(session: Session, name: str | None) -> int:
    """The id of the audience named `name` (None: `default`); NotFoundError listing the others."""
    if name is None or name.strip().casefold() == DEFAULT_AUDIENCE:
        return default_audience_id(session)
    wanted = name.strip().casefold()
    # The light commands' lookup (no SQLAlchemy), so both read a name the same way.
    found = audience_id_if_exists(SessionReader(session), wanted)
    if found is None:
        names = list(session.scalars(select(Audience.name).order_by(Audience.name).limit(20)))
        shown = ", ".join(names) or DEFAULT_AUDIENCE
        raise NotFoundError(f"There is no audience “{wanted[:MAX_NAME_CHARS]}”. Audiences: {shown}.")
    return found


def channel_audience(session: Session, platform: str, workspace_id: str, channel_id: str) -> str:
    """The audience a channel follows: its active subscription's, else `default`."""
    name = session.scalar(
        select(Audience.name)
        .join(Subscription, Subscription.audience_id == Audience.id)
        .where(
            Subscription.platform == platform,
            Subscription.workspace_id == workspace_id,
            Subscription.channel_id == channel_id,
            Subscription.active.is_(True),
        )
    )
    return str(name) if name is not None else DEFAULT_AUDIENCE


def _owners(session: Session, audience: int) -> list[Workspace]:
    rows = session.execute(
        select(AudienceOwner.platform, AudienceOwner.workspace_id)
        .where(AudienceOwner.audience_id == audience)
        .order_by(AudienceOwner.id)
    )
    return [Workspace(platform, workspace) for platform, workspace in rows]


def _view(session: Session, audience: Audience) -> AudienceView:
    def count(model: type[Topic] | type[Subscription] | type[Digest], *extra: object) -> int:
        query = select(func.count()).select_from(model).where(model.audience_id == audience.id, *extra)  # type: ignore[arg-type]
        return int(session.scalar(query) or 0)

    return AudienceView(
        id=audience.id,
        name=audience.name,
        owners=tuple(Workspace(o.platform, o.workspace_id) for o in audience.owners),
        topics=count(Topic),
        subscriptions=count(Subscription, Subscription.active.is_(True)),
        digests=count(Digest),
    )


class AudienceService:
    """Use cases over audiences and their owners, and the admin check every admin command goes through."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork], settings: Settings) -> None:
        self._uow_factory = uow_factory
        self._settings = settings
        self.deployment_admins = DeploymentAdmins.from_settings(settings)

    # ---------------------------------------------------------------- reading

    def list_audiences(self) -> list[AudienceView]:
        with self._uow_factory() as uow:
            default_audience_id(uow.session)
            rows = uow.session.scalars(
                select(Audience).options(selectinload(Audience.owners)).order_by(Audience.name)
            ).all()
            views = [_view(uow.session, row) for row in rows]
            uow.commit()
        return views

    def get(self, name: str) -> AudienceView:
        with self._uow_factory() as uow:
            row = uow.session.get_one(Audience, audience_id(uow.session, name))
            view = _view(uow.session, row)
            uow.commit()
        return view

    def of_channel(self, platform: str, workspace_id: str, channel_id: str) -> str:
        with self._uow_factory() as uow:
            return channel_audience(uow.session, platform, workspace_id, channel_id)

    def names(self) -> list[str]:
        with self._uow_factory() as uow:
            default_audience_id(uow.session)
            names = list(uow.session.scalars(select(Audience.name).order_by(Audience.name)))
            uow.commit()
        return names

    # ---------------------------------------------------------------- changing

    def create(self, name: str, owners: Iterable[Workspace] = (), *, actor: str) -> AudienceView:
        cleaned = clean_audience_name(name)
        try:
            with self._uow_factory() as uow:
                default_audience_id(uow.session)
                if uow.session.scalar(select(Audience.id).where(Audience.name == cleaned)) is not None:
                    raise ConflictError(f"An audience named “{cleaned}” already exists.")
                audience = Audience(name=cleaned, created_by=actor[:128])
                for owner in dict.fromkeys(owners):
                    audience.owners.append(
                        AudienceOwner(platform=owner.platform, workspace_id=owner.workspace_id)
                    )
                uow.session.add(audience)
                uow.session.flush()
                view = _view(uow.session, audience)
                uow.commit()
        except IntegrityError:  # created by someone else between our check and our insert
            raise ConflictError(f"An audience named “{cleaned}” already exists.") from None
        log.info("audience %r created by %s, owners %s", cleaned, actor, [str(o) for o in view.owners])
        return view

    def delete(self, name: str, *, actor: str) -> AudienceView:
        """Delete an audience with its topics, drafts and subscriptions; refused for `default` and
        for an audience with published digests (the archive keeps them)."""
        with self._uow_factory() as uow:
            session = uow.session
            audience = session.get_one(Audience, audience_id(session, name))
            if audience.name == DEFAULT_AUDIENCE:
                raise ConflictError("The `default` audience can't be deleted: channels fall back to it.")
            published = session.scalar(
                select(func.count())
                .select_from(Digest)
                .where(Digest.audience_id == audience.id, Digest.status == "published")
            )
            if published:
                raise ConflictError(
                    f"“{audience.name}” has {published} published digest(s), which the archive keeps; "
                    "it can't be deleted. Unsubscribe its channels instead."
                )
            view = _view(session, audience)
            session.delete(audience)
            uow.commit()
        log.info("audience %r deleted by %s", view.name, actor)
        return view

    def add_owner(self, name: str, owner: Workspace, *, actor: str) -> AudienceView:
        with self._uow_factory() as uow:
            audience = uow.session.get_one(Audience, audience_id(uow.session, name))
            if owner in _owners(uow.session, audience.id):
                raise ConflictError(f"{owner} already owns “{audience.name}”.")
            audience.owners.append(AudienceOwner(platform=owner.platform, workspace_id=owner.workspace_id))
            uow.session.flush()
            view = _view(uow.session, audience)
            uow.commit()
        log.info("audience %r: owner %s added by %s", view.name, owner, actor)
        return view

    def remove_owner(self, name: str, owner: Workspace, *, actor: str) -> AudienceView:
        with self._uow_factory() as uow:
            audience = uow.session.get_one(Audience, audience_id(uow.session, name))
            row = next(
                (
                    o
                    for o in audience.owners
                    if (o.platform, o.workspace_id) == (owner.platform, owner.workspace_id)
                ),
                None,
            )
            if row is None:
                raise NotFoundError(f"{owner} does not own “{audience.name}”.")
            audience.owners.remove(row)
            uow.session.flush()
            view = _view(uow.session, audience)
            uow.commit()
        log.info("audience %r: owner %s removed by %s", view.name, owner, actor)
        return view

    # ---------------------------------------------------------------- the admin check

    def is_deployment_admin(self, inv: Invocation) -> bool:
        return inv in self.deployment_admins

    def administers_any(self, inv: Invocation) -> bool:
        """May see admin help: a deployment admin, or a platform admin (of whatever they own)."""
        return inv.is_platform_admin or self.is_deployment_admin(inv)

    def authorize(self, inv: Invocation, name: str) -> None:
        """Raise `PermissionDeniedError` (saying why) unless `inv` may administer audience `name`."""
        if self.is_deployment_admin(inv):
            return
        if not inv.is_platform_admin:
            raise PermissionDeniedError(
                "Sorry, only workspace admins can do that. Ask an admin, or try `/trends help`."
            )
        here = Workspace(inv.platform, inv.workspace_id)
        with self._uow_factory() as uow:
            audience = uow.session.get_one(Audience, audience_id(uow.session, name))
            owners = _owners(uow.session, audience.id)
            if here in owners:
                return
            if not owners and audience.name == DEFAULT_AUDIENCE:
                # First use of a fresh deployment: this workspace's admin claims `default`.
                audience.owners.append(AudienceOwner(platform=here.platform, workspace_id=here.workspace_id))
                try:
                    uow.commit()
                except IntegrityError:  # claimed by this workspace at the same moment: fine
                    return
                log.warning(
                    "audience %r had no owner and was claimed by %s (%s)", audience.name, here, inv.actor
                )
                return
            uow.commit()
        raise PermissionDeniedError(
            f"The audience “{audience.name}” belongs to another workspace, so its admins (or a "
            "deployment admin) manage it, not this workspace's. Nothing was changed."
        )

    def authorize_all(self, inv: Invocation, names: Sequence[str]) -> None:
        for name in dict.fromkeys(names):
            self.authorize(inv, name)
