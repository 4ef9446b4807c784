"""Paths and configuration. Imports nothing from the project.

The live data directory comes from one environment variable, ``RRTT_DATA_DIR``;
the default is ``data/`` in the repository. Settings (``settings()``) come from
``rrtt.toml`` in the data directory, overridden by ``RRTT_<KEY>`` environment variables.
"""

from __future__ import annotations

import functools
import os
import tomllib
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
SHIPPED_DATA_DIR = REPO_DIR / "data"
CATALOG_DIR = SHIPPED_DATA_DIR / "catalog"
DEMO_REGIONS_CSV = SHIPPED_DATA_DIR / "regions" / "demo_regions.csv"
SEEDS_DIR = SHIPPED_DATA_DIR / "seeds"   # copies of shared/seeds: the plans the catalog cites

DATA_DIR_ENV = "RRTT_DATA_DIR"
SETTINGS_FILE = "rrtt.toml"

# Every setting with its default. One place: the method's thresholds stay in progress.py.
DEFAULTS: dict[str, object] = {
    "default_plan": "demo-2021-2025",   # the plan the app opens on (never an illustrative one)
    "anonymous": False,                 # read-only viewer pages without login (intranet screen)
    "session_idle_hours": 8.0,          # an idle session expires after this long
    "login_max_failures": 5,            # failed logins per user name ...
    "login_window_minutes": 15,         # ... within this window, then refused
    "password_min_length": 10,
    "max_upload_mb": 50,                # ingest limits
    "max_upload_rows": 2_000_000,
    "large_change_factor": 3.0,         # warn when a value moves more than this factor vs last quarter
    "duckdb_memory_limit": "1GB",       # every DuckDB connection
    "upper_cache_mb": 512,              # rollup rows of regions with children kept in memory per process
    "display_timezone": "Asia/Shanghai",  # times on screen (stored aware times are converted)
}


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The live data directory: ``override``, else ``$RRTT_DATA_DIR``, else ``data/``."""
    if override:
        return _resolved(os.fspath(override))
    env = os.environ.get(DATA_DIR_ENV)
    return _resolved(env) if env else SHIPPED_DATA_DIR


def _resolved(path: str) -> Path:
    """``Path(path).resolve()``, remembered: every page run asks several times, and each
    resolve is an lstat per path component (a relative path is keyed by the working directory)."""
    return _resolve_once(path, "" if os.path.isabs(path) else os.getcwd())


@functools.lru_cache(maxsize=64)
def _resolve_once(path: str, cwd: str) -> Path:
    return Path(cwd, path).resolve()


def _coerce(raw: str, default: object) -> object:
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    return raw


def settings(data_dir_override: str | os.PathLike | None = None) -> dict[str, object]:
    """Defaults, then ``<data dir>/rrtt.toml``, then ``RRTT_<KEY>`` environment variables."""
    out = dict(DEFAULTS)
    path = data_dir(data_dir_override) / SETTINGS_FILE
    if path.is_file():
        with open(path, "rb") as fh:
            out.update({k: v for k, v in tomllib.load(fh).items() if k in DEFAULTS})
    for key, default in DEFAULTS.items():
        raw = os.environ.get(f"RRTT_{key.upper()}")
        if raw is not None:
            out[key] = _coerce(raw, default)
    return out
