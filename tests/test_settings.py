from __future__ import annotations

import base64
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import DEFAULT_CATEGORIES, load_settings


def test_defaults_are_sqlite_in_working_directory_and_default_categories() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///trends.db"
    assert settings.categories == list(DEFAULT_CATEGORIES)
    assert settings.arxiv_delay_seconds >= 3


def test_every_bad_value_is_named_in_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRENDS_DATABASE_URL", "mysql://nope")
    monkeypatch.setenv("TRENDS_ARXIV_PAGE_SIZE", "5")
    monkeypatch.setenv("TRENDS_CATEGORIES", "cs.LG, not a category")
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "TRENDS_DATABASE_URL" in message
    assert "TRENDS_ARXIV_PAGE_SIZE" in message
    assert "not a category" in message


def test_comma_separated_categories_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRENDS_CATEGORIES", "cs.CL, cs.LG,cs.CL")
    assert load_settings().categories == ["cs.CL", "cs.LG"]


def test_postgres_scheme_uses_psycopg3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRENDS_DATABASE_URL", "postgresql://u@h/db")
    assert load_settings().database_url == "postgresql+psycopg://u@h/db"


def test_fast_arxiv_requests_only_against_a_local_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRENDS_ARXIV_DELAY_SECONDS", "0")
    with pytest.raises(ConfigError, match="every 3 seconds"):
        load_settings()
    monkeypatch.setenv("TRENDS_ARXIV_API_URL", "http://127.0.0.1:9/api/query")
    assert load_settings().arxiv_delay_seconds == 0


def test_toml_file_is_read_and_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "trends.toml"
    config.write_text('digest_size = 7\ncategories = ["cs.CV"]\n', encoding="utf-8")
    monkeypatch.setenv("TRENDS_CONFIG", str(config))
    monkeypatch.setenv("TRENDS_DIGEST_SIZE", "12")
    settings = load_settings()
    assert settings.digest_size == 12
    assert settings.categories == ["cs.CV"]


def test_secrets_in_toml_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "trends.toml"
    config.write_text('slack_bot_token = "xoxb-secret"\n', encoding="utf-8")
    monkeypatch.setenv("TRENDS_CONFIG", str(config))
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN") as info:
        load_settings()
    assert "xoxb-secret" not in str(info.value)


def test_secret_values_are_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-env")
    settings = load_settings()
    assert settings.slack_bot_token is not None
    assert "xoxb-from-env" not in repr(settings)


def test_broken_toml_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "trends.toml"
    config.write_text("digest_size = = 3\n", encoding="utf-8")
    monkeypatch.setenv("TRENDS_CONFIG", str(config))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings()


def test_errors_name_the_variable_actually_set_for_aliased_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DISCORD_GUILD_IDS", "not-a-number")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "DISCORD_GUILD_IDS" in str(info.value)
    assert "TRENDS_DISCORD_GUILD_IDS" not in str(info.value)


# TRENDS_TOKEN_KEY: 32 bytes in url-safe base64 (tests/test_slack_oauth.py covers the OAuth side).
TOKEN_KEY = base64.urlsafe_b64encode(b"settings-test-key-0-not-for-use!").decode()
OLD_TOKEN_KEY = base64.urlsafe_b64encode(b"settings-test-key-1-not-for-use!").decode()


def test_a_malformed_token_key_is_named_with_how_to_make_one_and_never_echoed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRENDS_TOKEN_KEY", "my secret passphrase")
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "TRENDS_TOKEN_KEY: is not a token key" in message
    assert "Fernet.generate_key()" in message
    assert "passphrase" not in message


def test_old_token_keys_are_checked_one_by_one_and_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRENDS_TOKEN_KEY", TOKEN_KEY)
    monkeypatch.setenv("TRENDS_TOKEN_KEYS_OLD", f"{OLD_TOKEN_KEY}, my old passphrase")
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert "TRENDS_TOKEN_KEYS_OLD: entry 2 of 2 is not a token key" in message
    assert "passphrase" not in message
    assert OLD_TOKEN_KEY not in message
    monkeypatch.setenv("TRENDS_TOKEN_KEYS_OLD", f" {OLD_TOKEN_KEY} ,, ")
    old = load_settings().token_keys_old
    assert old is not None
    assert old.get_secret_value() == OLD_TOKEN_KEY


def test_a_token_key_pasted_with_a_newline_is_accepted_and_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRENDS_TOKEN_KEY", TOKEN_KEY + "\n")
    settings = load_settings()
    assert settings.token_key is not None
    assert settings.token_key.get_secret_value() == TOKEN_KEY
    assert TOKEN_KEY not in repr(settings)


def test_token_keys_in_toml_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "trends.toml"
    config.write_text(f'token_key = "{TOKEN_KEY}"\n', encoding="utf-8")
    monkeypatch.setenv("TRENDS_CONFIG", str(config))
    with pytest.raises(ConfigError, match="TRENDS_TOKEN_KEY") as info:
        load_settings()
    assert TOKEN_KEY not in str(info.value)


def test_one_workspace_with_slack_bot_token_needs_no_token_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-0000-not-a-real-token")
    settings = load_settings()
    assert not settings.slack_oauth
    assert settings.token_key is None
