"""Reading the rollup shards: one in-memory DuckDB per process, shard files attached read-only.

A query names the regions, elements and quarters it wants; the shards that hold them are
attached on first use (files never change after they are written) and read in one UNION ALL.
Writers in other processes never write a file a reader has open: they write new files and
swap the manifest, so readers are never blocked and never see a half-written state.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import duckdb
import numpy as np

from metrics.store.rollups import ROLLUP_COLUMNS, TOP, connect, sql_path

ShardMap = dict[str, dict[str, str]]


def empty_arrays() -> dict[str, np.ndarray]:
    return {c: np.array([], dtype=object if i < 3 else float) for i, c in enumerate(ROLLUP_COLUMNS)}


class ShardReader:
    """Attach-on-demand reader shared by every Store of the process."""

    _instance: ShardReader | None = None
    _instance_lock = threading.Lock()

    def __init__(self):
        self.con = connect()
        self.aliases: dict[str, str] = {}
        self.lock = threading.Lock()

    @classmethod
    def get(cls) -> ShardReader:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def alias(self, path: Path) -> str:
        key = str(path)
        with self.lock:
            alias = self.aliases.get(key)
            if alias is None:
                alias = "s" + hashlib.sha1(key.encode()).hexdigest()[:16]
                self.con.execute(f"ATTACH {sql_path(path)} AS {alias} (READ_ONLY)")
                self.aliases[key] = alias
            return alias

    def forget(self, keep: set[str], prefix: str) -> None:
        """Detach files under ``prefix`` that the live manifests no longer name."""
        with self.lock:
            for key in [k for k in self.aliases if k.startswith(prefix) and k not in keep]:
                try:
                    self.con.execute(f"DETACH {self.aliases.pop(key)}")
                except duckdb.Error:
                    pass

    def query(self, files: list[Path], table: str, columns: str, where: str, params: dict,
              order: str) -> dict[str, np.ndarray]:
        aliases = [self.alias(f) for f in files]
        sql = " UNION ALL ".join(f"SELECT {columns} FROM {a}.{table} WHERE {where}" for a in aliases)  # noqa: S608 (aliases and table names are ours; values are parameters)
        cur = self.con.cursor()
        try:
            return cur.execute(f"SELECT * FROM ({sql}) ORDER BY {order}", params).fetchnumpy()  # noqa: S608 (aliases and table names are ours; values are parameters)
        finally:
            cur.close()


def files_for(root: Path, shards: ShardMap, shard_of: dict[str, str], region_codes: list[str],
              period_from: str | None, period_to: str | None) -> list[Path]:
    groups = {shard_of.get(c, TOP) for c in region_codes}
    p0, p1 = period_from or "0000Q1", period_to or "9999Q4"
    return [root / g_files[g] for p, g_files in shards.items() if p0 <= p <= p1
            for g in groups if g in g_files]


def rollup_arrays(root: Path, shards: ShardMap, shard_of: dict[str, str], region_codes: list[str],
                  element_codes: list[str], period_from: str | None = None,
                  period_to: str | None = None) -> dict[str, np.ndarray]:
    files = files_for(root, shards, shard_of, region_codes, period_from, period_to)
    if not files or not region_codes or not element_codes:
        return empty_arrays()
    out = ShardReader.get().query(
        files, "rollup", ", ".join(ROLLUP_COLUMNS),
        "region_code IN (SELECT unnest($regions::VARCHAR[])) AND element_code IN (SELECT unnest($elements::VARCHAR[]))",
        {"regions": list(region_codes), "elements": list(element_codes)},
        "region_code, element_code, period")
    return {k: (np.asarray(v, dtype=object) if i < 3 else np.ma.filled(np.ma.asarray(v, dtype=float), np.nan))
            for i, (k, v) in enumerate(out.items())}
