"""Registers the adapter commands (`serve`, `run`) on the core CLI app.

Only the commands are defined at import time: each imports its implementation when it runs, so
`trends --help` and the core commands never load the scheduler or a chat platform's SDK.
"""

from __future__ import annotations

from adapters import serve  # noqa: F401  (registers `trends serve …`; its commands import lazily)
from bot.cli.app import PANEL_RUN, app


@app.command("run", rich_help_panel=PANEL_RUN)
def run() -> None:
    """Run the bot: daily harvest, monthly digest and every chat platform whose token is set.

    Slack starts with SLACK_BOT_TOKEN (Socket Mode with SLACK_APP_TOKEN, else HTTP mode on
    TRENDS_SLACK_PORT), Discord with DISCORD_TOKEN. Schedules: TRENDS_HARVEST_CRON (default 06:00 UTC
    daily) and TRENDS_DIGEST_CRON (default the 1st at 08:00 in TRENDS_TIMEZONE). Several replicas may
    share one PostgreSQL database: one runs the schedule, all answer chat commands. Stop with Ctrl+C
    or SIGTERM.
    """
    from adapters.run import main

    main()
