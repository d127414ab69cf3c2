"""`trends status`: is the bot doing its job? Last harvest, next runs, leader, each audience's last digest.

`--check` is for container health checks, the same decision as `GET /healthz` (`bot.health`): exit 0
when the database answers and some replica holds the scheduler lease; exit 1 (with the reasons)
otherwise.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from adapters.cli.app import PANEL_RUN, app, console, container, fail, quick_read

if TYPE_CHECKING:
    from bot.scheduler.status import StatusReport


def _when(moment: dt.datetime | None, now: dt.datetime) -> str:
    if moment is None:
        return "—"
    seconds = (moment - now).total_seconds()
    span = abs(seconds)
    if span < 90:
        rel = f"{span:.0f} s"
    elif span < 90 * 60:
        rel = f"{span / 60:.0f} min"
    elif span < 48 * 3600:
        rel = f"{span / 3600:.1f} h"
    else:
        rel = f"{span / 86400:.1f} days"
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC ({'in ' + rel if seconds >= 0 else rel + ' ago'})"


def render(report: StatusReport) -> None:
    now = report.now
    console.print("Harvest", style="bold")
    last = report.last_harvest
    if last is None:
        console.print("  No harvest yet: `trends run` harvests daily, or run `trends harvest`.")
    else:
        console.print(
            f"  Last run #{last.run_id} ({last.trigger}): {last.window_start} → {last.window_end}, "
            f"{last.status}; fetched {last.fetched:,}, inserted {last.inserted:,}, updated {last.updated:,}; "
            f"started {_when(last.started_at, now)}",
            highlight=False,
            soft_wrap=True,
        )
        if last.error:
            console.print(
                Text.assemble("  ", ("Error:", "red"), " ", last.error), highlight=False, soft_wrap=True
            )
        good = report.last_successful_harvest
        if good is not None and good.run_id != last.run_id:
            console.print(
                f"  Last successful: #{good.run_id} {good.window_start} → {good.window_end}, "
                f"finished {_when(good.finished_at, now)}",
                highlight=False,
            )
    console.print("Scheduled jobs", style="bold")
    if not report.jobs:
        console.print("  None stored yet: they are registered when `trends run` starts leading.")
    for job in report.jobs:
        next_run = _when(job.next_run, now) if job.next_run else "paused"
        console.print(f"  {job.job_id}: next run {next_run}", highlight=False)
    console.print("Leader", style="bold")
    if report.leader is None:
        console.print("  Nobody holds the scheduler lease.")
    else:
        state = ("alive", "") if report.leader_alive else ("expired", "red")
        console.print(
            Text.assemble(
                f"  {report.leader.holder} (",
                state,
                f"; lease until {_when(report.leader.expires_at, now)}, "
                f"leading since {_when(report.leader.acquired_at, now)})",
            ),
            highlight=False,
            soft_wrap=True,
        )
    console.print("Last digest" if len(report.digests) < 2 else "Last digests", style="bold")
    if not report.digests:
        console.print("  No digest yet.")
    for digest in report.digests:
        published = f", published {_when(digest.published_at, now)}" if digest.published_at else ""
        # With several audiences each line names its audience; a single team needn't read "default".
        whose = f"{digest.audience} · " if len(report.digests) > 1 else ""
        console.print(
            f"  {whose}{digest.month}: {digest.title} ({digest.status}{published})", highlight=False
        )
        if digest.deliveries:
            table = Table(show_lines=False)
            for column in ("platform", "channel", "status", "messages", "error"):
                table.add_column(column)
            for d in digest.deliveries:
                table.add_row(d.platform, d.channel_id, d.status, f"{d.posted}/{d.expected}", d.error or "")
            console.print(table)
        elif digest.status == "published":
            console.print("  Not delivered to any channel yet.")
    for problem in report.problems:
        console.print(Text.assemble(("!", "yellow"), " ", problem), highlight=False, soft_wrap=True)


@app.command("status", rich_help_panel=PANEL_RUN)
def status(
    check: Annotated[
        bool,
        typer.Option("--check", help="Health check: exit 1 unless the database is ready and a leader runs."),
    ] = False,
) -> None:
    """Show the last harvest, the next run of each scheduled job, the leader and the last digest."""
    if check:
        from bot.health import check_deployment

        health = quick_read(check_deployment)
        if health is None:
            from bot.db.session_reader import SessionReader

            with container() as c, c.uow() as uow:
                health = check_deployment(SessionReader(uow.session))
        if not health.healthy:
            fail("unhealthy: " + "; ".join(health.problems))
        console.print("ok")
        return
    from bot.scheduler.status import collect_status

    report = quick_read(collect_status)
    if report is None:
        from bot.db.session_reader import SessionReader

        with container() as c, c.uow() as uow:
            report = collect_status(SessionReader(uow.session))
    render(report)
