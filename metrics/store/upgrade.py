"""Start-up housekeeping: upgrading a data directory of the first store format, removing debris.

The first format (until this release): ``manifest.json`` naming ``snapshots/NNNNNN.parquet``
files, with rollups in ``rollups/vNNNNNN.duckdb``. The upgrade replays it into the Delta logs —
same snapshot ids, users, times, comments, retractions — rebuilds the rollup shards, then
moves the old manifest and snapshot files to ``legacy/`` (kept) and drops the old rollups
(derived). It is idempotent: a kill half-way redoes it at the next start.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow.parquet as pq
from deltalake import DeltaTable

from metrics.store import shards as sh
from metrics.store.log import Event, replay

LEGACY_DIR = "legacy"


def is_legacy(data_dir: Path) -> bool:
    path = data_dir / "manifest.json"
    if not path.is_file():
        return False
    try:
        return "snapshots" in json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def upgrade_locked(store) -> int:
    """Convert the old layout (the caller holds the writer lock). Returns the snapshots converted."""
    root = store.dir
    legacy = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    for partial in ("log", "shards"):       # left by an upgrade that was killed: start again
        shutil.rmtree(root / partial, ignore_errors=True)
    store._manifest_cache = None
    store.log._events_cache = None
    pending = []
    for s in sorted(legacy["snapshots"], key=lambda s: s["id"]):
        path = root / s["file"]
        if not path.exists():
            path = root / LEGACY_DIR / s["file"]
        table = pq.read_table(path, columns=["region_code", "element_code", "period", "value", "snapshot_id"])
        store.log.append_facts(table)
        pending.append((s["created_at"], 0, "publish", s))
        if s.get("retracted"):
            pending.append((s.get("retracted_at") or s["created_at"], 1, "retract", s))
    pending.sort(key=lambda p: (p[0], p[1], p[3]["id"]))
    events = []
    for seq, (at, _, action, s) in enumerate(pending, start=1):
        publish = action == "publish"
        events.append(Event(
            seq=seq, at=at, action=action, snapshot_id=int(s["id"]),
            user=str(s["user"] if publish else (s.get("retracted_by") or s["user"])),
            comment=str(s.get("comment") or "") if publish else "", source_name=str(s["source_name"]) if publish else "",
            source_sha256=str(s["source_sha256"]) if publish else "", rows=int(s["rows"]) if publish else 0,
            demo=bool(s.get("demo", False)) if publish else False))
    for e in events:
        store.log.append_event(e)
    active = replay(events)
    shards = sh.rebuild(store.shard_dir, store.layout, store.log, active, "upgraded")
    manifest = {"format": 2, "version": int(legacy.get("version", 0)) + 1,
                "event_seq": events[-1].seq if events else 0, "active": sorted(active),
                "layout": store.layout.fingerprint, "shards": shards, "previous": []}
    sh.write_manifest(store.manifest_path, manifest)
    # the commit point of the upgrade: the old manifest leaves the data directory's root
    (root / LEGACY_DIR).mkdir(exist_ok=True)
    os.replace(root / "manifest.json", root / LEGACY_DIR / "manifest.json")
    sh.fsync_dir(root)
    store._manifest_cache = None
    store.log._events_cache = None
    _tidy_legacy(root)
    return len(legacy["snapshots"])


def _tidy_legacy(root: Path) -> None:
    if not (root / LEGACY_DIR / "manifest.json").exists():
        return
    if (root / "snapshots").is_dir():
        os.replace(root / "snapshots", root / LEGACY_DIR / "snapshots")
    shutil.rmtree(root / "rollups", ignore_errors=True)    # derived, ~GBs, with dead writers' temp files


def _pid_alive(name: str) -> bool:
    try:
        pid = int(name.rsplit("-", 1)[1].split(".")[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return pid != os.getpid() or True


def _unreferenced_delta_files(uri: str) -> list[Path]:
    base = Path(uri)
    if not DeltaTable.is_deltatable(uri):
        return []
    referenced = {os.path.normpath(u.removeprefix("file://")) for u in DeltaTable(uri).file_uris()}
    out = [p for p in base.rglob("*.parquet") if "_delta_log" not in p.parts
           and os.path.normpath(str(p)) not in referenced]
    out += [p for p in (base / "_delta_log").glob("_commit_*") if p.name.endswith(".tmp")]
    return out


def debris(store) -> list[Path]:
    """Files no committed state names (the caller holds the writer lock)."""
    m = sh.read_manifest(store.manifest_path) or {}
    keep = sh.shard_files(m.get("shards", {})) | set(m.get("previous", []))
    found: list[Path] = []
    if store.shard_dir.is_dir():
        for p in store.shard_dir.rglob("*"):
            if p.is_file() and p != store.manifest_path:
                rel = p.relative_to(store.shard_dir).as_posix()
                if rel not in keep:
                    found.append(p)
    cache = store.dir / "cache"
    if cache.is_dir():
        found += [p for p in cache.iterdir() if ".tmp-" in p.name and not _pid_alive(p.name)]
        found += [p for p in cache.glob("asof-*/**/*.wal")]
    for table in ("facts", "events"):
        found += _unreferenced_delta_files(str(store.dir / "log" / table))
    found += [p for p in store.dir.glob(".*.tmp-*")]
    return found


def remove_debris(store) -> int:
    _tidy_legacy(store.dir)
    found = debris(store)
    for p in found:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    if store.shard_dir.is_dir():
        for d in store.shard_dir.iterdir():
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()
    return len(found)
