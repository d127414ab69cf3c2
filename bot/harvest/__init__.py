"""arXiv harvest: the source port and its `arxiv`-package adapter, the harvester, bulk import.

The records they produce (`bot.paper_records`) and the link extraction (`bot.paper_links`) live a
layer below, with the values the paper repository (`bot.db.papers`) stores.
"""
