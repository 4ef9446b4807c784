"""The one seam between ingest and the store: what ingest asks of it, in one place.

The store's API (``publish``, ``retract``, ``restore``, ``snapshots``, ``current_values``,
``diff``, ``rebuild``, ``at``) is used directly where it exists.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.store import Store

KEY = ["region_code", "element_code", "period"]


def current_values(store: Store, keys: pd.DataFrame) -> pd.DataFrame:
    """``keys`` (region_code, element_code, period) with the current value (NaN where none)."""
    keys = keys[KEY].reset_index(drop=True)
    if hasattr(store, "current_values"):
        out = store.current_values(keys)
        return out if "value" in out else keys.assign(value=np.nan)
    con = store.connection()
    if con is None or keys.empty:
        return keys.assign(value=np.nan, snapshot_id=np.nan)
    con.register("ingest_keys", keys)
    try:
        return con.execute(
            """SELECT k.region_code, k.element_code, k.period, f.value, f.snapshot_id
               FROM ingest_keys k LEFT JOIN facts f USING (region_code, element_code, period)""").df()
    finally:
        con.unregister("ingest_keys")


def publish(store: Store, facts: pd.DataFrame, *, user, comment: str, source_name: str, source_sha256: str):
    return store.publish(facts[KEY + ["value"]], user=getattr(user, "name", user), comment=comment,
                         source_name=source_name, source_sha256=source_sha256)


def retract(store: Store, snapshot_id: int, *, user, comment: str | None = None):
    return store.retract(snapshot_id, user=getattr(user, "name", user))


def restore(store: Store, snapshot_id: int, *, user, comment: str | None = None):
    if hasattr(store, "restore"):
        return store.restore(snapshot_id, user=user, comment=comment)
    raise NotImplementedError("restore needs the Delta store")


def rebuild(store: Store, user=None) -> None:
    """Rebuild derived tables after the hierarchy changed."""
    fresh = Store(store.dir, catalog=store.catalog)
    if hasattr(fresh, "rebuild"):
        fresh.rebuild(user=user)
        return
    with fresh._locked():
        fresh._commit(fresh.manifest())


def snapshots_frame(store: Store) -> pd.DataFrame:
    """Snapshots with who/when/rows/comment/file and state, newest first."""
    rows = [{"id": s.id, "created_at": s.created_at, "user": s.user, "rows": s.rows, "comment": s.comment,
             "source_name": s.source_name, "retracted": bool(getattr(s, "retracted", False))}
            for s in store.snapshots()]
    frame = pd.DataFrame(rows, columns=["id", "created_at", "user", "rows", "comment", "source_name", "retracted"])
    return frame.sort_values("id", ascending=False).reset_index(drop=True)


def diff(store: Store, a: int, b: int) -> pd.DataFrame:
    """Values that differ between snapshot ``a`` and snapshot ``b`` (region, element, period, a, b)."""
    if hasattr(store, "diff"):
        return store.diff(a, b)
    import pyarrow.parquet as pq
    by_id = {s.id: s for s in store.snapshots()}
    frames = []
    for sid in (a, b):
        table = pq.read_table(store.dir / by_id[sid].file, columns=KEY + ["value"]).to_pandas()
        frames.append(table.rename(columns={"value": f"value_{'a' if sid == a else 'b'}"}))
    merged = frames[0].merge(frames[1], on=KEY, how="outer")
    differs = ~np.isclose(merged["value_a"], merged["value_b"], equal_nan=True)
    return merged[differs].reset_index(drop=True)
