"""The chat core: one set of commands, permissions and replies for every chat platform.

Adapters translate a platform event into an `Invocation` plus a `Command`, call `ChatService.handle`,
and render the platform-free `Reply`. So `/trends diffusion` behaves the same on Slack and Discord.
"""
