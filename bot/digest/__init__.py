"""Topics, summaries and the monthly digest: the use cases behind `trends topics|digest|rank`.

`topics.TopicService` manages the topics admins configure, `summarize` turns an abstract into the
"Why →" problem statement and the "Key insights →" bullets (`offline`, or `llm` through an
OpenAI-compatible server; `text` and `roles` are their reading of the abstract), `editorial` writes
the intro and the month's context around each Why from archive facts, `service.DigestService`
composes and stores a month's digest, and `render` writes it as Markdown or JSON. What they return are
the plain dataclasses of `views`, which the CLI and the chat adapters render.
"""
