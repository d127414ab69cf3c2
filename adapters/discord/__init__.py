"""Discord adapter: slash commands, digest threads and reaction feedback over the chat core.

`client.TrendsBot` is the bot (`trends serve discord` runs it), `commands` maps `/trends` and
`/trends-admin` options to the core's `Command`s, `poster.DiscordPoster` is the delivery engine's
`ThreadPoster`, `approval` posts drafts for approval and handles the persistent Approve button, and
`render` turns replies and digests into embeds within Discord's limits.
"""
