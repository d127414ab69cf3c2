"""The core's exception hierarchy.

Every error a person can cause or a network can throw at the bot is one of these. Adapters and the CLI
have one hook each that turns a `TrendsError` into a short, friendly message (its `str()`), and logs
anything else as a bug. Messages are written for the person who will read them: say what went wrong
and what to do next, never a stack trace or a secret.
"""

from __future__ import annotations


class TrendsError(Exception):
    """Base class: an expected failure with a message fit to show a user."""


class ConfigError(TrendsError):
    """Settings are missing or invalid."""


class DatabaseNotReadyError(TrendsError):
    """The database schema is missing or older than this version of the bot."""


class NotFoundError(TrendsError):
    """Something the user named (a month, a topic, a digest) does not exist."""


class ValidationError(TrendsError):
    """User input was understood but is not acceptable (bad month, empty name, …)."""


class PermissionDeniedError(TrendsError):
    """The caller may not run an admin command."""


class ConflictError(TrendsError):
    """The request would break an invariant, e.g. changing a published digest."""


class SourceError(TrendsError):
    """An upstream service (arXiv, a chat platform, an LLM server) failed after retries."""


class HarvestError(SourceError):
    """A harvest window could not be fetched; what was stored before stays stored."""
