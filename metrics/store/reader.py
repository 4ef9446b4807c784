"""Reading the rollup shards: one in-memory DuckDB per process, shard files attached read-only.

A query names the regions, elements and quarters it wants; the shards that hold them are
attached on first use (files never change after they are written) and read in one UNION ALL.
Writers in other processes never write a file a reader has open: they write new files and
swap the manifest, so readers are never blocked and never see a half-written state.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.compute as pc

from metrics.paths import settings
from metrics.store.rollups import ROLLUP_COLUMNS, TOP, connect, sql_path

ShardMap = dict[str, dict[str, str]]


def empty_arrays() -> dict[str, np.ndarray]:
    return {c: np.array([], dtype=object if i < 3 else float) for i, c in enumerate(ROLLUP_COLUMNS)}


@dataclass
class Upper:
    """One shard's ``upper`` rows held compactly: one quarter per shard, so the period is one
    string; rows sorted by region then element; a region is a span, an element an integer id.
    ~36 bytes a row (the Python strings of a plain fetch cost ~200)."""
    period: str
    spans: dict[str, tuple[int, int]]
    element_ids: np.ndarray                 # int32 per row, into ``element_names``
    element_names: np.ndarray               # object
    element_index: dict[str, int]
    numbers: dict[str, np.ndarray]          # value_sum, weight_sum, n_facts, snapshot_id (float64)

    @property
    def nbytes(self) -> int:
        return int(self.element_ids.nbytes + sum(v.nbytes for v in self.numbers.values()) + 100 * len(self.spans))

    def rows(self, idx: np.ndarray, region_codes: np.ndarray) -> dict[str, np.ndarray]:
        """The rows at ``idx`` as rollup arrays (``region_codes``: the region of each)."""
        return {"region_code": region_codes, "element_code": self.element_names[self.element_ids[idx]],
                "period": np.full(len(idx), self.period, dtype=object),
                **{c: v[idx] for c, v in self.numbers.items()}}


def _load_upper(cur: duckdb.DuckDBPyConnection, alias: str) -> Upper:
    table = cur.sql(
        f"SELECT {', '.join(ROLLUP_COLUMNS)} FROM {alias}.upper ORDER BY region_code, element_code").to_arrow_table()  # noqa: S608
    n = table.num_rows
    regions = pc.dictionary_encode(table["region_code"]).combine_chunks()
    r_ids = regions.indices.to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.r_[True, r_ids[1:] != r_ids[:-1]]) if n else np.array([], dtype=np.int64)
    bounds = np.append(starts, n)
    names = regions.dictionary.to_pylist()
    spans = {names[r_ids[a]]: (int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])}
    elements = pc.dictionary_encode(table["element_code"]).combine_chunks()
    element_names = np.array(elements.dictionary.to_pylist(), dtype=object)
    numbers = {c: table[c].to_numpy().astype(float) if table[c].null_count == 0
               else np.asarray(table[c].to_pandas(), dtype=float) for c in ROLLUP_COLUMNS[3:]}
    period = table["period"][0].as_py() if n else ""
    return Upper(period=period, spans=spans,
                 element_ids=elements.indices.to_numpy(zero_copy_only=False).astype(np.int32),
                 element_names=element_names, element_index={e: i for i, e in enumerate(element_names)},
                 numbers=numbers)


class ShardReader:
    """Attach-on-demand reader shared by every Store of the process."""

    _instance: ShardReader | None = None
    _instance_lock = threading.Lock()

    def __init__(self, cache_bytes: int | None = None):
        self.con = connect()
        self.aliases: dict[str, str] = {}
        self.lock = threading.Lock()
        self._upper: dict[str, Upper] = {}
        self._upper_bytes = 0
        self.cache_bytes = cache_bytes if cache_bytes is not None else \
            int(settings()["upper_cache_mb"]) * 1024 * 1024

    def upper(self, path: Path) -> Upper | None:
        """A shard's ``upper`` rows, loaded once (files never change) while they fit the cache.
        ``None`` when they do not: the caller reads that shard with SQL. A page reads every quarter
        of a subtree in turn, so evicting to make room would make every read a miss; what is in
        stays in, and only files no manifest names any more leave (``forget``)."""
        key = str(path)
        with self.lock:
            hit = self._upper.get(key)
            if hit is not None:
                return hit
            if self._upper_bytes >= self.cache_bytes:
                return None
        cur = self.con.cursor()
        try:
            loaded = _load_upper(cur, self.alias(path))
        finally:
            cur.close()
        with self.lock:      # admitted while below the cap: over it by one shard at most
            if key not in self._upper:
                self._upper[key] = loaded
                self._upper_bytes += loaded.nbytes
        return loaded

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
                self._upper_bytes -= self._upper.pop(key).nbytes
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


def _rows_by_sql(reader: ShardReader, files: list[Path], table: str, regions: list[str],
                 element_codes: list[str]) -> dict[str, np.ndarray]:
    """The rollup rows of ``regions`` × ``element_codes`` in ``table`` of ``files``, sorted."""
    return _columns(reader.query(
        files, table, ", ".join(ROLLUP_COLUMNS),
        "region_code IN (SELECT unnest($regions::VARCHAR[])) AND element_code IN (SELECT unnest($elements::VARCHAR[]))",
        {"regions": list(regions), "elements": list(element_codes)}, "region_code, element_code, period"))


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
    uncached = []
    for path in files_for(root, shards, shard_of, upper, period_from, period_to):
        cached = reader.upper(path)
        if cached is None:
            uncached.append(path)
            continue
        spans = [(cached.spans[c], region_rank[c], c) for c in upper if c in cached.spans]
        if not spans:
            continue
        idx = np.concatenate([np.arange(a, b) for (a, b), _, _ in spans])
        ranks = np.concatenate([np.full(b - a, rank) for (a, b), rank, _ in spans])
        codes = np.repeat(np.array([c for _, _, c in spans], dtype=object), [b - a for (a, b), _, _ in spans])
        e_rank = _element_lut(cached.element_index, element_order, element_rank)[cached.element_ids[idx]]
        keep = e_rank >= 0
        idx, ranks, e_rank, codes = idx[keep], ranks[keep], e_rank[keep], codes[keep]
        if not len(idx):
            continue
        parts.append(cached.rows(idx, codes))
        keys.append((ranks, e_rank, np.full(len(idx), period_rank.get(cached.period, 0))))
    if uncached:    # beyond the cache: the same rows by SQL (sorted by the strings below)
        parts.append(_rows_by_sql(reader, uncached, "upper", upper, element_codes))
    files = files_for(root, shards, shard_of, leaf, period_from, period_to)
    if files:
        parts.append(_rows_by_sql(reader, files, "rollup", leaf, element_codes))
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
    uncached = []
    for path in files_for(root, shards, shard_of, upper, quarters[0], quarters[-1]):
        cached = reader.upper(path)
        if cached is None:
            uncached.append(path)
            continue
        spans = [(cached.spans[c], region_at[c]) for c in upper if c in cached.spans]
        j = quarter_at.get(cached.period)
        if not spans or j is None:
            continue
        idx = np.concatenate([np.arange(a, b) for (a, b), _ in spans])
        rows = np.concatenate([np.full(b - a, i) for (a, b), i in spans])
        e = _element_lut(cached.element_index, element_codes, element_at)[cached.element_ids[idx]]
        keep = e >= 0
        idx, rows, e = idx[keep], rows[keep], e[keep]
        value[e, rows, j] = cached.numbers["value_sum"][idx]
        weight[e, rows, j] = cached.numbers["weight_sum"][idx]
    # beyond the in-memory cache (upper rows), and leaves: by SQL
    for table, regions, files in (("upper", upper, uncached),
                                  ("rollup", leaf, files_for(root, shards, shard_of, leaf, quarters[0], quarters[-1]))):
        if not files:
            continue
        raw = _rows_by_sql(reader, files, table, regions, element_codes)
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
