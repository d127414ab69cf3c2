"""Chat tokens encrypted at rest, with the key from TRENDS_TOKEN_KEY (and old keys for rotation).

A deployment serving many workspaces keeps each one's bot token in its database; a dump of that
database must not hand out the tokens. `TokenCipher` seals a token before it is stored and opens it
when it is read, with `cryptography`'s Fernet (AES-128-CBC with an HMAC-SHA256 over it, a random IV per
token): a vetted construction, no cryptography of our own.

A sealed value is `enc:v1:<Fernet token>`. The prefix tells it from a token stored in plain text by
an earlier version, which `open` still returns as it is and marks `stale` so that the caller seals it
on its next write. Rotation: the current key seals, it and every old key open; a value sealed under
an old key is stale too, so rows move to the new key as they are read or written, after which the old
key can be dropped.

A value no key opens (the key was changed and the old one not listed, or the row was tampered with)
raises `TokenUnreadable`, whose message names the owner (e.g. the workspace) and never the value.
Platform-independent: the Slack store (`adapters/slack/installations.py`) is the user today.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.errors import TrendsError

if TYPE_CHECKING:  # imported when a cipher is built: settings check keys without loading cryptography
    from cryptography.fernet import Fernet

SEALED_PREFIX = "enc:v1:"
GENERATE_KEY_HINT = (
    "generate one with: python -c "
    '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class TokenUnreadable(TrendsError):
    """A stored token that none of the configured keys opens: the key changed, or the row was altered."""


# What Fernet.generate_key() prints: 32 bytes in url-safe base64, padded.
_FERNET_KEY = re.compile(r"[A-Za-z0-9_-]{43}=")


def check_token_key(key: str) -> str:
    """`key` stripped, if it is a Fernet key (32 random bytes in url-safe base64); else `ValueError`."""
    key = key.strip()
    try:
        valid = bool(_FERNET_KEY.fullmatch(key)) and len(base64.urlsafe_b64decode(key)) == 32
    except binascii.Error:
        valid = False
    if not valid:
        raise ValueError(
            "is not a token key (32 random bytes in url-safe base64, 44 characters); " + GENERATE_KEY_HINT
        )
    return key


def split_token_keys(keys: str) -> list[str]:
    """The keys of a comma-separated list (TRENDS_TOKEN_KEYS_OLD), each checked by `check_token_key`."""
    parts = [part for part in keys.split(",") if part.strip()]
    checked = []
    for position, part in enumerate(parts, start=1):
        try:
            checked.append(check_token_key(part))
        except ValueError:
            raise ValueError(
                f"entry {position} of {len(parts)} is not a token key (32 random bytes in url-safe base64, "
                "44 characters): list the keys TRENDS_TOKEN_KEY had before, comma-separated"
            ) from None
    return checked


@dataclass(frozen=True, slots=True)
class OpenedToken:
    """A stored token opened: its value, and whether the stored form should be sealed again."""

    value: str
    stale: bool  # stored in plain text, or sealed under an old key


class TokenCipher:
    """Seals tokens under the current key; opens what any configured key (current or old) sealed."""

    def __init__(self, key: str, old_keys: Sequence[str] = ()) -> None:
        from cryptography.fernet import Fernet

        self._current: Fernet = Fernet(check_token_key(key))
        self._old: list[Fernet] = [Fernet(check_token_key(old)) for old in old_keys]

    def __repr__(self) -> str:
        return "TokenCipher(<keys hidden>)"

    def seal(self, token: str) -> str:
        """The form to store: `enc:v1:` and the Fernet token of `token`."""
        return SEALED_PREFIX + self._current.encrypt(token.encode()).decode("ascii")

    def open(self, stored: str, *, owner: str) -> OpenedToken:
        """The token behind a stored value (sealed or, from before encryption, plain).

        `owner` names whose token it is in the error, e.g. "Slack workspace T0123 (Acme)"."""
        from cryptography.fernet import InvalidToken

        if not is_sealed(stored):
            return OpenedToken(stored, stale=True)
        sealed = stored.removeprefix(SEALED_PREFIX).encode("ascii", errors="replace")
        for fernet in (self._current, *self._old):
            try:
                return OpenedToken(fernet.decrypt(sealed).decode(), stale=fernet is not self._current)
            except InvalidToken:
                continue  # sealed under another key, or altered: try the next key
        raise TokenUnreadable(
            f"The stored token of {owner} cannot be decrypted with TRENDS_TOKEN_KEY "
            "(nor any key of TRENDS_TOKEN_KEYS_OLD): was the key changed? Set the key it was "
            "stored with as TRENDS_TOKEN_KEY, or list it in TRENDS_TOKEN_KEYS_OLD; otherwise the "
            "app must be installed there again."
        )


def is_sealed(stored: str) -> bool:
    """Whether a stored value is sealed (else: a plain token from before encryption)."""
    return stored.startswith(SEALED_PREFIX)
