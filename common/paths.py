"""Default folders, said once: the data folder and the cache folder (environment variables override them).

    XSTILTS_DATA_DIR   the data sets (default: datasets/ under the working folder)
    XSTILTS_CACHE_DIR  derived caches, e.g. URIEL+ distances (default: $XDG_CACHE_HOME/xstilts or ~/.cache/xstilts)

Imports nothing of the project and no torch, so `python -m data.check` and `python -m data.download` start fast.
"""
from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV, CACHE_DIR_ENV = "XSTILTS_DATA_DIR", "XSTILTS_CACHE_DIR"
DEFAULT_DATA_DIR = "datasets"


def default_data_dir() -> str:
    """$XSTILTS_DATA_DIR, else datasets/ (relative to the working folder, as every path in a config is)."""
    return os.environ.get(DATA_DIR_ENV, DEFAULT_DATA_DIR)


def default_cache_dir() -> Path:
    """$XSTILTS_CACHE_DIR, else $XDG_CACHE_HOME/xstilts, else ~/.cache/xstilts."""
    if os.environ.get(CACHE_DIR_ENV):
        return Path(os.environ[CACHE_DIR_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "xstilts"
