"""Reading the rollup shards: one in-memory DuckDB per process, shard files attached read-only.

A query names the regions, elements and quarters it wants; the shards that hold them are
attached on first use (files never change after they are written) and read in one UNION ALL.
Writers in other processes never write a file a reader has open: they write new files and
swap the manifest, so readers are never blocked and never see a half-written state.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from metrics.store.rollups import ROLLUP_COLUMNS, TOP, connect, sql_path

ShardMap = dict[str, dict[str, str]]


def empty_arrays() -> dict[str, np.ndarray]:
    return {c: np.array([], dtype=object if i < 3 else float) for i, c in enumerate(ROLLUP_COLUMNS)}


class ShardReader:
    """Attach-on-demand reader shared by every Store of the process."""

    _instance: ShardReader | None = None
    _instance_lock = threading.Lock()

    UPPER_CACHE_ROWS = 4_000_000     # ~250 MB of cached upper rows, least recently used first out

    def __init__(self):
        self.con = connect()
        self.aliases: dict[str, str] = {}
        self.lock = threading.Lock()
        self._upper: OrderedDict[str, tuple[dict, dict]] = OrderedDict()
        self._upper_rows = 0

    def upper(self, path: Path) -> tuple[dict[str, np.ndarray], dict[str, tuple[int, int]]]:
        """A shard's ``upper`` rows as arrays and each region's (start, end) in them (files never change)."""
        key = str(path)
        with self.lock:
            hit = self._upper.get(key)
            if hit is not None:
                self._upper.move_to_end(key)
                return hit
        alias = self.alias(path)
        cur = self.con.cursor()
        try:
            arrays = _columns(cur.execute(
                f"SELECT {', '.join(ROLLUP_COLUMNS)} FROM {alias}.upper ORDER BY region_code, element_code").fetchnumpy())  # noqa: S608
        finally:
            cur.close()
        regions = arrays["region_code"]
        codes, starts = np.unique(regions.astype(str), return_index=True)
        order = np.argsort(starts)
        bounds = np.append(starts[order], len(regions))
        index = {str(codes[order][i]): (int(bounds[i]), int(bounds[i + 1])) for i in range(len(order))}
        element_ids, element_names = pd.factorize(arrays["element_code"])
        index["__elements__"] = (element_ids, {str(e): i for i, e in enumerate(element_names)})
        with self.lock:
            self._upper[key] = (arrays, index)
            self._upper_rows += len(regions)
            while self._upper_rows > self.UPPER_CACHE_ROWS and len(self._upper) > 1:
                _, (old, _) = self._upper.popitem(last=False)
                self._upper_rows -= len(old["region_code"])
        return arrays, index

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
            for key in [k for k in self._upper if k.startswith(prefix) and k not in keep]:
                self._upper_rows -= len(self._upper.pop(key)[0]["region_code"])
            for key in [k for k in self.aliases if k.startswith(prefix) and k not in keep]:
                try:
                    self.con.execute(f"DETACH {self.aliases.pop(key)}")
                except duckdb.Error:
                    pass

    def query(self, files: list[Path], table: str, columns: str, where: str, params: dict,
              order: str) -> dict[str, np.ndarray]:
        aliases = [self.alias(f) for f in files]
        sql = " UNION ALL ".join(f"SELECT {columns} FROM {a}.{table} WHERE {where}" for a in aliases)  # noqa: S608
        cur = self.con.cursor()
        try:
            return cur.execute(f"SELECT * FROM ({sql}) ORDER BY {order}", params).fetchnumpy()  # noqa: S608
        finally:
            cur.close()


def files_for(root: Path, shards: ShardMap, shard_of: dict[str, str], region_codes: list[str],
              period_from: str | None, period_to: str | None) -> list[Path]:
    groups = {shard_of.get(c, TOP) for c in region_codes}
    p0, p1 = period_from or "0000Q1", period_to or "9999Q4"
    return [root / g_files[g] for p, g_files in shards.items() if p0 <= p <= p1
            for g in sorted(groups) if g in g_files]


def _sorted(parts: list[dict[str, np.ndarray]], keys: list[tuple] | None = None) -> dict[str, np.ndarray]:
    """Concatenate and sort by region, element, period: by the parts' integer ``keys`` (rank arrays
    of region, element, period) when every part has them, else by the strings."""
    if not parts:
        return empty_arrays()
    cols = {c: np.concatenate([p[c] for p in parts]) for c in ROLLUP_COLUMNS}
    if keys is not None and len(keys) == len(parts):
        r, e, p = (np.concatenate([k[i] for k in keys]) for i in range(3))
        order = np.lexsort((p, e, r))
    else:
        order = np.lexsort((cols["period"].astype(str), cols["element_code"].astype(str),
                            cols["region_code"].astype(str)))
    return {c: v[order] for c, v in cols.items()}


def _columns(raw: dict) -> dict[str, np.ndarray]:
    return {k: (np.asarray(v, dtype=object) if i < 3 else np.ma.filled(np.ma.asarray(v, dtype=float), np.nan))
            for i, (k, v) in enumerate(raw.items())}


def rollup_arrays(root: Path, shards: ShardMap, shard_of: dict[str, str], region_codes: list[str],
                  element_codes: list[str], period_from: str | None = None, period_to: str | None = None,
                  leaves: frozenset[str] = frozenset()) -> dict[str, np.ndarray]:
    """Rollup rows, sorted by region, element, period. Regions with children come from each
    shard's ``upper`` table, loaded once per file and sliced in memory; leaves from SQL."""
    if not region_codes or not element_codes:
        return empty_arrays()
    reader = ShardReader.get()
    upper = [c for c in region_codes if c not in leaves]
    leaf = [c for c in region_codes if c in leaves]
    parts, keys = [], []
    region_rank = {c: i for i, c in enumerate(sorted(set(upper)))}
    element_order = sorted(set(element_codes))
    element_rank = {e: i for i, e in enumerate(element_order)}
    period_rank = {p: i for i, p in enumerate(sorted(shards))}
    for path in files_for(root, shards, shard_of, upper, period_from, period_to):
        arrays, index = reader.upper(path)
        spans = [(index[c], region_rank[c]) for c in upper if c in index]
        if not spans:
            continue
        idx = np.concatenate([np.arange(a, b) for (a, b), _ in spans])
        ranks = np.concatenate([np.full(b - a, rank) for (a, b), rank in spans])
        element_ids, names = index["__elements__"]
        e_rank = _element_lut(names, element_order, element_rank)[element_ids[idx]]
        keep = e_rank >= 0
        idx, ranks, e_rank = idx[keep], ranks[keep], e_rank[keep]
        if not len(idx):
            continue
        parts.append({c: v[idx] for c, v in arrays.items()})
        keys.append((ranks, e_rank, np.full(len(idx), period_rank.get(str(arrays["period"][idx[0]]), 0))))
    files = files_for(root, shards, shard_of, leaf, period_from, period_to)
    if files:
        parts.append(_columns(reader.query(
            files, "rollup", ", ".join(ROLLUP_COLUMNS),
            "region_code IN (SELECT unnest($regions::VARCHAR[])) AND element_code IN (SELECT unnest($elements::VARCHAR[]))",
            {"regions": leaf, "elements": list(element_codes)}, "region_code, element_code, period")))
        if len(parts) == 1:
            return parts[0]                 # leaves only: sorted by the query
    return _sorted(parts, keys)


def rollup_cells(root: Path, shards: ShardMap, shard_of: dict[str, str], region_codes: list[str],
                 element_codes: list[str], quarters: list[str], leaves: frozenset[str] = frozenset()
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``rollup_arrays`` placed by index: ``value_sum`` and ``weight_sum`` as
    (element × region × quarter) arrays, NaN where there is no row. No string column is copied and
    nothing is sorted; where ``rollup_arrays`` would give a key twice, the later file wins, as there."""
    shape = (len(element_codes), len(region_codes), len(quarters))
    value, weight = np.full(shape, np.nan), np.full(shape, np.nan)
    if not all(shape):
        return value, weight
    reader = ShardReader.get()
    region_at = {c: i for i, c in enumerate(region_codes)}
    element_at = {e: i for i, e in enumerate(element_codes)}
    quarter_at = {q: j for j, q in enumerate(quarters)}
    upper = [c for c in region_at if c not in leaves]
    leaf = [c for c in region_at if c in leaves]
    for path in files_for(root, shards, shard_of, upper, quarters[0], quarters[-1]):
        arrays, index = reader.upper(path)
        spans = [(index[c], region_at[c]) for c in upper if c in index]
        if not spans:
            continue
        j = quarter_at.get(str(arrays["period"][spans[0][0][0]]))
        if j is None:
            continue
        idx = np.concatenate([np.arange(a, b) for (a, b), _ in spans])
        rows = np.concatenate([np.full(b - a, i) for (a, b), i in spans])
        element_ids, names = index["__elements__"]
        e = _element_lut(names, element_codes, element_at)[element_ids[idx]]
        keep = e >= 0
        idx, rows, e = idx[keep], rows[keep], e[keep]
        value[e, rows, j] = arrays["value_sum"][idx]
        weight[e, rows, j] = arrays["weight_sum"][idx]
    files = files_for(root, shards, shard_of, leaf, quarters[0], quarters[-1])
    if files:
        raw = _columns(reader.query(
            files, "rollup", ", ".join(ROLLUP_COLUMNS),
            "region_code IN (SELECT unnest($regions::VARCHAR[])) AND element_code IN (SELECT unnest($elements::VARCHAR[]))",
            {"regions": leaf, "elements": list(element_codes)}, "region_code, element_code, period"))
        e = np.fromiter(map(element_at.__getitem__, raw["element_code"].tolist()), np.int64, len(raw["element_code"]))
        r = np.fromiter(map(region_at.__getitem__, raw["region_code"].tolist()), np.int64, len(e))
        q = np.fromiter((quarter_at.get(p, -1) for p in raw["period"].tolist()), np.int64, len(e))
        keep = q >= 0
        value[e[keep], r[keep], q[keep]] = raw["value_sum"][keep]
        weight[e[keep], r[keep], q[keep]] = raw["weight_sum"][keep]
    return value, weight


_LUTS: dict[tuple[int, tuple[str, ...]], tuple[dict, np.ndarray]] = {}


def _element_lut(names: dict[str, int], element_codes: list[str], element_at: dict[str, int]) -> np.ndarray:
    """A shard's element ids → positions in ``element_codes`` (-1: not wanted); cached per shard
    table (its ``names`` dict lives as long as the table is cached) and element list."""
    key = (id(names), tuple(element_codes))
    hit = _LUTS.get(key)
    if hit is not None and hit[0] is names:
        return hit[1]
    lut = np.full(len(names), -1)
    for name, i in names.items():
        lut[i] = element_at.get(name, -1)
    if len(_LUTS) > 1024:
        _LUTS.clear()
    _LUTS[key] = (names, lut)
    return lut
