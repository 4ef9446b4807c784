"""The store: a Delta fact log and event log (the record), rollup shards (derived, for the pages).

Layout of the data directory::

    log/facts/             Delta table, partitioned by period: every published row, with its snapshot id
    log/events/            Delta table: publish / retract / restore events (who, when, comment, file, sha256)
    shards/manifest.json   the rollup shard set in force and the event it reflects — the commit point
    shards/<quarter>/<group>-<tag>.duckdb   rollups + current facts of one subtree for one quarter
    cache/asof-<key>/      rollups of past states, built on demand for as-of reads
    .publish.lock          one writer at a time (flock); readers never take it

A write appends to the fact log, writes the new shard files under new names, appends the event,
then swaps the manifest. A kill before the event leaves rows no event names (invisible); a kill
after it is rolled forward by the next start. Files nothing names are debris, removed at start.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import fcntl
import os
import secrets
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from metrics import auth, paths
from metrics.auth import audit
from metrics.catalog import Catalog, default_catalog
from metrics.regions import Hierarchy, load_hierarchy
from metrics.store import shards as sh
from metrics.store.log import Event, FactLog, replay
from metrics.store.reader import ShardReader, rollup_arrays, rollup_cells
from metrics.store.rollups import ROLLUP_COLUMNS, Layout
from metrics.store.view import ReadMixin, Snapshot, StoreError, snapshots_from

FORMAT = 2
EMPTY_MANIFEST = {"format": FORMAT, "version": 0, "event_seq": 0, "active": [], "layout": None,
                  "shards": {}, "previous": []}


def _now(now: dt.datetime | None) -> str:
    return (now or dt.datetime.now()).isoformat(timespec="seconds")


def _as_log_rows(facts: pd.DataFrame) -> pa.Table:
    """The facts as the log keeps them: text keys, float values, one row per key (the last one
    given wins), in (period, region, element) order so that each quarter's file is in region order
    (readers skip row groups by region range). Sorted and de-duplicated on the keys' integer
    codes over sorted categories: no string compared per row (2.3·10⁶ rows of a province's quarter)."""
    columns = ["period", "region_code", "element_code"]
    codes, labels = [], []
    for c in columns:
        cat = pd.Categorical(facts[c].astype(str) if not isinstance(facts[c].dtype, pd.CategoricalDtype)
                             else facts[c].cat.rename_categories([str(x) for x in facts[c].cat.categories]))
        order = np.argsort(np.asarray(cat.categories, dtype=object))          # lexical order of the labels
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        codes.append(rank[np.asarray(cat.codes, dtype=np.int64)])
        labels.append(np.asarray(cat.categories, dtype=object)[order])
    value = pd.to_numeric(facts["value"], errors="coerce").to_numpy(dtype="float64")
    key = (codes[0] * len(labels[1]) + codes[1]) * len(labels[2]) + codes[2]
    # stable sort by key; the last of equal keys is kept
    order = np.argsort(key, kind="stable")
    last = np.ones(len(order), dtype=bool)
    last[:-1] = key[order][1:] != key[order][:-1]
    rows = order[last]
    return pa.table({c: pa.DictionaryArray.from_arrays(pa.array(code[rows].astype(np.int32)),
                                                       pa.array(label, pa.string())).cast(pa.string())
                     for c, code, label in zip(columns, codes, labels)} | {"value": pa.array(value[rows])}
                    ).select(["region_code", "element_code", "period", "value"])


class Store(ReadMixin):
    """One data directory. Cheap to create; the first Store of a process tidies up after dead writers."""

    ROLLUP_COLUMNS = ROLLUP_COLUMNS

    def __init__(self, data_dir: Path | str | None = None, catalog: Catalog | None = None,
                 hierarchy: Hierarchy | None = None, *, recover: bool = True):
        self.dir = paths.data_dir(data_dir)
        self.catalog = catalog
        self._hierarchy = hierarchy
        self._hierarchy_given = hierarchy is not None
        self._layout: Layout | None = None
        self.log = FactLog(self.dir / "log")
        self._manifest_cache: tuple | None = None
        if recover:
            self.start()

    @property
    def catalog(self) -> Catalog:
        """The catalog given, else the shipped one with this data directory's uploaded targets."""
        if self._catalog is not None:
            return self._catalog
        from metrics.ingest.target_store import catalog_with_uploaded_targets
        return catalog_with_uploaded_targets(self.dir, default_catalog())

    @catalog.setter
    def catalog(self, value: Catalog | None) -> None:
        self._catalog = value

    # -- state ----------------------------------------------------------------------------------
    @property
    def shard_dir(self) -> Path:
        return self.dir / "shards"

    @property
    def manifest_path(self) -> Path:
        return self.shard_dir / "manifest.json"

    def manifest(self) -> dict:
        """The manifest in force (re-read only when the file changed). Do not mutate."""
        try:
            st = self.manifest_path.stat()
        except FileNotFoundError:
            return EMPTY_MANIFEST
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if self._manifest_cache is None or self._manifest_cache[0] != stamp:
            manifest = sh.read_manifest(self.manifest_path) or EMPTY_MANIFEST
            if self._manifest_cache is not None:    # let go of files two generations old
                keep = sh.shard_files(manifest["shards"]) | set(manifest.get("previous", []))
                ShardReader.get().forget({str(self.shard_dir / rel) for rel in keep}, str(self.shard_dir) + os.sep)
            self._manifest_cache = (stamp, manifest)
        return self._manifest_cache[1]

    def version(self) -> int:
        """Changes on every publish, retraction, restore and rebuild: the pages' cache key."""
        return int(self.manifest()["version"])

    def events(self) -> list[Event]:
        """The events the readable state reflects (a write in progress is not one of them)."""
        seq = int(self.manifest()["event_seq"])
        return [e for e in self.log.events(known_seq=seq) if e.seq <= seq]

    def snapshots(self) -> list[Snapshot]:
        return snapshots_from(self.events())

    @property
    def hierarchy(self) -> Hierarchy:
        if self._hierarchy is None:
            self._hierarchy = load_hierarchy(self.dir)
        return self._hierarchy

    @property
    def layout(self) -> Layout:
        if self._layout is None:
            self._layout = Layout.of(self.hierarchy, self.catalog)
        return self._layout

    def _shard_root(self) -> Path:
        return self.shard_dir

    def _shards(self) -> dict:
        return self.manifest()["shards"]

    def _active(self) -> set[int]:
        return set(self.manifest()["active"])

    # -- the writer lock, start-up tidying --------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self, block: bool = True):
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".publish.lock", "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def start(self) -> None:
        """Upgrade an old data directory, roll a committed event forward, remove debris — when
        no writer is at work (else the writer will)."""
        if not self.dir.exists():
            return
        with self._locked(block=False) as got:
            if got:
                self._recover()

    def _recover(self) -> None:
        from metrics.store import upgrade
        if upgrade.is_legacy(self.dir):
            upgrade.upgrade_locked(self)
        events = self.log.events()
        m = self.manifest()
        if events and events[-1].seq > int(m["event_seq"]):
            shards = m["shards"]
            for e in events[int(m["event_seq"]):]:
                active = replay(events, e.seq)
                shards = sh.apply(self.shard_dir, self.layout, self.log, shards, e.snapshot_id, active,
                                  self._tag())
            self._commit(shards, events[-1].seq, replay(events))
        upgrade.remove_debris(self)

    def _tag(self) -> str:
        return f"v{self.version() + 1:06d}-{secrets.token_hex(3)}"

    def _commit(self, shards: dict, event_seq: int, active: set[int]) -> None:
        """Swap the manifest in (the commit point), then delete files two generations old."""
        old = self.manifest()
        new_files = sh.shard_files(shards)
        previous = sorted(sh.shard_files(old["shards"]) - new_files)
        manifest = {"format": FORMAT, "version": int(old["version"]) + 1, "event_seq": event_seq,
                    "active": sorted(active), "layout": self.layout.fingerprint, "shards": shards,
                    "previous": previous}
        sh.write_manifest(self.manifest_path, manifest)
        for rel in set(old.get("previous", [])) - new_files - set(previous):
            (self.shard_dir / rel).unlink(missing_ok=True)

    # -- writing ----------------------------------------------------------------------------------
    def publish(self, facts: pd.DataFrame, *, user: auth.User, comment: str, source_name: str,
                source_sha256: str, demo: bool = False, now: dt.datetime | None = None) -> Snapshot:
        """Publish validated facts (region_code, element_code, period, value) as a new snapshot."""
        auth.require(user, "analyst")
        if facts is None or facts.empty:
            raise StoreError("没有可发布的数据行")
        missing = [c for c in ("region_code", "element_code", "period", "value") if c not in facts.columns]
        if missing:
            raise StoreError(f"数据缺少列：{', '.join(missing)}")
        table = _as_log_rows(facts)
        with self._locked():
            self._recover()
            events = self.log.events()
            snapshot_id = max(max((e.snapshot_id for e in events), default=0), self.log.max_snapshot_id()) + 1
            table = table.append_column("snapshot_id", pa.array(np.full(len(table), snapshot_id, dtype=np.int32)))
            active = replay(events) | {snapshot_id}
            # the log's append (delta-rs) and the rollups (DuckDB) side by side: neither is seen
            # before the event and the manifest below, and a publish's rollups read its rows from
            # ``table``, not from the log (a kill leaves orphan rows and unnamed shard files, as
            # one at any other point: ignored, then removed at the next start)
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                appended = pool.submit(self.log.append_facts, table)
                try:
                    if self._layout_changed():      # a rebuild reads every row from the log
                        appended.result()
                    shards = self._next_shards(snapshot_id, active, table)
                finally:
                    appended.result()
            seq = (events[-1].seq if events else 0) + 1
            self.log.append_event(Event(
                seq=seq, at=_now(now), action="publish", snapshot_id=snapshot_id, user=user.name,
                comment=comment or "", source_name=Path(source_name).name, source_sha256=source_sha256,
                rows=len(table), demo=bool(demo)))
            self._commit(shards, seq, active)
        audit.record(self.dir, user, "publish", snapshot_id=snapshot_id, rows=len(table),
                     source_name=Path(source_name).name, source_sha256=source_sha256, comment=comment)
        return self._snapshot(snapshot_id)

    def retract(self, snapshot_id: int, *, user: auth.User, comment: str | None = None,
                now: dt.datetime | None = None) -> Snapshot:
        return self._toggle("retract", snapshot_id, user, comment, now)

    def restore(self, snapshot_id: int, *, user: auth.User, comment: str | None = None,
                now: dt.datetime | None = None) -> Snapshot:
        return self._toggle("restore", snapshot_id, user, comment, now)

    def _toggle(self, action: str, snapshot_id: int, user: auth.User, comment: str | None,
                now: dt.datetime | None) -> Snapshot:
        auth.require(user, "analyst")
        with self._locked():
            self._recover()
            events = self.log.events()
            active = replay(events)
            known = {e.snapshot_id for e in events if e.action == "publish"}
            if snapshot_id not in known:
                raise StoreError(f"没有编号为 {snapshot_id} 的数据版本")
            if action == "retract" and snapshot_id not in active:
                raise StoreError(f"数据版本 {snapshot_id} 已撤回")
            if action == "restore" and snapshot_id in active:
                raise StoreError(f"数据版本 {snapshot_id} 未被撤回，无需恢复")
            active = active - {snapshot_id} if action == "retract" else active | {snapshot_id}
            shards = self._next_shards(snapshot_id, active, None)
            seq = events[-1].seq + 1
            self.log.append_event(Event(
                seq=seq, at=_now(now), action=action, snapshot_id=snapshot_id, user=user.name,
                comment=comment or "", source_name="", source_sha256="", rows=0, demo=False))
            self._commit(shards, seq, active)
        audit.record(self.dir, user, action, snapshot_id=snapshot_id, comment=comment)
        return self._snapshot(snapshot_id)

    def _layout_changed(self) -> bool:
        """The rollups in force were built for another hierarchy or catalog (a rebuild is due)."""
        m = self.manifest()
        return m["layout"] is not None and m["layout"] != self.layout.fingerprint

    def _next_shards(self, snapshot_id: int, active: set[int], published: pa.Table | None) -> dict:
        m = self.manifest()
        if self._layout_changed():
            return sh.rebuild(self.shard_dir, self.layout, self.log, active, self._tag())
        return sh.apply(self.shard_dir, self.layout, self.log, m["shards"], snapshot_id, active, self._tag(),
                        published=published)

    def rebuild(self, user: auth.User | None = None) -> int:
        """Recreate every rollup shard from the fact log (after a region-hierarchy import, or to
        check). Returns the number of shard files written."""
        if user is not None:
            auth.require(user, "analyst")
        self._layout = None
        if not self._hierarchy_given:       # a region import may have replaced regions.csv
            self._hierarchy = None
        with self._locked():
            self._recover()
            events = self.log.events()
            active = replay(events)
            shards = sh.rebuild(self.shard_dir, self.layout, self.log, active, self._tag())
            self._commit(shards, events[-1].seq if events else 0, active)
        if user is not None:
            audit.record(self.dir, user, "rebuild", files=len(sh.shard_files(shards)))
        return len(sh.shard_files(shards))

    def _snapshot(self, snapshot_id: int) -> Snapshot:
        return next(s for s in self.snapshots() if s.id == snapshot_id)

    # -- as-of ------------------------------------------------------------------------------------
    def at(self, snapshot: int | None = None, when: dt.datetime | dt.date | str | None = None):
        """A read-only view of the store as the pages showed it right after snapshot ``snapshot``
        was published, or at time ``when`` (replaying the events up to it)."""
        from metrics.store.view import StoreView, event_seq_at
        seq = event_seq_at(self.events(), snapshot, when)
        return StoreView(self, seq)

    # -- reading ----------------------------------------------------------------------------------
    def _read_live(self, read, *args):
        """``read(root, shards, shard_of, *args, leaves)`` on the manifest in force; a file of a
        superseded manifest removed under us: read the manifest again, once."""
        for attempt in range(2):
            try:
                return read(self._shard_root(), self._shards(), self.layout.shard_of, *args, self.layout.leaves)
            except Exception:
                if attempt:
                    raise
                self._manifest_cache = None
        raise AssertionError("unreachable")

    def rollup_cells(self, region_codes: list[str], element_codes: list[str],
                     quarters: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """value_sum and weight_sum as (element × region × quarter) arrays, NaN where no row
        (``reader.rollup_cells``: the pages' grid, without string columns)."""
        return self._read_live(rollup_cells, region_codes, element_codes, quarters)

    def rollup_arrays(self, region_codes: list[str], element_codes: list[str],
                      period_from: str | None = None, period_to: str | None = None) -> dict[str, np.ndarray]:
        """Rollup rows as numpy columns (the pages' hot path: no DataFrame construction)."""
        return self._read_live(rollup_arrays, region_codes, element_codes, period_from, period_to)
