"""Snapshots, the read API every Store shares, and read-only views of past states (as-of)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from metrics.store import shards as sh
from metrics.store.log import Event, replay
from metrics.store.reader import ShardReader
from metrics.store.rollups import ROLLUP_COLUMNS, connect

KEY_COLUMNS = ["region_code", "element_code", "period"]


class StoreError(RuntimeError):
    """A refused store operation; the message is for the user (Chinese)."""


@dataclass
class Snapshot:
    id: int
    created_at: str
    user: str
    comment: str
    source_name: str
    source_sha256: str
    rows: int
    retracted: bool = False
    retracted_at: str | None = None
    retracted_by: str | None = None
    demo: bool = False
    restored_at: str | None = None
    restored_by: str | None = None
    event_seq: int = 0


def snapshots_from(events: list[Event]) -> list[Snapshot]:
    """Replay events into the snapshot list (id order)."""
    snaps: dict[int, Snapshot] = {}
    for e in events:
        if e.action == "publish":
            snaps[e.snapshot_id] = Snapshot(id=e.snapshot_id, created_at=e.at, user=e.user, comment=e.comment,
                                            source_name=e.source_name, source_sha256=e.source_sha256,
                                            rows=int(e.rows), demo=bool(e.demo), event_seq=e.seq)
        elif e.snapshot_id in snaps:
            s = snaps[e.snapshot_id]
            if e.action == "retract":
                s.retracted, s.retracted_at, s.retracted_by = True, e.at, e.user
            elif e.action == "restore":
                s.retracted, s.restored_at, s.restored_by = False, e.at, e.user
    return [snaps[k] for k in sorted(snaps)]


def _parse_when(when: dt.datetime | dt.date | str) -> dt.datetime:
    if isinstance(when, dt.datetime):
        return when.replace(tzinfo=None)
    if isinstance(when, dt.date):
        return dt.datetime.combine(when, dt.time.max)
    text = str(when).strip()
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time.max)
        return dt.datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        raise StoreError(f"无法识别的时间：{text}（应为 2024-06-30 或 2024-06-30T18:00）") from None


def event_seq_at(events: list[Event], snapshot: int | None, when) -> int:
    """The last event of the state asked for: after snapshot ``snapshot``'s publication, or at ``when``."""
    if snapshot is not None:
        seq = next((e.seq for e in events if e.action == "publish" and e.snapshot_id == int(snapshot)), None)
        if seq is None:
            raise StoreError(f"没有编号为 {snapshot} 的数据版本")
        return seq
    if when is not None:
        limit = _parse_when(when)
        seqs = [e.seq for e in events if dt.datetime.fromisoformat(e.at).replace(tzinfo=None) <= limit]
        return max(seqs, default=0)
    return events[-1].seq if events else 0


def parse_as_of(text: str) -> dict:
    """CLI ``--as-of``: a snapshot id (digits) or a date/time."""
    text = text.strip()
    return {"snapshot": int(text)} if text.isdigit() else {"when": text}


class ReadMixin:
    """Reads shared by the live Store and its as-of views (query.py needs only these)."""

    def rollup_rows(self, region_codes: list[str], element_codes: list[str],
                    period_from: str | None = None, period_to: str | None = None) -> pd.DataFrame:
        """Rollup rows: region_code, element_code, period, value_sum, weight_sum, n_facts, snapshot_id."""
        return pd.DataFrame(self.rollup_arrays(region_codes, element_codes, period_from, period_to),
                            columns=list(ROLLUP_COLUMNS))

    def periods_with_data(self) -> list[str]:
        return sorted(self._shards())

    def regions_with_data(self) -> set[str]:
        """Regions with a rollup row (reads the top shard and every group shard: not a hot path)."""
        files = [self._shard_root() / rel for groups in self._shards().values() for rel in groups.values()]
        if not files:
            return set()
        out = ShardReader.get().query(files, "rollup", "DISTINCT region_code", "true", {}, "region_code")
        return set(out["region_code"].tolist())

    def is_empty(self) -> bool:
        return not self._active()

    def current_values(self, keys: pd.DataFrame, unique: bool = False) -> pd.DataFrame:
        """``keys`` (region_code, element_code, period) with the current leaf ``value`` and the
        ``snapshot_id`` it comes from (NaN / <NA> where nothing is published), in the keys' order.
        ``unique``: the caller's keys have no duplicates (the look-up skips removing them)."""
        keys = keys[KEY_COLUMNS]
        keys = keys.astype({c: str for c in KEY_COLUMNS if not isinstance(keys[c].dtype, pd.CategoricalDtype)})
        if not unique:
            keys = keys.drop_duplicates()
        keys = keys.reset_index(drop=True)
        cats = [keys[c].array if isinstance(keys[c].dtype, pd.CategoricalDtype) else pd.Categorical(keys[c])
                for c in KEY_COLUMNS]
        codes = [np.asarray(c.codes, dtype=np.int64) for c in cats]
        lists = [list(c.categories) for c in cats]
        # only the categories in use are asked for (the validator's keys had every region a category)
        used = [np.unique(c[c >= 0]) for c in codes]
        got = self.current_in(*[[lst[i] for i in u] for lst, u in zip(lists, used)])
        have = _composite(*[u[got[k]] for u, k in zip(used, ("r", "e", "p"))], sizes=[len(lst) for lst in lists])
        want = _composite(*codes, sizes=[len(lst) for lst in lists])
        valid = (codes[0] >= 0) & (codes[1] >= 0) & (codes[2] >= 0)
        value = np.full(len(keys), np.nan)
        snap = np.zeros(len(keys), dtype=np.int32)
        missing = np.ones(len(keys), dtype=bool)
        if len(have):
            order = np.argsort(have, kind="stable")
            ranked = have[order]
            pos = np.minimum(np.searchsorted(ranked, want), len(ranked) - 1)
            i = np.flatnonzero(valid & (ranked[pos] == want))
            j = order[pos[i]]
            value[i], snap[i], missing[i] = got["value"][j], got["snapshot_id"][j], False
        out = keys.assign(value=value)
        out["snapshot_id"] = pd.arrays.IntegerArray(snap, missing)
        return out

    def current_in(self, regions: list[str], elements: list[str], quarters: list[str]) -> dict[str, np.ndarray]:
        """Every current leaf value of ``regions`` × ``elements`` × ``quarters``: ``r``, ``e``,
        ``p`` (positions in those lists), ``value`` and ``snapshot_id``, in no particular order.
        Reads the (group, quarter) shards of those regions; the facts' codes are mapped to the
        positions by joins with the three small lists, so no string is made per fact (the
        validator reads a province's two quarters this way: 4.7·10⁶ values at national scale)."""
        empty = {"r": np.array([], dtype=np.int64), "e": np.array([], dtype=np.int64),
                 "p": np.array([], dtype=np.int64), "value": np.array([]), "snapshot_id": np.array([], dtype=np.int32)}
        groups = {self.layout.fact_group(c) for c in regions} - {None}
        shards = self._shards()
        files = sorted({self._shard_root() / shards[q][g] for q in quarters for g in groups if g in shards.get(q, {})})
        if not files or not len(elements):
            return empty
        reader = ShardReader.get()
        aliases = [reader.alias(f) for f in files]
        cur = reader.con.cursor()
        try:
            for name, values in (("dim_r", regions), ("dim_e", elements), ("dim_p", quarters)):
                cur.register(name, pa.table({"code": pa.array([str(x) for x in values], pa.string()),
                                             "id": pa.array(np.arange(len(values)), pa.int64())}))
            union = " UNION ALL ".join(f"SELECT * FROM {a}.facts" for a in aliases)  # noqa: S608
            got = cur.execute(
                f"""SELECT r.id AS r, e.id AS e, p.id AS p, f.value, f.snapshot_id FROM ({union}) f
                    JOIN dim_r r ON r.code = f.region_code
                    JOIN dim_e e ON e.code = f.element_code
                    JOIN dim_p p ON p.code = f.period""").fetchnumpy()  # noqa: S608
        finally:
            cur.close()
        return {"r": np.asarray(got["r"], dtype=np.int64), "e": np.asarray(got["e"], dtype=np.int64),
                "p": np.asarray(got["p"], dtype=np.int64),
                "value": np.ma.filled(np.ma.asarray(got["value"], dtype=float), np.nan),
                "snapshot_id": np.asarray(got["snapshot_id"], dtype=np.int32)}

    def current_facts(self) -> pd.DataFrame:
        """Every current fact (region_code, element_code, period, value, snapshot_id), from the log.
        Reads the whole state: for tests and small stores, not for the pages."""
        return self._facts_for(self._active())

    def _facts_for(self, active: set[int], only_snapshots: set[int] | None = None) -> pd.DataFrame:
        cols = KEY_COLUMNS + ["value", "snapshot_id"]
        dataset = self.log.facts_dataset()
        if dataset is None or not active:
            return pd.DataFrame(columns=cols)
        con = connect()
        try:
            con.register("log_ds", dataset)
            where = ""
            if only_snapshots is not None:
                where = """AND (region_code, element_code, period) IN (SELECT (region_code, element_code, period)
                           FROM log_ds WHERE snapshot_id IN (SELECT unnest($touch::INTEGER[])))"""
            return con.execute(
                f"""SELECT region_code, element_code, period, arg_max(value, snapshot_id) AS value,
                           max(snapshot_id) AS snapshot_id
                    FROM log_ds WHERE snapshot_id IN (SELECT unnest($ids::INTEGER[])) {where}
                    GROUP BY ALL ORDER BY region_code, element_code, period""",  # noqa: S608
                {"ids": sorted(active), **({"touch": sorted(only_snapshots)} if only_snapshots is not None else {})},
            ).df()
        finally:
            con.close()

    def diff(self, a: int, b: int) -> pd.DataFrame:
        """Leaf facts that differ between the states right after snapshots ``a`` and ``b``:
        region_code, element_code, period, old (after a), new (after b)."""
        events = self.events()
        active_a = replay(events, event_seq_at(events, a, None))
        active_b = replay(events, event_seq_at(events, b, None))
        touch = active_a ^ active_b
        cols = KEY_COLUMNS + ["old", "new"]
        if not touch:
            return pd.DataFrame(columns=cols)
        old = self._facts_for(active_a, touch)[KEY_COLUMNS + ["value"]].rename(columns={"value": "old"})
        new = self._facts_for(active_b, touch)[KEY_COLUMNS + ["value"]].rename(columns={"value": "new"})
        both = old.merge(new, on=KEY_COLUMNS, how="outer")
        changed = ~((both["old"] == both["new"]) | (both["old"].isna() & both["new"].isna()))
        return both[changed].sort_values(KEY_COLUMNS).reset_index(drop=True)[cols]


def _composite(*codes: np.ndarray, sizes: list[int]) -> np.ndarray:
    """(region, element, period) positions as one int64."""
    r, e, p = (np.asarray(c, dtype=np.int64) for c in codes)
    return (r * sizes[1] + e) * sizes[2] + p


class StoreView(ReadMixin):
    """The store as it was after event ``seq``: read-only; its rollups come from the live shard set
    when the active snapshots are the same, else from a cache built on demand (content-addressed
    by the active snapshots and the layout), never touching the live state."""

    def __init__(self, store, seq: int):
        self.store, self.seq = store, seq
        self.dir, self.catalog, self.log = store.dir, store.catalog, store.log
        self._events = [e for e in store.events() if e.seq <= seq]
        self.active = replay(self._events)
        live = store.manifest()
        if set(live["active"]) == self.active and live["layout"] == store.layout.fingerprint:
            self._root, self._map = store.shard_dir, live["shards"]
        else:
            self._root, self._map = self._cached()

    @property
    def hierarchy(self):
        return self.store.hierarchy

    @property
    def layout(self):
        return self.store.layout

    def _cached(self) -> tuple[Path, dict]:
        key = hashlib.sha256(f"{sorted(self.active)}|{self.layout.fingerprint}".encode()).hexdigest()[:20]
        root = self.dir / "cache" / f"asof-{key}"
        manifest = sh.read_manifest(root / "manifest.json")
        if manifest is None:
            tmp = root.with_name(f".{root.name}.tmp-{os.getpid()}")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            shards = self._from_live(tmp)
            if shards is None:
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir(parents=True)
                shards = sh.rebuild(tmp, self.layout, self.log, self.active, "asof")
            sh.write_manifest(tmp / "manifest.json", {"active": sorted(self.active), "shards": shards})
            try:
                os.rename(tmp, root)
            except OSError:      # another process built it first
                shutil.rmtree(tmp, ignore_errors=True)
            manifest = sh.read_manifest(root / "manifest.json")
        return root, manifest["shards"]

    def _from_live(self, tmp: Path) -> dict | None:
        """The shard set of this state made from the live one: its files hard-linked (they never
        change), then only the (group, quarter) shards of the snapshots whose state differs
        re-derived, as a retract or restore would (``shards.apply``). A past state a few
        publishes back costs those shards, not a rebuild of every shard from the log (18 minutes
        at national scale). None when that cannot be done (other layout, no hard links) or most
        of the store differs — then a rebuild is the cheaper way."""
        live = self.store.manifest()
        if not live or live.get("layout") != self.layout.fingerprint:
            return None
        changed = sorted(set(live["active"]) ^ self.active)
        rows = {e.snapshot_id: e.rows or 0 for e in self.store.events() if e.action == "publish"}
        if 2 * sum(rows.get(s, 0) for s in changed) > sum(rows.get(s, 0) for s in set(live["active"]) | self.active):
            return None
        try:
            for rel in sh.shard_files(live["shards"]):
                (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
                os.link(self.store.shard_dir / rel, tmp / rel)
        except OSError:          # no hard links here, or a file superseded meanwhile
            return None
        shards = live["shards"]
        for i, snapshot_id in enumerate(changed):
            shards = sh.apply(tmp, self.layout, self.log, shards, snapshot_id, self.active, f"asof{i}")
        keep = {tmp / rel for rel in sh.shard_files(shards)}
        for f in tmp.rglob("*.duckdb"):      # links and intermediate files no longer in the set
            if f not in keep:
                f.unlink()
        return shards

    def _shard_root(self) -> Path:
        return self._root

    def _shards(self) -> dict:
        return self._map

    def _active(self) -> set[int]:
        return self.active

    def events(self) -> list[Event]:
        return list(self._events)

    def snapshots(self):
        return snapshots_from(self._events)

    def version(self) -> str:
        return f"asof:{self.seq}"

    def at(self, snapshot: int | None = None, when=None):
        return self.store.at(snapshot, when)

    def rollup_arrays(self, region_codes, element_codes, period_from=None, period_to=None):
        from metrics.store.reader import rollup_arrays
        return rollup_arrays(self._root, self._map, self.layout.shard_of, region_codes, element_codes,
                             period_from, period_to, self.layout.leaves)

    def rollup_cells(self, region_codes, element_codes, quarters):
        from metrics.store.reader import rollup_cells
        return rollup_cells(self._root, self._map, self.layout.shard_of, region_codes, element_codes, quarters,
                            self.layout.leaves)
