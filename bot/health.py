"""Is the bot healthy? One decision for every edge: `GET /healthz`, `trends status --check`.

`read_stored` reads what the database knows (the scheduler lease and the last harvest) with plain SQL
(`bot.db.reader`), so `trends status --check` answers through the driver alone; `assess`
decides from that, this process's scheduler role and its chat adapters' connections, and returns a
`HealthReport` that each edge renders (JSON with 200/503, or a line and an exit code).

Healthy means:
- the database answered (within a timeout: a probe must not hang on a database that does not);
- every chat adapter this process runs is connected (Slack: Socket Mode session open or the HTTP
  server listening; Discord: gateway ready);
- with no scheduler in this process (`trends status --check`, `trends serve discord`) and
  `require_leader`: some replica holds a live scheduler lease. A `trends run` replica is healthy
  leading or on standby: standing by is its job when another replica leads.

The report never carries an exception's text: a driver's message may name the database URL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from bot.db.reader import SqlReader
from bot.lease_info import LeaseInfo, read_lease
from bot.scheduler import SCHEDULER_LEASE
from bot.scheduler.status import last_harvest

if TYPE_CHECKING:
    from bot.db.uow import UnitOfWork

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 3.0

SchedulerRole = Literal["leading", "standby", "absent"]


@dataclass(frozen=True, slots=True)
class AdapterHealth:
    """One chat adapter's connection as its edge sees it."""

    name: str  # slack | discord
    connected: bool
    state: str  # e.g. "socket-mode connected", "listening", "gateway ready", "connecting"

    def to_dict(self) -> dict[str, Any]:
        return {"connected": self.connected, "state": self.state}


# An adapter's probe: cheap, no network call of its own (it reports the connection's last known state).
AdapterProbe = Callable[[], Awaitable[AdapterHealth]]


@dataclass(frozen=True, slots=True)
class HarvestSummary:
    status: str
    window_start: dt.date
    window_end: dt.date
    fetched: int
    finished_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class StoredHealth:
    """What the database says: the scheduler lease and the newest harvest run."""

    leader: LeaseInfo | None
    last_harvest: HarvestSummary | None


@dataclass(frozen=True, slots=True)
class HealthReport:
    healthy: bool
    database: Literal["ok", "unreachable"]
    scheduler: SchedulerRole
    now: dt.datetime
    holder: str | None = None  # this process's lease holder id, when it runs a scheduler
    stored: StoredHealth | None = None
    adapters: tuple[AdapterHealth, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def leader_alive(self) -> bool:
        leader = self.stored.leader if self.stored else None
        return leader is not None and leader.expires_at > self.now

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of `GET /healthz`."""
        body: dict[str, Any] = {
            "status": "ok" if self.healthy else "unavailable",
            "database": self.database,
            "scheduler": self.scheduler,
        }
        if self.stored is not None:
            leader = self.stored.leader
            body["leader"] = (
                None
                if leader is None
                else {
                    "holder": leader.holder,
                    "alive": leader.expires_at > self.now,
                    "expires_at": leader.expires_at.isoformat(),
                    "this_replica": leader.holder == self.holder,
                }
            )
            run = self.stored.last_harvest
            body["last_harvest"] = (
                None
                if run is None
                else {
                    "status": run.status,
                    "window_start": run.window_start.isoformat(),
                    "window_end": run.window_end.isoformat(),
                    "fetched": run.fetched,
                    "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                }
            )
        body["adapters"] = {a.name: a.to_dict() for a in self.adapters}
        if self.problems:
            body["problems"] = list(self.problems)
        return body


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def read_stored(reader: SqlReader) -> StoredHealth:
    """The lease and the last harvest, in two short reads (blocking)."""
    run = last_harvest(reader)
    harvest = (
        None
        if run is None
        else HarvestSummary(run.status, run.window_start, run.window_end, run.fetched, run.finished_at)
    )
    return StoredHealth(read_lease(reader, SCHEDULER_LEASE), harvest)


def assess(
    stored: StoredHealth | None,
    *,
    now: dt.datetime,
    scheduler: SchedulerRole,
    holder: str | None = None,
    adapters: Sequence[AdapterHealth] = (),
    require_leader: bool = False,
) -> HealthReport:
    """The decision (see the module docstring); `stored` is None when the database did not answer."""
    problems = []
    if stored is None:
        problems.append("the database did not answer")
    problems += [f"{a.name} is not connected ({a.state})" for a in adapters if not a.connected]
    leader = stored.leader if stored is not None else None
    leaderless = leader is None or leader.expires_at <= now
    if stored is not None and require_leader and scheduler == "absent" and leaderless:
        problems.append("no replica holds the scheduler lease: is `trends run` running?")
    return HealthReport(
        healthy=not problems,
        database="ok" if stored is not None else "unreachable",
        scheduler=scheduler,
        now=now,
        holder=holder,
        stored=stored,
        adapters=tuple(adapters),
        problems=tuple(problems),
    )


def check_deployment(reader: SqlReader, now: dt.datetime | None = None) -> HealthReport:
    """The check of a process that runs neither scheduler nor adapter (`trends status --check`)."""
    try:
        stored: StoredHealth | None = read_stored(reader)
    except Exception as exc:  # whatever the driver raises; never echo it (it may name the URL)
        log.warning("health check: the database did not answer", extra={"error": type(exc).__name__})
        stored = None
    return assess(stored, now=now or utcnow(), scheduler="absent", require_leader=True)


class ProcessHealth:
    """The health of this long-running process (`trends run`, `trends serve …`), checked on demand.

    The edges register what they run: `follow` the scheduler's elector, `watch` each adapter.
    Calling it returns `(healthy, JSON body)`, the shape the HTTP edges serve.
    """

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        require_leader: bool = False,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._uow_factory = uow_factory
        self._timeout = timeout
        self._require_leader = require_leader
        self._clock = clock
        self._holder: str | None = None
        self._is_leader: Callable[[], bool] | None = None
        self._probes: dict[str, AdapterProbe] = {}

    def _read_stored(self) -> StoredHealth:
        from bot.db.session_reader import SessionReader  # SQLAlchemy: not for `trends status --check`

        with self._uow_factory() as uow:
            return read_stored(SessionReader(uow.session))

    def follow(self, holder: str, is_leader: Callable[[], bool]) -> None:
        """Report on this process's scheduler: its lease holder id and its leadership check."""
        self._holder = holder
        self._is_leader = is_leader

    def watch(self, name: str, probe: AdapterProbe) -> None:
        self._probes[name] = probe

    @property
    def probes(self) -> Mapping[str, AdapterProbe]:
        return dict(self._probes)

    async def report(self) -> HealthReport:
        try:
            stored: StoredHealth | None = await asyncio.wait_for(
                asyncio.to_thread(self._read_stored), self._timeout
            )
        except Exception as exc:  # whatever the driver raises; never echo it (it may name the URL)
            log.warning("health check: the database did not answer", extra={"error": type(exc).__name__})
            stored = None
        adapters = []
        for name, probe in self._probes.items():
            try:
                adapters.append(await probe())
            except Exception:  # a broken probe is an unhealthy adapter, not a crashed check
                log.exception("health probe failed", extra={"adapter": name})
                adapters.append(AdapterHealth(name, False, "probe failed"))
        scheduler: SchedulerRole = "absent"
        if self._is_leader is not None:
            scheduler = "leading" if self._is_leader() else "standby"
        return assess(
            stored,
            now=self._clock(),
            scheduler=scheduler,
            holder=self._holder,
            adapters=adapters,
            require_leader=self._require_leader,
        )

    async def __call__(self) -> tuple[bool, dict[str, Any]]:
        report = await self.report()
        return report.healthy, report.to_dict()
