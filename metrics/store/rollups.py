"""Rollups: every region x element x quarter summed up the hierarchy, kept in shard files.

A shard is one DuckDB file per (group, quarter). The groups are the root's children (the
provinces at national scale): a group's shard holds the rollup rows of every region below the
root in that subtree and the group's current leaf facts. The ``top`` shard of a quarter holds
the root's rows, a copy of every group's own row, and the root's own facts. A publish of one
province's quarter therefore rewrites two files of ~10⁶ rows at most, whatever the size of the
store; the files are written under new names and made visible together by the manifest swap.

Aggregations: ``sum`` adds up, ``weighted_mean`` keeps Σ value·weight and Σ weight (the
division happens at query time), ``none`` (benchmarks, published averages) stays on its own
region and is never summed upward. Coverage ("share of units at a level whose sub-tree total
is > 0") is stored as element ``code@level`` with counts in value_sum/weight_sum, which add up.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from metrics import paths
from metrics.catalog import Catalog
from metrics.regions import Hierarchy

TOP = "top"
# Above this many regions the quarter's rollups are split into one shard per child of the root
# (a province at national scale) plus a top shard; below it one shard per quarter is smaller
# and faster than many (a DuckDB file costs ~50 ms to write, however small).
SPLIT_REGIONS = 50_000
ROLLUP_COLUMNS = ("region_code", "element_code", "period", "value_sum", "weight_sum", "n_facts",
                  "snapshot_id")
_OUT = """region_code, element_code, period, value_sum::DOUBLE AS value_sum,
          weight_sum::DOUBLE AS weight_sum, n_facts::BIGINT AS n_facts, snapshot_id::INTEGER AS snapshot_id"""


def connect(database: str = ":memory:", read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Every DuckDB connection of the store: with the configured memory limit."""
    limit = str(paths.settings()["duckdb_memory_limit"])
    return duckdb.connect(database, read_only=read_only, config={"memory_limit": limit})


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sql_path(path: Path) -> str:
    """A file path as a SQL string literal (ATTACH takes no parameters; paths are ours)."""
    return "'" + str(path).replace("'", "''") + "'"


@contextlib.contextmanager
def _no_gc():
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class Layout:
    """What the rollups depend on besides the facts: the hierarchy and the catalog's rules."""
    regions: pd.DataFrame          # code, parent, depth, level, grp (depth-1 ancestor; None for the root)
    elements: pd.DataFrame         # code, aggregation, weight
    coverage: pd.DataFrame         # element, level
    unit_counts: pd.DataFrame      # level, n
    root: str
    root_level: str
    shard_of: dict[str, str]       # region code -> the group whose shard holds its rows
    leaves: frozenset[str]
    fingerprint: str
    split: int                     # 1: one group per child of the root, plus a top shard; 0: one group
    group_ranges: list[tuple[str, str, str]]   # (group, lowest code, highest code): log scans prune by it
    group_rows: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)   # group -> its slice of ``regions``

    @classmethod
    def of(cls, hierarchy: Hierarchy, catalog: Catalog, split: int | None = None) -> Layout:
        # ~10⁶ tuples and strings made at national scale, none of them in a reference cycle: the
        # cyclic collector's passes over the whole heap meanwhile cost ~0.3 s and find nothing
        with _no_gc():
            return cls._of(hierarchy, catalog, split)

    @classmethod
    def _of(cls, hierarchy: Hierarchy, catalog: Catalog, split: int | None) -> Layout:
        split = int(len(hierarchy) > SPLIT_REGIONS) if split is None else split
        # column lists and numpy arrays over the hierarchy's order (parents before children): a
        # Python loop per region cost ~0.5 s of every process's first read at national scale
        ordered = hierarchy.in_order()
        codes = [r.code for r in ordered]
        parents = [r.parent for r in ordered]
        parent = np.array([hierarchy.by_code[p].order if p else -1 for p in parents], dtype=np.int64)
        depth = np.zeros(len(codes), dtype=np.int64)   # the number of ancestors: one level per pass
        anc = parent.copy()
        while (has := anc >= 0).any():
            depth[has] += 1
            anc[has] = parent[anc[has]]
        group = np.arange(len(codes))         # the ancestor at depth ``split`` (the region itself there)
        while True:
            climb = depth[group] > split
            if not climb.any():
                break
            group[climb] = parent[group[climb]]
        codes_arr = np.array(codes, dtype=object)
        grp = np.where(depth >= split, codes_arr[group], None).tolist()
        leaf = [not r.children for r in ordered]
        levels = [r.level for r in ordered]
        depths = depth.tolist()
        rows = list(zip(codes, parents, depths, levels, grp))
        regions = pa.table({"code": pa.array(codes, pa.string()), "parent": pa.array(parents, pa.string()),
                            "depth": pa.array(depth.astype("int32")), "level": pa.array(levels, pa.string()),
                            "grp": pa.array(grp, pa.string())}).to_pandas()
        regions["leaf"] = leaf
        elements = pd.DataFrame(
            [(e.code, e.aggregation, e.weight) for e in catalog.elements.values()],
            columns=["code", "aggregation", "weight"])
        coverage = pd.DataFrame(
            [(i.formula["element"], i.formula["level"]) for i in catalog.indicators.values()
             if i.kind == "coverage"], columns=["element", "level"]).drop_duplicates()
        unit_counts = regions.groupby("level").size().rename("n").reset_index()
        shard_of = dict(zip(codes, np.where((depth <= 1) if split else np.zeros(len(codes), dtype=bool),
                                            TOP, np.array(grp, dtype=object)).tolist()))
        digest = hashlib.sha256()
        digest.update(json.dumps([split, rows, elements.values.tolist(), coverage.values.tolist()],
                                 default=str).encode())
        below = regions[regions["grp"].notna()]
        ranges = below.groupby("grp")["code"].agg(["min", "max"])
        group_ranges = [(g, lo, hi) for g, lo, hi in zip(ranges.index, ranges["min"], ranges["max"])]
        # a group's regions are one slice of ``regions`` (the hierarchy's pre-order)
        slices = {codes[i]: (i, ordered[i].order_end) for i in np.flatnonzero(depth == split).tolist()}
        return cls(regions, elements, coverage, unit_counts, hierarchy.root.code, hierarchy.root.level,
                   shard_of, frozenset(c for c, is_leaf in zip(codes, leaf) if is_leaf),
                   digest.hexdigest()[:16], split, group_ranges, slices)

    def fact_group(self, code: str) -> str | None:
        """The group whose shards hold ``code``'s own facts (``TOP``: the root's, when split; None:
        not a region). A child of the root has its rollup rows in the top shard but its facts in
        its own group's: read from ``shard_of``, no second map of 5·10⁵ regions."""
        group = self.shard_of.get(code)
        if group == TOP and code != self.root:
            return code
        return group

    def regions_of(self, groups: list[str]) -> pd.DataFrame:
        """The rows of ``regions`` down to the groups themselves (depth <= split: the top shard
        holds every group's own rows) and every row below ``groups``."""
        top = np.flatnonzero(self.regions["depth"].to_numpy() <= self.split)
        parts = [np.arange(self.group_rows[g][0] + 1, self.group_rows[g][1])      # the group's own row is in ``top``
                 for g in sorted(set(groups)) if g in self.group_rows]
        return self.regions.iloc[np.concatenate([top, *parts])] if parts else self.regions.iloc[top]

    def load(self, con: duckdb.DuckDBPyConnection, closure_groups: list[str] | None = None,
             groups: list[str] | None = None) -> None:
        """Create the layout tables (regions, elements, coverage_spec, unit_counts, closure).
        ``closure_groups``: the groups whose coverage units the closure needs (None: all) — a
        publish of one province needs 1/31 of the nation's (building all took ~0.8 s).
        ``groups``: the only groups whose regions are needed (None: every region) — the joins of a
        publish of one province then build on its 1/31 of the 5·10⁵ regions."""
        regions = self.regions if groups is None else self.regions_of(groups)
        for name, frame in (("regions", regions), ("elements", self.elements),
                            ("coverage_spec", self.coverage), ("unit_counts", self.unit_counts)):
            con.register(f"{name}_df", frame)
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_df")  # noqa: S608
            con.unregister(f"{name}_df")
        self.load_closure(con, closure_groups)

    def load_closure(self, con: duckdb.DuckDBPyConnection, groups: list[str] | None = None) -> None:
        """(Re)create ``closure`` (unit, ancestor below the root) for the units coverage counts,
        of ``groups`` only (None: every group)."""
        where = "" if groups is None else " AND grp IN (SELECT unnest($groups::VARCHAR[]))"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE closure AS
                        SELECT code, code AS ancestor, depth FROM regions
                        WHERE level IN (SELECT level FROM coverage_spec) AND depth >= $split{where}""",  # noqa: S608
                    {"split": self.split, **({} if groups is None else {"groups": groups})})
        while True:
            added = con.execute(
                """INSERT INTO closure
                   SELECT c.code, r.parent, c.depth - 1 FROM closure c JOIN regions r ON r.code = c.ancestor
                   WHERE c.depth - 1 >= $split AND NOT EXISTS
                     (SELECT 1 FROM closure x WHERE x.code = c.code AND x.ancestor = r.parent)""",
                {"split": self.split}).fetchone()[0]
            if not added:
                break


# the region columns every current fact carries into the rollups (joined once, when the quarter's
# facts are split off: ``shards._split_current``)
FACT_REGION_COLUMNS = """r.grp, r.depth, r.leaf, r.parent,
    CASE e.aggregation WHEN 'weighted_mean' THEN 2 WHEN 'sum' THEN 1 WHEN 'none' THEN 1 END::TINYINT AS agg"""
# agg: 1 a region's own value is its contribution, 2 a weighted mean's (value × weight), NULL an
# element the catalog does not know (kept among the facts, never summed)
FACT_REGION_JOINS = "LEFT JOIN elements e ON e.code = f.element_code"


def _own_rows(con: duckdb.DuckDBPyConnection, facts: str, name: str) -> None:
    """View ``name``: each region's own contribution from the current facts in table ``facts``
    (which carry ``FACT_REGION_COLUMNS``): the facts as they are for summed elements (no copy of
    the quarter's millions of leaf rows), and table ``{name}_w`` for the weighted means, which
    need the weight's value (Σ value·weight; one element in the catalog)."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE {name}_w AS
        SELECT f.region_code, f.element_code, f.period, f.value * w.value AS value_sum,
               CASE WHEN f.value IS NOT NULL THEN w.value END AS weight_sum, 1::BIGINT AS n_facts,
               f.snapshot_id, f.depth, f.grp, f.leaf, f.parent
        FROM {facts} f
        JOIN elements e ON e.code = f.element_code AND f.agg = 2
        LEFT JOIN (SELECT region_code, element_code, period, value FROM {facts}
                   WHERE element_code IN (SELECT weight FROM elements)) w
               ON w.region_code = f.region_code AND w.element_code = e.weight AND w.period = f.period""")  # noqa: S608
    con.execute(f"""CREATE OR REPLACE TEMP VIEW {name} AS
        SELECT region_code, element_code, period, value AS value_sum, NULL::DOUBLE AS weight_sum,
               1::BIGINT AS n_facts, snapshot_id, depth, grp, leaf, parent
        FROM {facts} WHERE agg = 1
        UNION ALL SELECT * FROM {name}_w""")  # noqa: S608


def build_groups(con: duckdb.DuckDBPyConnection, max_depth: int, split: int, period: str,
                 groups: list[str] | None = None) -> None:
    """From temp table ``cur`` (current facts of regions at depth >= split, quarter ``period``,
    with their region's depth, group and leaf flag) build ``group_rows`` (grp, rollup columns; a
    view over ``acc`` and ``group_upper``): every region of the groups present (``groups``, when
    the caller knows them), with coverage."""
    _own_rows(con, "cur", "own")
    # ``acc``: the sums up the tree (a region's own rows stay in ``own``); ``allrows``: both
    con.execute("CREATE OR REPLACE TEMP TABLE acc AS SELECT * FROM own WHERE false")
    con.execute("CREATE OR REPLACE TEMP VIEW allrows AS SELECT * FROM own UNION ALL SELECT * FROM acc")
    for depth in range(max_depth, split, -1):   # deepest first, up to the group's own row
        # grouped by the parent each row carries; the parents' own parents joined after grouping
        con.execute(
            """INSERT INTO acc
               SELECT s.*, p.parent FROM (
                 SELECT a.parent AS region_code, a.element_code, a.period, sum(a.value_sum),
                        sum(a.weight_sum), sum(a.n_facts), max(a.snapshot_id), $depth - 1, a.grp, false
                 FROM allrows a JOIN elements e ON e.code = a.element_code AND e.aggregation <> 'none'
                 WHERE a.depth = $depth GROUP BY a.parent, a.element_code, a.period, a.grp) s
               JOIN regions p ON p.code = s.region_code""", {"depth": depth})
    # a leaf's rows are its own facts, one per key: only the rows of regions with children need
    # summing. Coverage reads the unit totals of its few elements from a small table of their own
    # (a join against every row of the group cost ~0.5 s per province shard at national scale).
    in_groups = "SELECT DISTINCT grp FROM cur" if groups is None else "SELECT unnest($groups::VARCHAR[])"
    con.execute(
        """CREATE OR REPLACE TEMP TABLE covbase AS
           SELECT region_code, element_code, period, sum(value_sum) AS value_sum, max(snapshot_id) AS snapshot_id
           FROM allrows WHERE element_code IN (SELECT element FROM coverage_spec)
           GROUP BY region_code, element_code, period""")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE group_upper AS
            SELECT grp, {_OUT} FROM (
              SELECT grp, region_code, element_code, period, sum(value_sum) AS value_sum,
                     sum(weight_sum) AS weight_sum, sum(n_facts) AS n_facts, max(snapshot_id) AS snapshot_id
              FROM allrows WHERE NOT leaf GROUP BY grp, region_code, element_code, period)
            UNION ALL
            SELECT g.grp, {_OUT} FROM (
              SELECT c.ancestor AS region_code, cs.element || '@' || cs.level AS element_code, p.period,
                     count(*) FILTER (WHERE rb.value_sum > 0) AS value_sum, count(*) AS weight_sum,
                     count(rb.value_sum) AS n_facts, max(rb.snapshot_id) AS snapshot_id
              FROM coverage_spec cs
              JOIN regions u ON u.level = cs.level AND u.grp IN ({in_groups})
              CROSS JOIN (SELECT $period AS period) p
              LEFT JOIN covbase rb ON rb.region_code = u.code AND rb.element_code = cs.element
                                  AND rb.period = p.period
              JOIN closure c ON c.code = u.code
              GROUP BY ALL HAVING count(rb.value_sum) > 0) x
            JOIN regions g ON g.code = x.region_code""",  # noqa: S608
        {"period": period, **({} if groups is None else {"groups": groups})})
    # the leaf rows are not copied: the view reads them from the facts where they are
    con.execute(f"""CREATE OR REPLACE TEMP VIEW group_rows AS
                    SELECT grp, {_OUT} FROM own WHERE leaf UNION ALL SELECT * FROM group_upper""")  # noqa: S608
    con.execute("DROP TABLE covbase")


def build_top(con: duckdb.DuckDBPyConnection, layout: Layout) -> None:
    """From ``rootcur`` (the root's own facts) and ``prov`` (every group's own rows, one quarter)
    build ``top_rows``: the root's rows and the groups' rows."""
    _own_rows(con, "rootcur", "own_top")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE base_top AS
            SELECT region_code, element_code, period, sum(value_sum) AS value_sum,
                   sum(weight_sum) AS weight_sum, sum(n_facts) AS n_facts, max(snapshot_id) AS snapshot_id
            FROM (SELECT region_code, element_code, period, value_sum, weight_sum, n_facts, snapshot_id
                  FROM own_top
                  UNION ALL
                  SELECT $root, p.element_code, p.period, p.value_sum, p.weight_sum, p.n_facts, p.snapshot_id
                  FROM prov p JOIN elements e ON e.code = p.element_code AND e.aggregation <> 'none')
            GROUP BY ALL""", {"root": layout.root})  # noqa: S608
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE top_rows AS
            SELECT {_OUT} FROM base_top
            UNION ALL
            SELECT {_OUT} FROM (
              SELECT $root AS region_code, parts.element || '@' || parts.level AS element_code, parts.period,
                     sum(v) AS value_sum, any_value(uc.n) AS weight_sum, sum(parts.n) AS n_facts, max(s) AS snapshot_id
              FROM (SELECT cs.element, cs.level, p.period, p.value_sum AS v, p.n_facts AS n, p.snapshot_id AS s
                    FROM coverage_spec cs JOIN prov p ON p.element_code = cs.element || '@' || cs.level
                    UNION ALL
                    SELECT cs.element, cs.level, rb.period, CASE WHEN rb.value_sum > 0 THEN 1 ELSE 0 END, 1,
                           rb.snapshot_id
                    FROM coverage_spec cs JOIN base_top rb ON rb.region_code = $root
                         AND rb.element_code = cs.element AND rb.value_sum IS NOT NULL
                    WHERE cs.level = $root_level) parts
              JOIN unit_counts uc ON uc.level = parts.level
              GROUP BY parts.element, parts.level, parts.period HAVING sum(parts.n) > 0)
            UNION ALL
            SELECT {_OUT} FROM prov""", {"root": layout.root, "root_level": layout.root_level})  # noqa: S608
    con.execute("DROP VIEW own_top; DROP TABLE own_top_w; DROP TABLE base_top")


SMALL_SHARD_ROWS = 100_000


def write_shard(con: duckdb.DuckDBPyConnection, path: Path, rollup_sql: str, facts_sql: str,
                params: dict | None = None, rows: int = 0) -> None:
    """Write one shard file (rollup + facts tables) under a temporary name, fsync, rename.
    Small shards use 16 KiB blocks (a default-block file is ~800 KB however few its rows)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    block = " (BLOCK_SIZE 16384)" if rows < SMALL_SHARD_ROWS else ""
    con.execute(f"ATTACH {sql_path(tmp)} AS shard_w{block}")
    try:
        con.execute(f"CREATE TABLE shard_w.rollup AS {rollup_sql} ORDER BY region_code, element_code",
                    params or {})
        # the rows of regions that have children again, small: the readers' hot path loads them whole
        con.execute("""CREATE TABLE shard_w.upper AS SELECT * FROM shard_w.rollup
                       WHERE region_code IN (SELECT code FROM regions WHERE NOT leaf)
                       ORDER BY region_code, element_code""")
        # read whole or joined, never by range: kept in the order they come (sorting cost ~0.15 s
        # per province shard at national scale)
        con.execute(f"CREATE TABLE shard_w.facts AS {facts_sql}", params or {})
    finally:
        con.execute("DETACH shard_w")
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
