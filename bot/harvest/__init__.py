"""arXiv harvest: the source port and its `arxiv`-package adapter, link extraction, the harvester.

Kept import-free so that `bot.db.papers` can use `bot.harvest.records` without pulling in the
network client.
"""
