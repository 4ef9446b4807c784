"""A verbatim copy of the first store format's writer (metrics/store.py before the Delta Lake store),
kept only so that tests can write an old data directory and check its upgrade."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import fcntl
import functools
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from metrics import paths
from metrics.catalog import Catalog, default_catalog
from metrics.regions import Hierarchy, load_hierarchy

FACT_SCHEMA = pa.schema([
    ("region_code", pa.string()),
    ("element_code", pa.string()),
    ("period", pa.string()),
    ("value", pa.float64()),
    ("snapshot_id", pa.int32()),
])
KEEP_ROLLUP_FILES = 3


class StoreError(RuntimeError):
    pass


@dataclass
class Snapshot:
    id: int
    created_at: str
    user: str
    comment: str
    source_name: str
    source_sha256: str
    rows: int
    file: str
    retracted: bool = False
    retracted_at: str | None = None
    retracted_by: str | None = None
    demo: bool = False


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class Store:
    """One data directory. Cheap to create; reads the manifest on demand."""

    _connections: dict[str, duckdb.DuckDBPyConnection] = {}
    _conn_lock = threading.Lock()

    def __init__(self, data_dir: Path | str | None = None, catalog: Catalog | None = None,
                 hierarchy: Hierarchy | None = None):
        self.dir = paths.data_dir(data_dir)
        self.catalog = catalog or default_catalog()
        self._hierarchy = hierarchy
        self._manifest_cache: tuple | None = None

    # -- manifest -------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.dir / "manifest.json"

    def _current(self) -> dict:
        """The manifest as last read; re-read only when the file changed. Do not mutate."""
        try:
            st = self.manifest_path.stat()
        except FileNotFoundError:
            return {"version": 0, "rollups": None, "snapshots": []}
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if self._manifest_cache is None or self._manifest_cache[0] != stamp:
            self._manifest_cache = (stamp, json.loads(self.manifest_path.read_text(encoding="utf-8")))
        return self._manifest_cache[1]

    def manifest(self) -> dict:
        """A private copy of the manifest (publishers edit it)."""
        return copy.deepcopy(self._current())

    def snapshots(self) -> list[Snapshot]:
        return [Snapshot(**s) for s in self._current()["snapshots"]]

    def version(self) -> int:
        """Changes on every publish and retraction: the cache key of every page query."""
        return int(self._current()["version"])

    def is_empty(self) -> bool:
        return not any(not s.retracted for s in self.snapshots())

    @property
    def hierarchy(self) -> Hierarchy:
        if self._hierarchy is None:
            self._hierarchy = load_hierarchy(self.dir)
        return self._hierarchy

    @contextlib.contextmanager
    def _locked(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".publish.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- writing ------------------------------------------------------------------------------
    def publish(self, facts: pd.DataFrame, *, user: str, comment: str, source_name: str,
                source_sha256: str, demo: bool = False,
                now: dt.datetime | None = None) -> Snapshot:
        """Publish validated facts (region_code, element_code, period, value) as a new snapshot."""
        if facts.empty:
            raise StoreError("没有可发布的数据行")
        with self._locked():
            manifest = self.manifest()
            new_id = max((s["id"] for s in manifest["snapshots"]), default=0) + 1
            rel = f"snapshots/{new_id:06d}.parquet"
            self._write_snapshot(facts, new_id, self.dir / rel)
            snap = Snapshot(
                id=new_id, created_at=(now or dt.datetime.now()).isoformat(timespec="seconds"),
                user=user, comment=comment, source_name=Path(source_name).name,
                source_sha256=source_sha256, rows=len(facts), file=rel, demo=demo)
            manifest["snapshots"].append(snap.__dict__)
            self._commit(manifest)
            return snap

    def retract(self, snapshot_id: int, *, user: str, now: dt.datetime | None = None) -> Snapshot:
        with self._locked():
            manifest = self.manifest()
            entry = next((s for s in manifest["snapshots"] if s["id"] == snapshot_id), None)
            if entry is None:
                raise StoreError(f"没有编号为 {snapshot_id} 的数据版本")
            if entry["retracted"]:
                raise StoreError(f"数据版本 {snapshot_id} 已撤回")
            entry.update(retracted=True, retracted_by=user,
                         retracted_at=(now or dt.datetime.now()).isoformat(timespec="seconds"))
            self._commit(manifest)
            return Snapshot(**entry)

    def _write_snapshot(self, facts: pd.DataFrame, snapshot_id: int, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        frame = facts[["region_code", "element_code", "period", "value"]].copy()
        frame["value"] = frame["value"].astype("float64")
        frame["snapshot_id"] = snapshot_id
        frame = frame.sort_values(["region_code", "element_code", "period"], kind="stable")
        table = pa.Table.from_pandas(frame, schema=FACT_SCHEMA, preserve_index=False)
        tmp = path.with_name(f".{path.name}.tmp")
        pq.write_table(table, tmp, compression="zstd", row_group_size=1_000_000)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)

    def _commit(self, manifest: dict) -> None:
        """Build rollups for the new state, then swap the manifest in (the commit point)."""
        version = manifest["version"] + 1
        rel = f"rollups/v{version:06d}.duckdb"
        files = [self.dir / s["file"] for s in manifest["snapshots"] if not s["retracted"]]
        build_rollups(files, self.dir / rel, self.catalog, self.hierarchy)
        manifest.update(version=version, rollups=rel)
        _write_atomic(self.manifest_path,
                      json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
        self._prune_rollups(keep=rel)

    def _prune_rollups(self, keep: str) -> None:
        files = sorted((self.dir / "rollups").glob("v*.duckdb"))
        for old in files[:-KEEP_ROLLUP_FILES]:
            if old.name != Path(keep).name:
                old.unlink(missing_ok=True)

    # -- reading -----------------------------------------------------------------------------
    def connection(self) -> duckdb.DuckDBPyConnection | None:
        """A cursor on the current rollup database (read-only), or None when empty."""
        rel = self._current().get("rollups")
        if not rel:
            return None
        path = str(self.dir / rel)
        with self._conn_lock:
            con = self._connections.get(path)
            if con is None:
                con = duckdb.connect(path, read_only=True)
                self._connections[path] = con
            return con.cursor()

    ROLLUP_COLUMNS = ("region_code", "element_code", "period", "value_sum", "weight_sum", "n_facts",
                      "snapshot_id")

    def rollup_arrays(self, region_codes: list[str], element_codes: list[str],
                      period_from: str | None = None, period_to: str | None = None) -> dict[str, np.ndarray]:
        """Rollup rows as numpy columns (the pages' hot path: no DataFrame construction)."""
        con = self.connection()
        if con is None:
            return {c: np.array([], dtype=object if i < 3 else float) for i, c in enumerate(self.ROLLUP_COLUMNS)}
        out = con.execute(
            """SELECT region_code, element_code, period, value_sum, weight_sum, n_facts, snapshot_id
               FROM rollup
               WHERE region_code IN (SELECT unnest($regions::VARCHAR[]))
                 AND element_code IN (SELECT unnest($elements::VARCHAR[]))
                 AND period >= $p0 AND period <= $p1
               ORDER BY region_code, element_code, period""",
            {"regions": list(region_codes), "elements": list(element_codes),
             "p0": period_from or "0000Q1", "p1": period_to or "9999Q4"},
        ).fetchnumpy()
        return {k: (np.asarray(v, dtype=object) if i < 3 else
                    np.ma.filled(np.ma.asarray(v, dtype=float), np.nan))
                for i, (k, v) in enumerate(out.items())}

    def rollup_rows(self, region_codes: list[str], element_codes: list[str],
                    period_from: str | None = None, period_to: str | None = None) -> pd.DataFrame:
        """Rollup rows: region_code, element_code, period, value_sum, weight_sum, n_facts, snapshot_id."""
        return pd.DataFrame(self.rollup_arrays(region_codes, element_codes, period_from, period_to),
                            columns=list(self.ROLLUP_COLUMNS))

    @functools.lru_cache(maxsize=64)  # noqa: B019 - keyed by the rollup file, which never changes
    def _periods(self, rollup_file: str) -> tuple[str, ...]:
        con = self.connection()
        return tuple(r[0] for r in con.execute("SELECT DISTINCT period FROM rollup ORDER BY 1").fetchall())

    def periods_with_data(self) -> list[str]:
        rel = self._current().get("rollups")
        return list(self._periods(rel)) if rel else []

    def regions_with_data(self) -> set[str]:
        con = self.connection()
        if con is None:
            return set()
        return {r[0] for r in con.execute("SELECT DISTINCT region_code FROM rollup").fetchall()}

    def current_facts(self) -> pd.DataFrame:
        """Current leaf-level facts (region_code, element_code, period, value, snapshot_id)."""
        con = self.connection()
        if con is None:
            return pd.DataFrame(columns=["region_code", "element_code", "period", "value", "snapshot_id"])
        return con.execute("SELECT * FROM facts ORDER BY region_code, element_code, period").df()


def _closure_frame(hierarchy: Hierarchy) -> pd.DataFrame:
    rows = []
    for region in hierarchy.in_order():
        rows.append((region.code, region.code))
        rows.extend((region.code, a.code) for a in hierarchy.ancestors(region.code))
    return pd.DataFrame(rows, columns=["code", "ancestor"])


def build_rollups(snapshot_files: list[Path], target: Path, catalog: Catalog, hierarchy: Hierarchy) -> None:
    """Build the rollup database for the given snapshots into ``target`` (atomically)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    regions = pd.DataFrame(hierarchy.to_rows())
    regions["depth"] = [len(hierarchy.ancestors(c)) for c in regions["code"]]
    closure = _closure_frame(hierarchy)
    elements = pd.DataFrame(
        [{"code": e.code, "aggregation": e.aggregation, "weight": e.weight} for e in catalog.elements.values()])
    coverage = pd.DataFrame(
        [{"element": i.formula["element"], "level": i.formula["level"]}
         for i in catalog.indicators.values() if i.kind == "coverage"],
        columns=["element", "level"]).drop_duplicates()
    con = duckdb.connect(str(tmp))
    try:
        for name, frame in (("regions", regions), ("closure", closure), ("elements", elements),
                            ("coverage_spec", coverage)):
            con.register(f"{name}_df", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_df")  # noqa: S608 (constant names)
            con.unregister(f"{name}_df")
        if snapshot_files:
            con.execute(
                """CREATE TABLE facts AS
                   SELECT region_code, element_code, period,
                          arg_max(value, snapshot_id) AS value, max(snapshot_id) AS snapshot_id
                   FROM read_parquet($files) GROUP BY ALL""",
                {"files": [str(f) for f in snapshot_files]})
        else:
            con.execute("""CREATE TABLE facts (region_code VARCHAR, element_code VARCHAR,
                           period VARCHAR, value DOUBLE, snapshot_id INTEGER)""")
        # Each region's own contribution, then sums pushed up one level at a time (deepest
        # first): only the bottom level's rows are joined, each higher level works on sums.
        con.execute(
            """CREATE TABLE rollup_acc AS
               SELECT f.region_code, f.element_code, f.period,
                      f.value AS value_sum, NULL::DOUBLE AS weight_sum, 1::BIGINT AS n_facts, f.snapshot_id
               FROM facts f JOIN elements e ON e.code = f.element_code AND e.aggregation = 'sum'
               UNION ALL
               SELECT f.region_code, f.element_code, f.period,
                      f.value * w.value, CASE WHEN f.value IS NOT NULL THEN w.value END, 1, f.snapshot_id
               FROM facts f
               JOIN elements e ON e.code = f.element_code AND e.aggregation = 'weighted_mean'
               LEFT JOIN facts w ON w.region_code = f.region_code AND w.element_code = e.weight
                                AND w.period = f.period""")
        for depth in range(int(regions["depth"].max()), 0, -1):
            con.execute(
                """INSERT INTO rollup_acc
                   SELECT r.parent, a.element_code, a.period, sum(a.value_sum), sum(a.weight_sum),
                          sum(a.n_facts), max(a.snapshot_id)
                   FROM rollup_acc a JOIN regions r ON r.code = a.region_code AND r.depth = $depth
                   GROUP BY ALL""", {"depth": depth})
        con.execute(
            """CREATE TABLE rollup_base AS
               SELECT region_code, element_code, period, sum(value_sum) AS value_sum,
                      sum(weight_sum) AS weight_sum, sum(n_facts) AS n_facts, max(snapshot_id) AS snapshot_id
               FROM rollup_acc GROUP BY ALL""")
        con.execute("DROP TABLE rollup_acc")
        # Coverage: share of units at a level whose sub-tree total is > 0, as element "code@level"
        con.execute(
            """CREATE TABLE rollup_coverage AS
               SELECT c.ancestor AS region_code, cs.element || '@' || cs.level AS element_code,
                      p.period,
                      count(*) FILTER (WHERE rb.value_sum > 0)::DOUBLE AS value_sum,
                      count(*)::DOUBLE AS weight_sum,
                      count(rb.value_sum) AS n_facts,
                      max(rb.snapshot_id) AS snapshot_id
               FROM coverage_spec cs
               JOIN regions u ON u.level = cs.level
               CROSS JOIN (SELECT DISTINCT period FROM facts) p
               LEFT JOIN rollup_base rb ON rb.region_code = u.code AND rb.element_code = cs.element
                                       AND rb.period = p.period
               JOIN closure c ON c.code = u.code
               GROUP BY ALL
               HAVING count(rb.value_sum) > 0""")
        con.execute(
            """CREATE TABLE rollup AS
               SELECT * FROM (SELECT * FROM rollup_base UNION ALL SELECT * FROM rollup_coverage)
               ORDER BY region_code, element_code, period""")
        con.execute("DROP TABLE rollup_base; DROP TABLE rollup_coverage")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    _fsync_dir(target.parent)
