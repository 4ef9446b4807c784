"""Paths and configuration. Imports nothing from the project.

The live data directory comes from one environment variable, ``RRTT_DATA_DIR``;
the default is ``data/`` in the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent
SHIPPED_DATA_DIR = REPO_DIR / "data"
CATALOG_DIR = SHIPPED_DATA_DIR / "catalog"
DEMO_REGIONS_CSV = SHIPPED_DATA_DIR / "regions" / "demo_regions.csv"
SEEDS_DIR = SHIPPED_DATA_DIR / "seeds"   # copies of shared/seeds: the plans the catalog cites

DATA_DIR_ENV = "RRTT_DATA_DIR"


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The live data directory: ``override``, else ``$RRTT_DATA_DIR``, else ``data/``."""
    if override:
        return Path(override).resolve()
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env).resolve() if env else SHIPPED_DATA_DIR
