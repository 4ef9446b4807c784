"""The one seam between ingest and the store: what ingest asks of it, in one place.

The store's API (``publish``, ``retract``, ``restore``, ``snapshots``, ``current_values``, ``current_in``,
``diff``, ``rebuild``, ``at``) is used directly where it exists.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.store import Store

KEY = ["region_code", "element_code", "period"]


def current_values(store: Store, keys: pd.DataFrame, unique: bool = False) -> pd.DataFrame:
    """``keys`` (region_code, element_code, period) with the current value (NaN where none).
    ``unique``: no key is repeated (the validator's look-up), so none need removing."""
    keys = keys[KEY].reset_index(drop=True)
    if keys.empty or store.is_empty():      # a first upload: nothing to look up
        return keys.assign(value=np.nan)
    return store.current_values(keys, unique=unique)


def current_in(store: Store, regions: list[str], elements: list[str], quarters: list[str]) -> dict[str, np.ndarray]:
    """Every current leaf value of ``regions`` × ``elements`` × ``quarters``: positions r, e, p in
    those lists, and value (the validator's comparisons)."""
    return store.current_in(regions, elements, quarters)


def publish(store: Store, facts: pd.DataFrame, *, user, comment: str, source_name: str, source_sha256: str):
    return store.publish(facts[KEY + ["value"]], user=user, comment=comment, source_name=source_name,
                         source_sha256=source_sha256)


def retract(store: Store, snapshot_id: int, *, user, comment: str | None = None):
    return store.retract(snapshot_id, user=user, comment=comment)


def restore(store: Store, snapshot_id: int, *, user, comment: str | None = None):
    return store.restore(snapshot_id, user=user, comment=comment)


def rebuild(store: Store, user=None) -> None:
    """Rebuild derived tables after the hierarchy changed (a fresh Store reads the new hierarchy)."""
    Store(store.dir, catalog=store.catalog).rebuild(user=user)


def snapshots_frame(store: Store) -> pd.DataFrame:
    """Snapshots with who/when/rows/comment/file and state, newest first."""
    rows = [{"id": s.id, "created_at": s.created_at, "user": s.user, "rows": s.rows, "comment": s.comment,
             "source_name": s.source_name, "retracted": bool(getattr(s, "retracted", False))}
            for s in store.snapshots()]
    frame = pd.DataFrame(rows, columns=["id", "created_at", "user", "rows", "comment", "source_name", "retracted"])
    return frame.sort_values("id", ascending=False).reset_index(drop=True)


def diff(store: Store, a: int, b: int) -> pd.DataFrame:
    """Leaf values that differ between the states after snapshots ``a`` and ``b`` (old → new)."""
    return store.diff(a, b)
