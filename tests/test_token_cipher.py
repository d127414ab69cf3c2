"""The cipher of chat tokens at rest (bot/token_cipher.py): sealed values, old forms, wrong keys."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Callable

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st

from bot.token_cipher import SEALED_PREFIX, TokenCipher, TokenUnreadable, check_token_key, split_token_keys

KEY = base64.urlsafe_b64encode(b"unit-test-key-0-for-tests-only!!").decode()
OLD_KEY = base64.urlsafe_b64encode(b"unit-test-key-1-for-tests-only!!").decode()
TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"


def test_a_sealed_token_opens_to_itself_and_holds_no_part_of_it() -> None:
    cipher = TokenCipher(KEY)
    sealed = cipher.seal(TOKEN)
    assert sealed.startswith(SEALED_PREFIX)
    assert not any(TOKEN[i : i + 6] in sealed for i in range(len(TOKEN) - 5))
    opened = cipher.open(sealed, owner="Slack workspace T1")
    assert opened.value == TOKEN
    assert not opened.stale


@given(st.text())
def test_any_text_survives_sealing(token: str) -> None:
    cipher = TokenCipher(KEY)
    assert cipher.open(cipher.seal(token), owner="x").value == token


def test_sealing_twice_gives_two_different_values() -> None:
    cipher = TokenCipher(KEY)
    assert cipher.seal(TOKEN) != cipher.seal(TOKEN)  # a random IV each time: equal tokens do not show


def test_a_plain_token_stored_before_encryption_opens_as_it_is_and_is_stale() -> None:
    opened = TokenCipher(KEY).open(TOKEN, owner="Slack workspace T1")
    assert opened.value == TOKEN
    assert opened.stale


def test_a_token_sealed_under_an_old_key_opens_while_that_key_is_listed_and_is_stale() -> None:
    sealed_before = TokenCipher(OLD_KEY).seal(TOKEN)
    rotated = TokenCipher(KEY, [OLD_KEY])
    opened = rotated.open(sealed_before, owner="Slack workspace T1")
    assert opened.value == TOKEN
    assert opened.stale
    resealed = rotated.seal(opened.value)
    assert not TokenCipher(KEY).open(resealed, owner="Slack workspace T1").stale  # the new key alone
    with pytest.raises(TokenUnreadable):
        TokenCipher(KEY).open(sealed_before, owner="Slack workspace T1")


@pytest.mark.parametrize(
    "damage",
    [
        lambda sealed: sealed,  # intact, but under another key
        lambda sealed: sealed[:40] + ("A" if sealed[40] != "A" else "B") + sealed[41:],
        lambda sealed: sealed[:-10],
        lambda sealed: SEALED_PREFIX + "ünïcode is not a Fernet token",
    ],
    ids=["other key", "one character changed", "cut short", "garbage"],
)
def test_what_no_key_opens_names_the_owner_and_never_the_value(damage: Callable[[str], str]) -> None:
    sealed = damage(TokenCipher(OLD_KEY).seal(TOKEN))
    with pytest.raises(TokenUnreadable) as error:
        TokenCipher(KEY).open(sealed, owner="Slack workspace T0ALPHA01 (Alpha)")
    message = str(error.value)
    assert "Slack workspace T0ALPHA01 (Alpha)" in message
    assert "TRENDS_TOKEN_KEY" in message
    assert TOKEN not in message
    assert sealed not in message
    # No chained traceback with cryptography's internals.
    assert error.value.__cause__ is None
    assert error.value.__context__ is None


def test_keys_are_checked_with_how_to_make_one_and_never_shown() -> None:
    with pytest.raises(ValueError, match=r"not a token key.*Fernet\.generate_key\(\)"):
        check_token_key("a passphrase is not a key")
    with pytest.raises(ValueError, match="entry 2 of 2"):
        split_token_keys(f"{OLD_KEY},not-a-key")
    assert split_token_keys(f" {OLD_KEY} ,, {KEY}\n") == [OLD_KEY, KEY]
    assert check_token_key(KEY + "\n") == KEY
    cipher = TokenCipher(KEY, [OLD_KEY])
    assert KEY not in repr(cipher)
    assert OLD_KEY not in repr(cipher)


@given(st.binary(min_size=32, max_size=32))
def test_every_key_fernet_makes_passes_the_check_and_builds_a_cipher(raw: bytes) -> None:
    key = base64.urlsafe_b64encode(raw).decode()
    assert check_token_key(key) == key
    assert Fernet(key)  # the check accepts nothing Fernet would refuse


@given(st.text(alphabet="ABCxyz019_-=+/ \n", max_size=50))
def test_what_the_check_accepts_fernet_accepts(text: str) -> None:
    try:
        key = check_token_key(text)
    except ValueError:
        return
    assert Fernet(key)


def test_checking_keys_does_not_load_cryptography() -> None:
    # Settings check TRENDS_TOKEN_KEY in every command; only the Slack OAuth runtime needs the cipher.
    code = (
        "import sys, bot.settings, bot.token_cipher as t; "
        f"t.check_token_key({KEY!r}); print('cryptography' in sys.modules)"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "False"
