"""Keeping the rollup shards in step with the fact log: full rebuild and incremental apply.

A shard set is ``{period: {group: relative file}}`` under a root directory; the manifest that
names it is the only commit point readers see. Every shard file is written under a new name
(``<group>-<tag>.duckdb``), so a set being built never disturbs the one in force.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pyarrow as pa

from metrics.store.log import FactLog, Quarter
from metrics.store.rollups import (
    FACT_REGION_COLUMNS,
    FACT_REGION_JOINS,
    TOP,
    Layout,
    build_groups,
    build_top,
    connect,
    fsync_dir,
    sql_path,
    write_shard,
)

ShardMap = dict[str, dict[str, str]]
_FACT_COLS = "region_code, element_code, period, value, snapshot_id"
_ROLLUP_COLS = "region_code, element_code, period, value_sum, weight_sum, n_facts, snapshot_id"


def read_manifest(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def write_manifest(path: Path, manifest: dict) -> None:
    """Replace the manifest atomically (temp, fsync, rename, fsync dir): the commit point."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def shard_files(shards: ShardMap) -> set[str]:
    return {rel for groups in shards.values() for rel in groups.values()}


def _max_depth(layout: Layout) -> int:
    return int(layout.regions["depth"].max()) if len(layout.regions) else 0


def _write_groups(con: duckdb.DuckDBPyConnection, root: Path, layout: Layout, period: str, tag: str,
                  groups: list[str]) -> dict[str, str]:
    """Write the shards of ``groups`` (from group_rows / cur)."""
    out: dict[str, str] = {}
    for g in groups:
        n = con.execute("SELECT count(*) FROM group_rows WHERE grp = $g", {"g": g}).fetchone()[0]
        if not n:
            continue
        rel = f"{period}/{g}-{tag}.duckdb"
        # when split, the group's own row lives in the top shard only (one home per region)
        own = " AND region_code <> grp" if layout.split else ""
        write_shard(con, root / rel, f"SELECT {_ROLLUP_COLS} FROM group_rows WHERE grp = $g{own}",  # noqa: S608
                    f"SELECT {_FACT_COLS} FROM cur WHERE grp = $g", {"g": g}, rows=n)  # noqa: S608
        out[g] = rel
    return out


def _write_top(con: duckdb.DuckDBPyConnection, root: Path, layout: Layout, period: str, tag: str) -> dict[str, str]:
    """Write the top shard (from top_rows / rootcur) when split."""
    n = con.execute("SELECT count(*) FROM top_rows").fetchone()[0] if layout.split else 0
    if not n:
        return {}
    rel = f"{period}/{TOP}-{tag}.duckdb"
    write_shard(con, root / rel, f"SELECT {_ROLLUP_COLS} FROM top_rows", f"SELECT {_FACT_COLS} FROM rootcur",  # noqa: S608
                rows=n)
    return {TOP: rel}


def _split_current(con: duckdb.DuckDBPyConnection, layout: Layout, groups: list[str] | None = None) -> None:
    """``allcur`` (current facts, one quarter) -> ``cur`` (below the root) and ``rootcur``, each
    fact with its region's depth, group and leaf flag. ``groups``: the only groups ``allcur``
    holds, when known (the regions joined are then theirs, not all 5·10⁵)."""
    where = "" if groups is None else " AND r.grp IN (SELECT unnest($groups::VARCHAR[]))"
    con.execute(f"""CREATE OR REPLACE TEMP TABLE cur AS
                    SELECT f.*, {FACT_REGION_COLUMNS} FROM allcur f
                    JOIN regions r ON r.code = f.region_code AND r.depth >= $split{where} {FACT_REGION_JOINS}""",  # noqa: S608
                {"split": layout.split, **({} if groups is None else {"groups": groups})})
    con.execute(f"""CREATE OR REPLACE TEMP TABLE rootcur AS
                    SELECT f.*, {FACT_REGION_COLUMNS} FROM allcur f
                    JOIN regions r ON r.code = f.region_code {FACT_REGION_JOINS}
                    WHERE f.region_code = $root""", {"root": layout.root})  # noqa: S608


def _sql_text(text: str) -> str:
    """A string literal (views take no parameters; the quarters are ours: YYYYQn)."""
    return "'" + text.replace("'", "''") + "'"


def _log_rows(q: Quarter) -> tuple[str, dict]:
    """SQL for quarter ``q``'s rows of the fact log (region_code, element_code, period, value,
    snapshot_id) and its parameters: DuckDB's own Parquet reader over the quarter's files, else
    the Arrow dataset registered as ``log_ds`` (``FactLog.quarters`` says which)."""
    if q.files is None:
        return "SELECT region_code, element_code, period, value, snapshot_id FROM log_ds WHERE period = $p", \
            {"p": q.period}
    return ("SELECT region_code, element_code, $p AS period, value, snapshot_id FROM read_parquet($files)",
            {"p": q.period, "files": q.files})


def rebuild(root: Path, layout: Layout, log: FactLog, active: set[int], tag: str) -> ShardMap:
    """Every shard from the fact log, for the given active snapshots (quarter by quarter)."""
    dataset = log.facts_dataset()
    if dataset is None or not active:
        return {}
    con = connect()
    try:
        layout.load(con)
        con.register("log_ds", dataset)
        con.execute("""CREATE TEMP TABLE top_rows_0 (region_code VARCHAR, element_code VARCHAR, period VARCHAR,
                       value_sum DOUBLE, weight_sum DOUBLE, n_facts BIGINT, snapshot_id INTEGER)""")
        ids = sorted(active)
        shards: ShardMap = {}
        for q in log.quarters(active):
            p = q.period
            rows, source = _log_rows(q)
            where = """WHERE snapshot_id IN (SELECT unnest($ids::INTEGER[]))
                         AND region_code >= $lo AND region_code <= $hi"""
            if q.single:      # the rows as they are
                pick = f"SELECT region_code, element_code, period, value, snapshot_id FROM ({rows}) {where}"  # noqa: S608
            else:             # the newest active snapshot's value per key
                pick = f"""SELECT region_code, element_code, period, arg_max(value, snapshot_id) AS value,
                                  max(snapshot_id) AS snapshot_id FROM ({rows}) {where}
                           GROUP BY region_code, element_code, period"""  # noqa: S608
            current = f"CREATE OR REPLACE TEMP TABLE allcur AS {pick}"
            written: dict[str, str] = {}
            if layout.split:    # group by group (~10⁶ rows each at national scale), then the top
                con.execute(f"CREATE OR REPLACE TEMP TABLE prov_all AS SELECT {_ROLLUP_COLS} FROM top_rows_0")  # noqa: S608
                for g, lo, hi in layout.group_ranges:
                    # the group's current facts straight into ``cur`` (no root rows in its range)
                    con.execute(f"""CREATE OR REPLACE TEMP TABLE cur AS
                                    SELECT f.*, {FACT_REGION_COLUMNS} FROM ({pick}) f
                                    JOIN regions r ON r.code = f.region_code AND r.grp = $g
                                    {FACT_REGION_JOINS}""",  # noqa: S608
                                {**source, "ids": ids, "lo": lo, "hi": hi, "g": g})
                    build_groups(con, _max_depth(layout), layout.split, p, [g])
                    con.execute(f"INSERT INTO prov_all SELECT {_ROLLUP_COLS} FROM group_rows WHERE region_code = grp")  # noqa: S608
                    written.update(_write_groups(con, root, layout, p, tag, [g]))
                con.execute(current, {**source, "ids": ids, "lo": layout.root, "hi": layout.root})
                _split_current(con, layout)
                con.execute("CREATE OR REPLACE TEMP TABLE prov AS SELECT * FROM prov_all")
                build_top(con, layout)
                written.update(_write_top(con, root, layout, p, tag))
            else:
                con.execute(current, {**source, "ids": ids, "lo": "", "hi": "\U0010ffff"})
                _split_current(con, layout)
                build_groups(con, _max_depth(layout), layout.split, p)
                groups = [r[0] for r in con.execute("SELECT DISTINCT grp FROM group_rows ORDER BY 1").fetchall()]
                written.update(_write_groups(con, root, layout, p, tag, groups))
            if written:
                shards[p] = dict(sorted(written.items()))
        return shards
    finally:
        con.close()


def _current_of_snapshot(con: duckdb.DuckDBPyConnection, layout: Layout, log: FactLog, snapshot_id: int,
                         ids: list[int]) -> None:
    """``keys``: the keys ``snapshot_id`` published; ``newvals``: their current values among the
    active snapshots ``ids`` (none where no active snapshot has the key).

    The log is scanned one (quarter, group) at a time, pruned by the group's code range, into a
    plain table before anything is grouped or joined: an aggregate straight over the log's Arrow
    scan sized itself for the whole quarter (8·10⁷ rows at national scale) and failed under the
    connection's memory limit."""
    con.execute("CREATE TEMP TABLE snap_keys AS SELECT region_code, element_code, period FROM log_ds "
                "WHERE snapshot_id = $s", {"s": snapshot_id})
    con.execute("CREATE TEMP TABLE keys AS SELECT DISTINCT region_code, element_code, period FROM snap_keys")
    con.execute("DROP TABLE snap_keys")
    con.execute("""CREATE TEMP TABLE newvals (region_code VARCHAR, element_code VARCHAR, period VARCHAR,
                   value DOUBLE, snapshot_id INTEGER)""")
    ranges = {g: (lo, hi) for g, lo, hi in layout.group_ranges}
    quarters = {q.period: q for q in log.quarters(set(ids))}
    parts = sorted(_touched(layout, con.sql("SELECT DISTINCT period, region_code FROM keys").to_arrow_table()),
                   key=lambda pg: (pg[0], pg[1] or ""))
    for period, grp in parts:
        if period not in quarters:          # no active snapshot has rows in that quarter
            continue
        lo, hi = ranges[grp] if grp is not None else (layout.root, layout.root)   # None: the root's own rows
        rows, source = _log_rows(quarters[period])
        con.execute(f"""CREATE OR REPLACE TEMP TABLE candidates AS
                        SELECT * FROM ({rows}) WHERE region_code >= $lo AND region_code <= $hi
                          AND snapshot_id IN (SELECT unnest($ids::INTEGER[]))""",  # noqa: S608
                    {**source, "lo": lo, "hi": hi, "ids": ids})
        con.execute("""INSERT INTO newvals
                       SELECT c.region_code, c.element_code, c.period, arg_max(c.value, c.snapshot_id),
                              max(c.snapshot_id)
                       FROM candidates c SEMI JOIN keys k ON k.region_code = c.region_code
                            AND k.element_code = c.element_code AND k.period = c.period
                       GROUP BY ALL""")
    con.execute("DROP TABLE IF EXISTS candidates")


def _touched(layout: Layout, rows: pa.Table) -> set[tuple[str, str | None]]:
    """The (quarter, group) pairs of ``rows`` (region_code, period): the group that holds each
    region's rollup rows below the root, None for the root's own (as ``regions.grp``)."""
    pairs = rows.group_by(["period", "region_code"]).aggregate([])
    groups = {r: layout.fact_group(r) for r in set(pairs["region_code"].to_pylist())}
    return {(p, None if r == layout.root and layout.split else groups[r])
            for p, r in zip(pairs["period"].to_pylist(), pairs["region_code"].to_pylist()) if groups[r] is not None}


def apply(root: Path, layout: Layout, log: FactLog, shards: ShardMap, snapshot_id: int, active: set[int],
          tag: str, published: pa.Table | None = None) -> ShardMap:
    """The shard set after one event on ``snapshot_id`` (publish, retract or restore), given the
    active snapshots after it: only the (group, quarter) shards the snapshot touches, and the
    quarter's top shard, are rebuilt; every other shard file is carried over as it is.

    ``published``: the snapshot's rows when it is the newest active one (a publish), which
    spares reading them back from the log."""
    con = connect()
    try:
        ids = sorted(active)
        if published is not None and snapshot_id == max(active, default=0):
            # the (quarter, group) pairs touched, from the rows' few distinct (quarter, region); only
            # those groups' regions are loaded (1/31 of them for a province at national scale)
            pairs = _touched(layout, published)
            layout.load(con, closure_groups=[], groups=[g for _, g in pairs if g is not None])
            # the snapshot's rows read where they are (no copy of 10⁶ rows into DuckDB first)
            con.register("newvals", published.select(_FACT_COLS.split(", ")))
            con.execute("CREATE TEMP VIEW keys AS SELECT region_code, element_code, period FROM newvals")
        else:
            layout.load(con, closure_groups=[])
            dataset = log.facts_dataset()
            if dataset is not None:
                con.register("log_ds", dataset)
            _current_of_snapshot(con, layout, log, snapshot_id, ids)
            pairs = _touched(layout, con.sql("SELECT DISTINCT period, region_code FROM keys").to_arrow_table())
        out: ShardMap = {p: dict(g) for p, g in shards.items()}
        layout.load_closure(con, sorted({g for _, g in pairs if g is not None}))
        for p in sorted({q for q, _ in pairs}):
            touched = sorted({g for q, g in pairs if q == p and g is not None})
            old = out.get(p, {})
            attached = []
            parts = ["SELECT * FROM newvals WHERE period = $p"]
            for i, g in enumerate(touched + ([TOP] if layout.split else [])):
                if g in old:
                    alias = f"old{i}"
                    con.execute(f"ATTACH {sql_path(root / old[g])} AS {alias} (READ_ONLY)")
                    attached.append(alias)
                    parts.append(f"""SELECT {_FACT_COLS} FROM {alias}.facts o
                                     ANTI JOIN keys k ON k.region_code = o.region_code
                                          AND k.element_code = o.element_code AND k.period = o.period""")  # noqa: S608
            # a view: its two readers (the rows below the root, the root's own) each read what they
            # need of it, so the quarter's current facts are not held a third time
            con.execute(f"CREATE OR REPLACE TEMP VIEW allcur AS {' UNION ALL '.join(parts)}".replace(
                "$p", _sql_text(p)))
            _split_current(con, layout, touched)
            build_groups(con, _max_depth(layout), layout.split, p, touched)
            if layout.split:
                prov = [f"SELECT {_ROLLUP_COLS} FROM group_rows WHERE region_code = grp"]  # noqa: S608
                if TOP in old:
                    top_alias = attached[-1]
                    prov.append(f"""SELECT {_ROLLUP_COLS} FROM {top_alias}.rollup
                                    WHERE region_code <> $root
                                      AND region_code NOT IN (SELECT unnest($touched::VARCHAR[]))""")  # noqa: S608
                con.execute(f"CREATE OR REPLACE TEMP TABLE prov AS {' UNION ALL '.join(prov)}",
                            {"root": layout.root, "touched": touched} if TOP in old else {})
                build_top(con, layout)
            for alias in attached:
                con.execute(f"DETACH {alias}")
            written = _write_groups(con, root, layout, p, tag, touched)
            written.update(_write_top(con, root, layout, p, tag))
            groups = {g: rel for g, rel in old.items() if g not in touched and not (g == TOP and layout.split)}
            groups.update(written)
            if groups:
                out[p] = dict(sorted(groups.items()))
            else:
                out.pop(p, None)
        return out
    finally:
        con.close()
