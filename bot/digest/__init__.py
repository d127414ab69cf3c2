"""Topics, summaries and the monthly digest: the use cases behind `trends topics|digest|rank`.

`topics.TopicService` manages the topics admins configure, `summarize` turns an abstract into the
"Why →" / "Key insights →" pair (offline or through an OpenAI-compatible server), `service.DigestService`
composes and stores a month's digest, and `render` writes it as Markdown or JSON. What they return are
the plain dataclasses of `views`, which the CLI and the chat adapters render.
"""
