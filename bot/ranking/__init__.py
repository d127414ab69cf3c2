"""Ranking: score a month's papers against the team's topics and pick a diverse top N.

Pure functions over plain dataclasses (`bot.ranking.types`): no database, no network. The digest
service loads candidates and topics, calls `rank_month`, and stores the result.
"""
