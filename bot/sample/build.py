"""Regenerate the bundled sample from a benchmark pool: `python -m bot.sample.build POOL [LABELS]`.

The choice is deterministic and varied: every primary category gets a share proportional to its size
(at least two papers for categories with ten or more), and within a category papers are taken in the
order of a hash of their id, which spreads them over the month and over topics without favouring any.
Papers named in a labels file are left out, so the sample can never leak evaluation answers.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from bot.sample import SAMPLE_FILE, iter_pool_lines

SAMPLE_SIZE = 300


def _order(paper_id: str) -> str:
    return hashlib.sha256(paper_id.encode()).hexdigest()


def choose(
    rows: list[dict[str, Any]], size: int = SAMPLE_SIZE, exclude: set[str] | None = None
) -> list[dict[str, Any]]:
    exclude = exclude or set()
    by_primary: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["id"] not in exclude:
            by_primary[row["primary"]].append(row)
    total = sum(len(group) for group in by_primary.values())
    quota = {
        primary: max(2 if len(group) >= 10 else 0, round(size * len(group) / total))
        for primary, group in by_primary.items()
    }
    # Trim the largest shares until the quotas add up to `size` exactly.
    while sum(quota.values()) > size:
        largest = max(quota, key=lambda p: (quota[p], p))
        quota[largest] -= 1
    chosen: list[dict[str, Any]] = []
    for primary in sorted(by_primary):
        group = sorted(by_primary[primary], key=lambda r: _order(r["id"]))
        chosen.extend(group[: quota[primary]])
    return sorted(chosen, key=lambda r: (r["date"], r["id"]))


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    rows = list(iter_pool_lines(Path(argv[0]).read_bytes()))
    exclude: set[str] = set()
    if len(argv) > 1:
        labels = json.loads(Path(argv[1]).read_text())
        exclude = {pick["id"] for pick in labels.get("picks", []) if pick.get("id")}
    chosen = choose(rows, exclude=exclude)
    body = "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in chosen)
    target = Path(__file__).with_name(SAMPLE_FILE)
    target.write_bytes(gzip.compress(body.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"wrote {len(chosen)} papers to {target} ({target.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
