"""The running app's context, found by scheduled jobs through a module-level registry.

APScheduler's persistent job store pickles each job, so a job is a "module:function" string with no
arguments; it must not carry a database engine or a chat client. `trends run` installs one
`AppContext` here when it starts and removes it when it stops; the job functions read it with
`current()`. Tests install a context of their own (with a fake poster and a fixed clock) and call the
same functions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from bot.bootstrap import Container
from bot.db.models import utcnow
from bot.delivery import DeliveryEngine, ThreadPoster

from .approval import ApprovalNotifier


class ShutdownRequested(BaseException):
    """Raised inside a job's worker thread when the process is stopping.

    A BaseException, so that the harvest and signal loops (which keep going past ordinary errors) let
    it through; the harvest records its run as failed at the last stored page and resumes from there.
    """


def _always() -> bool:
    return True


@dataclass
class AppContext:
    container: Container
    posters: Mapping[str, ThreadPoster] = field(default_factory=dict)
    notifiers: Mapping[str, ApprovalNotifier] = field(default_factory=dict)
    clock: Callable[[], dt.datetime] = utcnow
    # The leader elector's check; a job that starts while this is False does nothing.
    is_leader: Callable[[], bool] = _always
    # Set when the process stops (or loses the lease): long worker-thread jobs end at their next step.
    stopping: threading.Event = field(default_factory=threading.Event)
    delivery_engine: DeliveryEngine | None = None
    running: set[asyncio.Task[object]] = field(default_factory=set)
    # Kinds of job running now: a catch-up and a cron tick of the same job never overlap.
    busy: set[str] = field(default_factory=set)

    def engine(self) -> DeliveryEngine:
        if self.delivery_engine is None:
            self.delivery_engine = DeliveryEngine(
                self.container.session_factory,
                allowed_workspaces=self.container.settings.allowed_workspaces,
                lease_seconds=self.container.settings.delivery_lease_seconds,
            )
        return self.delivery_engine

    def check_stopping(self) -> None:
        if self.stopping.is_set():
            raise ShutdownRequested("the process is stopping; the job resumes on its next run")

    @contextmanager
    def tracking(self, kind: str) -> Iterator[bool]:
        """Registers the running job so a shutdown can wait for it; yields False if `kind` is busy."""
        if kind in self.busy:
            yield False
            return
        task = asyncio.current_task()
        self.busy.add(kind)
        if task is not None:
            self.running.add(task)
        try:
            yield True
        finally:
            self.busy.discard(kind)
            if task is not None:
                self.running.discard(task)


_current: AppContext | None = None


def install(context: AppContext) -> None:
    global _current
    _current = context


def uninstall(context: AppContext | None = None) -> None:
    global _current
    if context is None or _current is context:
        _current = None


def current() -> AppContext:
    if _current is None:
        raise RuntimeError("no running app: scheduled jobs run inside `trends run` (see bot.scheduler)")
    return _current
