"""The fact log and the event log: two Delta Lake tables, append-only, never vacuumed.

    log/facts    region_code, element_code, period, value, snapshot_id — partitioned by period
    log/events   seq, at, action (publish|retract|restore), snapshot_id, user, comment,
                 source_name, source_sha256, rows, demo

Any engine that reads Delta (Spark, Trino, DuckDB, Polars) reads these as they are. The
current value of a key is the one of the newest snapshot (highest id) that is active after
replaying the events; nothing is deleted, retract and restore are events.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.dataset as ds
from deltalake import DeltaTable, write_deltalake

FACT_SCHEMA = pa.schema([
    ("region_code", pa.string()),
    ("element_code", pa.string()),
    ("period", pa.string()),
    ("value", pa.float64()),
    ("snapshot_id", pa.int32()),
])
EVENT_SCHEMA = pa.schema([
    ("seq", pa.int64()),
    ("at", pa.string()),
    ("action", pa.string()),
    ("snapshot_id", pa.int32()),
    ("user", pa.string()),
    ("comment", pa.string()),
    ("source_name", pa.string()),
    ("source_sha256", pa.string()),
    ("rows", pa.int64()),
    ("demo", pa.bool_()),
])
# History is the product: keep every log entry and every data file for a century.
RETENTION = {"delta.logRetentionDuration": "interval 36500 days",
             "delta.deletedFileRetentionDuration": "interval 36500 days"}


@dataclass(frozen=True)
class Quarter:
    """One partition of the fact log, as far as the active snapshots are concerned."""
    period: str
    files: list[str] | None     # its data files for a plain Parquet reader; None: read the dataset
    single: bool                # one active snapshot holds every active row of it


@dataclass(frozen=True)
class Event:
    seq: int
    at: str
    action: str
    snapshot_id: int
    user: str
    comment: str
    source_name: str
    source_sha256: str
    rows: int
    demo: bool


class FactLog:
    """The two Delta tables under ``<data dir>/log``."""

    def __init__(self, root: Path):
        self.root = root
        self.facts_uri = str(root / "facts")
        self.events_uri = str(root / "events")
        self._events_cache: tuple | None = None

    def exists(self) -> bool:
        return DeltaTable.is_deltatable(self.events_uri)

    # -- writing (the caller holds the writer lock) ----------------------------------------------
    def append_facts(self, table: pa.Table) -> None:
        write_deltalake(self.facts_uri, table.cast(FACT_SCHEMA), mode="append", partition_by=["period"],
                        configuration=RETENTION, name="facts")

    def append_event(self, event: Event) -> None:
        row = pa.Table.from_pylist([event.__dict__], schema=EVENT_SCHEMA)
        write_deltalake(self.events_uri, row, mode="append", configuration=RETENTION, name="events")

    # -- reading ----------------------------------------------------------------------------------
    def events(self, known_seq: int | None = None) -> list[Event]:
        """Every event in order. With ``known_seq`` (the manifest's), a cached list that already
        reaches it is returned without opening the table (the pages' hot path)."""
        cached = self._events_cache
        if known_seq is not None and cached is not None and cached[1] and cached[1][-1].seq >= known_seq:
            return cached[1]
        if known_seq == 0:
            return []
        if not self.exists():
            return []
        table = DeltaTable(self.events_uri)
        version = table.version()
        if self._events_cache is None or self._events_cache[0] != version:
            rows = table.to_pyarrow_table().sort_by("seq").to_pylist()
            self._events_cache = (version, [Event(**r) for r in rows])
        return self._events_cache[1]

    def max_snapshot_id(self) -> int:
        """The highest snapshot id in the fact log (also ids whose publish never committed)."""
        if not DeltaTable.is_deltatable(self.facts_uri):
            return 0
        actions = DeltaTable(self.facts_uri).get_add_actions(flatten=True)
        if actions.num_rows == 0 or "max.snapshot_id" not in actions.column_names:
            return 0
        values = [v for v in actions.column("max.snapshot_id").to_pylist() if v is not None]
        return max(values, default=0)

    def quarters(self, active: set[int]) -> list[Quarter]:
        """The quarters holding rows of the ``active`` snapshots, from the files' statistics (no
        data read): which files hold them, and whether one snapshot holds all of them there.

        A snapshot holds each key once (a publish removes duplicates), so where one active
        snapshot holds a quarter its log rows are the current values as they are: no newest per
        key to pick. The files are given to DuckDB's own Parquet reader, which scans them about
        twice as fast as the Arrow dataset and joins the scan about five times as fast (measured at
        national scale: 0.14 s against 0.7 s for one province's quarter). That holds for the plain
        Delta tables this log writes; one with reader features (deletion vectors, column mapping),
        another partitioning or on object storage gets ``files=None``: read through the dataset."""
        if not DeltaTable.is_deltatable(self.facts_uri):
            return []
        table = DeltaTable(self.facts_uri)
        protocol = table.protocol()
        plain = (protocol.min_reader_version <= 1 and not protocol.reader_features
                 and table.metadata().partition_columns == ["period"] and "://" not in self.facts_uri)
        actions = table.get_add_actions(flatten=True)
        names = actions.column_names
        if actions.num_rows == 0 or "partition.period" not in names:
            return []

        def column(name: str) -> list:
            return actions.column(name).to_pylist() if name in names else [None] * actions.num_rows

        ids: dict[str, set[int]] = {}
        files: dict[str, list[str]] = {}
        for path, lo, hi, period in zip(column("path"), column("min.snapshot_id"), column("max.snapshot_id"),
                                        column("partition.period")):
            if lo is None or hi is None:
                holds = {-1, -2}                  # no statistics: may hold anything
            else:
                holds = {i for i in active if lo <= i <= hi}
                if holds and lo != hi:
                    holds.add(-1)                 # a file spanning several ids (not written by us)
            if holds:
                ids.setdefault(period, set()).update(holds)
                files.setdefault(period, []).append(str(Path(self.facts_uri) / unquote(path)))
        return [Quarter(p, sorted(files[p]) if plain else None, len(ids[p]) == 1) for p in sorted(ids)]

    def facts_dataset(self) -> ds.Dataset | None:
        """The fact log as an Arrow dataset (DuckDB scans it with filter pushdown)."""
        if not DeltaTable.is_deltatable(self.facts_uri):
            return None
        return DeltaTable(self.facts_uri).to_pyarrow_dataset()


def replay(events: list[Event], upto_seq: int | None = None) -> set[int]:
    """The active snapshot ids after the events with seq <= ``upto_seq`` (all when None)."""
    active: set[int] = set()
    for e in events:
        if upto_seq is not None and e.seq > upto_seq:
            break
        if e.action in ("publish", "restore"):
            active.add(e.snapshot_id)
        elif e.action == "retract":
            active.discard(e.snapshot_id)
    return active
