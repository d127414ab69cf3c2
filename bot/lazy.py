"""Package attributes imported on first use, so importing a package stays cheap.

A package whose public names live in heavy modules (numpy, HTTP clients, the database layer) sets
`__getattr__ = lazy_exports(__name__, {"name": "package.module", ...})`; `from package import name`
then imports `package.module` only when `name` is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` that imports each name of `homes` from its module when first read."""

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(homes[name]), name)

    return __getattr__
