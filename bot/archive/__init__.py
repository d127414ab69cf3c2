"""Ask the archive: search past digests and papers, trend lines, emerging terms, past issues.

`ArchiveService` (in `bot.archive.service`) is the entry point; it returns the frozen views of
`bot.archive.views`, which the Slack/Discord adapters and the CLI render.
"""
