"""Installs by OAuth: bolt's install flow, configured from our settings and stored in our database.

With SLACK_CLIENT_ID / SLACK_CLIENT_SECRET set (see `Settings.slack_oauth`), the HTTP server serves
bolt's `GET /slack/install` (an "Add to Slack" page; the link carries a one-time `state`, also set as
a cookie in the installer's browser) and `GET <path of SLACK_REDIRECT_URI>` (Slack sends the browser
back there with a `code`; bolt checks the state against the cookie and our state store, trades the
code for a bot token with `oauth.v2.access`, and saves the installation). Every request from Slack is
then answered with its workspace's token (bolt's installation-store authorization), and
`app_uninstalled` / `tokens_revoked` delete the workspace's tokens.

Each workspace's bot token is stored encrypted under TRENDS_TOKEN_KEY (settings refuse OAuth without
it; see `adapters/slack/installations.py`); building the flow seals any token an earlier version
stored in plain text, or a key rotation left under an old key.

The bot scopes asked for are the manifest's (`adapters/slack/manifest.yml`; a test keeps the two in
step). The flow's failure pages say what went wrong without echoing the code or the state.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from sqlalchemy.orm import Session, sessionmaker

from adapters.slack.installations import SqlInstallationStore, SqlOAuthStateStore
from bot.errors import ConfigError
from bot.settings import Settings
from bot.token_cipher import TokenCipher, split_token_keys

INSTALL_PATH = "/slack/install"
DEFAULT_REDIRECT_PATH = "/slack/oauth_redirect"

# The manifest's `oauth_config.scopes.bot`, in the same order (tests/test_slack_oauth.py compares them).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "reactions:read",
    "users:read",
    "files:write",
    "channels:history",
    "groups:history",
)


@dataclass(frozen=True)
class OAuthParts:
    """What the app needs to run installs by OAuth: bolt's settings and our two stores."""

    settings: AsyncOAuthSettings
    installations: SqlInstallationStore
    states: SqlOAuthStateStore
    install_url: str

    @property
    def not_installed_message(self) -> str:
        """What a user of a workspace without a usable installation is told (bolt answers it).

        bolt gives the same answer when the stored token cannot be decrypted (it swallows the store's
        error), so the message covers that too; a reinstall fixes both, and the operator's log names
        the workspace whose token is unreadable."""
        return (
            "The Trends app is not installed in this workspace (or it was removed), or the bot cannot "
            f"read its stored token for it. A workspace admin can add it (again) at {self.install_url}"
        )


def token_cipher(settings: Settings) -> TokenCipher:
    """The cipher of stored Slack tokens: TRENDS_TOKEN_KEY seals, it and TRENDS_TOKEN_KEYS_OLD open."""
    if settings.token_key is None:
        raise ConfigError("Slack OAuth stores tokens encrypted: TRENDS_TOKEN_KEY is not set.")
    old = settings.token_keys_old
    return TokenCipher(
        settings.token_key.get_secret_value(), split_token_keys(old.get_secret_value()) if old else []
    )


def build_oauth(settings: Settings, session_factory: sessionmaker[Session]) -> OAuthParts:
    """bolt's OAuth settings from ours (`ConfigError` if OAuth is not configured); seals stale tokens."""
    secret = settings.slack_client_secret
    if settings.slack_client_id is None or secret is None or settings.slack_redirect_uri is None:
        raise ConfigError("Slack OAuth needs SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_REDIRECT_URI.")
    installations = SqlInstallationStore(
        session_factory, token_cipher(settings), allowed=settings.workspace_allowed
    )
    installations.seal_stale_tokens()
    states = SqlOAuthStateStore(session_factory, settings.slack_oauth_state_seconds)
    oauth_settings = AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=secret.get_secret_value(),
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        redirect_uri=settings.slack_redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=urlsplit(settings.slack_redirect_uri).path or DEFAULT_REDIRECT_PATH,
        installation_store=installations,
        installation_store_bot_only=True,
        state_store=states,
        state_expiration_seconds=settings.slack_oauth_state_seconds,
    )
    redirect = urlsplit(settings.slack_redirect_uri)
    install_url = urlunsplit((redirect.scheme, redirect.netloc, INSTALL_PATH, "", ""))
    return OAuthParts(oauth_settings, installations, states, install_url)
