"""Slack's OAuth installation store and state store, on the product's own database.

bolt's OAuth flow (`adapters/slack/oauth.py`) saves what `oauth.v2.access` returned through
`SqlInstallationStore` and asks it for a workspace's bot token on every request; the uninstall
listeners (`app_uninstalled`, `tokens_revoked`) delete through it. `SqlOAuthStateStore` issues the
`state` an install link carries and accepts it back once, before it expires.

Both are small async implementations of slack_sdk's store interfaces over our engine and unit of work
(tables `slack_installations`, `slack_oauth_states`, made by migration 0007), rather than slack_sdk's
SQLAlchemy stores, which create their own tables and need SQLAlchemy's asyncio extra. Database work
runs in a thread so the event loop keeps acknowledging Slack within its 3 seconds.

Only bot tokens are kept (the app asks for no user scopes): one row per workspace, replaced by a
reinstall. Org-wide (Enterprise Grid) installs are refused: the manifest does not enable them. A state
is stored as its SHA-256, so the table never holds a usable state. Tokens are never logged.

Tokens are encrypted at rest (`bot.token_cipher`, key TRENDS_TOKEN_KEY): the bot token and the refresh
token columns hold `enc:v1:…`, so a dump of the database gives away no token. Rows stored in plain
text by an earlier version (or under a key now in TRENDS_TOKEN_KEYS_OLD) still work, and are sealed
under the current key when they are next read or written, and by `seal_stale_tokens` at start-up. A
row no key opens raises `TokenUnreadable` naming the workspace, logged as an error here (bolt swallows
it and answers the user as for a workspace without an install); every other workspace keeps working.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from slack_bolt.error import BoltError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import SlackInstallation, SlackOAuthState
from bot.db.uow import UnitOfWork
from bot.token_cipher import TokenCipher, TokenUnreadable

log = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], dt.datetime]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _timestamp(moment: dt.datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


class SqlInstallationStore(AsyncInstallationStore):
    """Bot installations, one per workspace, in `slack_installations`."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        cipher: TokenCipher,
        clock: Clock = _now,
        allowed: Callable[[str], bool] = lambda _team_id: True,
    ) -> None:
        self._session_factory = session_factory
        self._cipher = cipher
        self._clock = clock
        self._allowed = allowed  # TRENDS_ALLOWED_WORKSPACES: a workspace off the list stores no token

    @property
    def logger(self) -> logging.Logger:
        return log

    async def _run(self, work: Callable[[UnitOfWork], T]) -> T:
        def in_unit() -> T:
            with UnitOfWork(self._session_factory) as uow:
                result = work(uow)
                uow.commit()
                return result

        return await asyncio.to_thread(in_unit)

    async def async_save(self, installation: Installation) -> None:
        bot = installation.to_bot()
        bot.custom_values["installer_user_id"] = installation.user_id or ""
        await self.async_save_bot(bot)

    async def async_save_bot(self, bot: Bot) -> None:
        if not bot.team_id or bot.is_enterprise_install:
            # bolt turns a BoltError into its "storage error" page for the installer.
            raise BoltError("org-wide installs are not supported: install the app in each workspace")
        if not self._allowed(bot.team_id):
            log.warning("refused an install in a workspace not on TRENDS_ALLOWED_WORKSPACES: %s", bot.team_id)
            raise BoltError(f"this deployment does not serve workspace {bot.team_id}")
        team_id, enterprise_id = bot.team_id, bot.enterprise_id or ""
        expires = bot.bot_token_expires_at
        values: dict[str, Any] = {
            "team_name": bot.team_name or "",
            "app_id": bot.app_id or "",
            "bot_id": bot.bot_id,
            "bot_user_id": bot.bot_user_id,
            "bot_token": self._cipher.seal(bot.bot_token),
            "bot_scopes": ",".join(bot.bot_scopes or []),
            "bot_refresh_token": _seal_optional(self._cipher, bot.bot_refresh_token),
            "bot_token_expires_at": None if expires is None else dt.datetime.fromtimestamp(expires, dt.UTC),
            "installer_user_id": str(bot.custom_values.get("installer_user_id") or ""),
            "installed_at": self._clock(),
        }

        def save(uow: UnitOfWork) -> bool:
            row = uow.session.scalars(
                select(SlackInstallation)
                .where(SlackInstallation.team_id == team_id, SlackInstallation.enterprise_id == enterprise_id)
                .with_for_update()
            ).first()
            if row is None:
                uow.session.add(SlackInstallation(team_id=team_id, enterprise_id=enterprise_id, **values))
                return True
            for key, value in values.items():
                setattr(row, key, value)
            return False

        try:
            created = await self._run(save)
        except IntegrityError:  # the same workspace installed twice at once: the other one won, update it
            created = await self._run(save)
        log.info(
            "slack app installed" if created else "slack app reinstalled",
            extra={"team_id": team_id, "scopes": values["bot_scopes"]},
        )

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        if not team_id:
            return None

        def find(uow: UnitOfWork) -> Bot | None:
            query = select(SlackInstallation).where(SlackInstallation.team_id == team_id)
            if enterprise_id:
                query = query.where(SlackInstallation.enterprise_id == enterprise_id)
            row = uow.session.scalars(query.order_by(SlackInstallation.id.desc())).first()
            if row is None:
                return None
            token, refresh_token, resealed = self._open_and_reseal(uow, row)
            if resealed:
                log.info("slack token sealed under the current key", extra={"team_id": row.team_id})
            return _bot_of(row, token, refresh_token)

        return await self._run(find)

    def _open_and_reseal(self, uow: UnitOfWork, row: SlackInstallation) -> tuple[str, str | None, bool]:
        """The row's tokens in clear, and whether the row was sealed again (it was in plain text or
        under an old key).

        The new form is written only if the row still holds what was read (compare and swap), so a
        reinstall committed meanwhile is never overwritten with the older token."""
        owner = f"Slack workspace {row.team_id}" + (f" ({row.team_name})" if row.team_name else "")
        stored_refresh = row.bot_refresh_token
        try:
            token = self._cipher.open(row.bot_token, owner=owner)
            refresh = None if stored_refresh is None else self._cipher.open(stored_refresh, owner=owner)
        except TokenUnreadable as exc:
            log.error("%s", exc, extra={"team_id": row.team_id})
            raise
        resealed = False
        if token.stale or (refresh is not None and refresh.stale):
            result = uow.session.execute(
                update(SlackInstallation)
                .where(
                    SlackInstallation.id == row.id,
                    SlackInstallation.bot_token == row.bot_token,
                    # `IS NOT DISTINCT FROM`: the refresh token is usually NULL.
                    SlackInstallation.bot_refresh_token.is_not_distinct_from(row.bot_refresh_token),
                )
                .values(
                    bot_token=self._cipher.seal(token.value),
                    bot_refresh_token=None if refresh is None else self._cipher.seal(refresh.value),
                )
                .execution_options(synchronize_session=False)
            )
            resealed = result.rowcount == 1  # type: ignore[attr-defined]
        return token.value, None if refresh is None else refresh.value, resealed

    def seal_stale_tokens(self) -> int:
        """Seal every token still stored in plain text or under an old key; how many rows changed.

        Run once at start-up (`build_oauth`), so that a copy of the database taken after the first start
        with TRENDS_TOKEN_KEY holds no token in clear, even of a workspace that is never active. A row
        no key opens is logged (naming its workspace) and left as it is: the others still work."""
        resealed = 0
        with UnitOfWork(self._session_factory) as uow:
            for row in uow.session.scalars(select(SlackInstallation).order_by(SlackInstallation.id)).all():
                try:
                    resealed += self._open_and_reseal(uow, row)[2]
                except TokenUnreadable:
                    continue  # logged (with the workspace) by _open_and_reseal
            uow.commit()
        if resealed:
            log.info(
                "slack tokens sealed under the current key at start-up", extra={"installations": resealed}
            )
        return resealed

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        # No user tokens are kept: a user's installation is the workspace's bot installation.
        bot = await self.async_find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None:
            return None
        return Installation(
            app_id=bot.app_id,
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            team_name=bot.team_name,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
            bot_refresh_token=bot.bot_refresh_token,
            bot_token_expires_at=bot.bot_token_expires_at,
            user_id=user_id or str(bot.custom_values.get("installer_user_id") or ""),
            installed_at=bot.installed_at,
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        if not team_id:
            return

        def remove(uow: UnitOfWork) -> int:
            statement = delete(SlackInstallation).where(SlackInstallation.team_id == team_id)
            if enterprise_id:
                statement = statement.where(SlackInstallation.enterprise_id == enterprise_id)
            return int(uow.session.execute(statement).rowcount)  # type: ignore[attr-defined]

        removed = await self._run(remove)
        log.info("slack tokens deleted", extra={"team_id": team_id, "installations": removed})

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        # Only bot tokens are stored: a revoked user token leaves nothing to delete, while the whole
        # installation (user_id None, as on `app_uninstalled`) goes with the bot token.
        if user_id is None:
            await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)


def _seal_optional(cipher: TokenCipher, token: str | None) -> str | None:
    return None if token is None else cipher.seal(token)


def _bot_of(row: SlackInstallation, bot_token: str, bot_refresh_token: str | None) -> Bot:
    return Bot(
        app_id=row.app_id or None,
        enterprise_id=row.enterprise_id or None,
        team_id=row.team_id,
        team_name=row.team_name or None,
        bot_token=bot_token,
        bot_id=row.bot_id,
        bot_user_id=row.bot_user_id,
        bot_scopes=row.bot_scopes,
        bot_refresh_token=bot_refresh_token,
        bot_token_expires_at=_timestamp(row.bot_token_expires_at),
        installed_at=row.installed_at.timestamp(),
        custom_values={"installer_user_id": row.installer_user_id},
    )


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


class SqlOAuthStateStore(AsyncOAuthStateStore):
    """One-time install states in `slack_oauth_states`, valid for `expiration_seconds`."""

    def __init__(
        self, session_factory: sessionmaker[Session], expiration_seconds: int, clock: Clock = _now
    ) -> None:
        self._session_factory = session_factory
        self._lifetime = dt.timedelta(seconds=expiration_seconds)
        self._clock = clock

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(32)
        now = self._clock()

        def issue() -> None:
            with UnitOfWork(self._session_factory) as uow:
                # Expired states are swept here, so the table stays as small as the pending installs.
                uow.session.execute(delete(SlackOAuthState).where(SlackOAuthState.expires_at <= now))
                uow.session.add(
                    SlackOAuthState(state_hash=state_hash(state), expires_at=now + self._lifetime)
                )
                uow.commit()

        await asyncio.to_thread(issue)
        return state

    async def async_consume(self, state: str) -> bool:
        """True once for a state this store issued that has not expired; False otherwise."""
        if not state or len(state) > 200:
            return False
        key = state_hash(state)
        now = self._clock()

        def consume() -> bool:
            with UnitOfWork(self._session_factory) as uow:
                # Deleting is the claim: of two redirects racing with one state only one deletes the row.
                expires = uow.session.execute(
                    delete(SlackOAuthState)
                    .where(SlackOAuthState.state_hash == key)
                    .returning(SlackOAuthState.expires_at)
                ).scalar_one_or_none()
                uow.commit()
            return expires is not None and expires > now

        valid = await asyncio.to_thread(consume)
        if not valid:
            log.info("slack install refused: unknown, used or expired state")
        return valid
