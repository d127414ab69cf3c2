"""Lines in the shapes of arXiv's metadata snapshot and of the pool format, written by the team.

`snapshot_row(...)` builds one snapshot object with exactly the fields arXiv's bulk file has (`id`,
`submitter`, `authors`, `authors_parsed`, `title`, `comments`, `journal-ref`, `doi`, `report-no`,
`categories`, `license`, `abstract`, `versions`, `update_date`); `pool_row(...)` one pool line.
`generated_snapshot(n, seed)` yields `n` seeded papers of realistic length (an 80-character title,
a ~1,000-character abstract, a few authors, 1–3 versions) from a made-up vocabulary, for the import
benchmark and tests. Nothing here comes from real papers.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

_WORDS = [
    "model",
    "learning",
    "network",
    "neural",
    "training",
    "data",
    "graph",
    "attention",
    "transformer",
    "sparse",
    "dense",
    "latent",
    "diffusion",
    "policy",
    "reward",
    "agent",
    "language",
    "vision",
    "token",
    "embedding",
    "retrieval",
    "kernel",
    "gradient",
    "descent",
    "convex",
    "bound",
    "sample",
    "efficient",
    "robust",
    "adversarial",
    "causal",
    "inference",
    "bayesian",
    "posterior",
    "prior",
    "variational",
    "energy",
    "flow",
    "score",
    "matching",
    "contrastive",
    "self",
    "supervised",
    "federated",
    "privacy",
    "fairness",
    "benchmark",
    "dataset",
    "evaluation",
    "metric",
    "scaling",
    "law",
    "mixture",
    "expert",
    "routing",
    "memory",
    "cache",
    "quantized",
    "pruning",
    "distillation",
    "teacher",
    "student",
    "curriculum",
    "reasoning",
    "chain",
    "planning",
    "search",
    "tree",
    "monte",
    "carlo",
    "estimator",
    "variance",
    "bias",
    "regret",
    "bandit",
    "online",
    "offline",
    "reinforcement",
    "control",
    "dynamics",
    "stochastic",
    "manifold",
    "geometry",
    "equivariant",
    "symmetry",
    "invariant",
    "operator",
    "spectral",
    "fourier",
    "wavelet",
    "signal",
    "audio",
    "speech",
    "image",
    "video",
    "segmentation",
    "detection",
    "tracking",
    "depth",
    "point",
    "cloud",
    "mesh",
    "rendering",
    "radiance",
    "field",
    "protein",
    "molecule",
    "chemistry",
    "physics",
    "climate",
    "weather",
    "forecasting",
    "time",
    "series",
    "anomaly",
    "tabular",
    "recommendation",
    "ranking",
    "query",
    "document",
    "passage",
    "answer",
    "question",
    "dialogue",
    "instruction",
    "alignment",
    "preference",
    "feedback",
    "human",
    "annotator",
    "crowd",
    "label",
    "noise",
    "shift",
    "domain",
    "adaptation",
    "transfer",
    "continual",
    "forgetting",
    "meta",
    "few",
    "shot",
    "zero",
    "prompt",
    "context",
    "window",
    "long",
    "sequence",
    "state",
    "space",
    "recurrent",
    "convolution",
    "pooling",
    "normalization",
    "residual",
    "layer",
    "depth",
    "width",
    "initialization",
    "optimizer",
    "adaptive",
    "momentum",
    "schedule",
    "warmup",
    "batch",
    "throughput",
    "latency",
    "hardware",
    "accelerator",
    "compiler",
    "kernel",
    "fusion",
]
_FIRST = (
    "Ada",
    "Alan",
    "Grace",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "Claude",
    "Radia",
    "Leslie",
    "Józef",
    "Zoë",
    "Łukasz",
    "Søren",
    "Chiara",
    "Mei",
    "Arjun",
    "Kofi",
    "Ines",
    "Tomás",
)
_LAST = (
    "Lovelace",
    "Turing",
    "Hopper",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Shannon",
    "Perlman",
    "Lamport",
    "Nowak",
    "Okafor",
    "Müller",
    "García",
    "Rossi",
    "Tanaka",
    "Ivanova",
    "Haddad",
)
_CATEGORIES = (
    "cs.LG",
    "cs.CL",
    "cs.CV",
    "cs.AI",
    "stat.ML",
    "cs.IR",
    "math.OC",
    "eess.SP",
    "hep-th",
    "quant-ph",
    "cond-mat.stat-mech",
    "q-bio.NC",
)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def snapshot_time(moment: dt.datetime) -> str:
    """`Mon, 2 Apr 2007 19:18:42 GMT`, the snapshot's `created` format."""
    return (
        f"{_WEEKDAYS[moment.weekday()]}, {moment.day} {_MONTHS[moment.month - 1]} {moment.year} "
        f"{moment:%H:%M:%S} GMT"
    )


def snapshot_row(
    arxiv_id: str,
    *,
    title: str = "A study of sparse attention",
    abstract: str = "  We study sparse attention.\nIt works.\n",
    authors: Sequence[tuple[str, str]] = (("Lovelace", "Ada"), ("Turing", "Alan")),
    categories: Sequence[str] = ("cs.LG",),
    created: Sequence[dt.datetime] = (dt.datetime(2024, 3, 5, 10, 0, tzinfo=dt.UTC),),
    comments: str | None = None,
    doi: str | None = None,
) -> dict[str, Any]:
    """One object as in `arxiv-metadata-oai-snapshot.json` (titles wrap and abstracts are indented
    there, as in the default `abstract`)."""
    return {
        "id": arxiv_id,
        "submitter": authors[0][1] + " " + authors[0][0] if authors else "Someone",
        "authors": ", ".join(f"{first} {last}" for last, first in authors),
        "title": title,
        "comments": comments,
        "journal-ref": None,
        "doi": doi,
        "report-no": None,
        "categories": " ".join(categories),
        "license": "http://creativecommons.org/licenses/by/4.0/",
        "abstract": abstract,
        "versions": [{"version": f"v{i + 1}", "created": snapshot_time(c)} for i, c in enumerate(created)],
        "update_date": f"{created[-1]:%Y-%m-%d}",
        "authors_parsed": [[last, first, ""] for last, first in authors],
    }


def pool_row(
    arxiv_id: str,
    *,
    title: str = "A study of sparse attention",
    abstract: str = "We study sparse attention.",
    authors: Sequence[str] = ("Ada Lovelace", "Alan Turing"),
    categories: Sequence[str] = ("cs.LG",),
    date: str = "2025-05-07",
    signals: dict[str, float] | None = None,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": arxiv_id,
        "title": title,
        "abstract": abstract,
        "authors": list(authors),
        "categories": list(categories),
        "primary": categories[0] if categories else "",
        "date": date,
    }
    if signals is not None:
        row["signals"] = signals
    return row


def write_lines(path: Path, rows: Sequence[dict[str, Any] | str]) -> Path:
    """Write rows (objects, or raw strings for broken lines) one a line; gzipped if `path` ends .gz."""
    text = "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows)
    if path.suffix == ".gz":
        import gzip

        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _sentence(rng: random.Random, words: int) -> str:
    chosen = rng.choices(_WORDS, k=words)
    return " ".join(chosen).capitalize() + "."


def generated_snapshot(
    count: int, *, seed: int = 17, first: dt.date = dt.date(2020, 1, 1), days: int = 5 * 365
) -> Iterator[dict[str, Any]]:
    """`count` seeded snapshot objects, ids unique, first versions spread over `days` from `first`."""
    rng = random.Random(seed)
    per_month: dict[str, int] = {}
    start = dt.datetime.combine(first, dt.time(0, 0), tzinfo=dt.UTC)
    for _ in range(count):
        created = start + dt.timedelta(seconds=rng.randrange(days * 86_400))
        yymm = f"{created:%y%m}"
        per_month[yymm] = per_month.get(yymm, 0) + 1
        versions = [created]
        for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
            versions.append(
                versions[-1] + dt.timedelta(days=rng.randint(1, 90), seconds=rng.randrange(86_400))
            )
        authors = [(rng.choice(_LAST), rng.choice(_FIRST)) for _ in range(rng.randint(1, 8))]
        title = _sentence(rng, rng.randint(6, 14))[:-1]
        abstract = " ".join(_sentence(rng, rng.randint(12, 25)) for _ in range(rng.randint(5, 9)))
        # Wrapped at ~80 columns and indented, as the snapshot's abstracts are.
        words = abstract.split(" ")
        abstract = "  " + "\n".join(" ".join(words[i : i + 12]) for i in range(0, len(words), 12)) + "\n"
        categories = rng.sample(_CATEGORIES, rng.randint(1, 3))
        comments = f"{rng.randint(4, 40)} pages, code at https://github.com/lab/p{per_month[yymm]}"
        yield snapshot_row(
            f"{yymm}.{per_month[yymm]:05d}",
            title=title,
            abstract=abstract,
            authors=authors,
            categories=categories,
            created=versions,
            comments=comments if rng.random() < 0.3 else None,
        )
