"""Uploaded targets, versioned like data: each publish is an immutable version file plus an event
in an append-only log (publish, retract, restore). Nothing is deleted.

Layout: ``<data dir>/targets/v000001.json`` ({"targets": [...]}) and ``targets/log.jsonl``.
The current uploaded targets are those of the non-retracted versions, a later version replacing
an earlier (or shipped) target with the same plan, indicator, region and target quarter.
``catalog_with_uploaded_targets(data_dir)`` is the catalog the Store uses.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import json
import os
import threading
from pathlib import Path

from metrics.auth import User, audit, require
from metrics.catalog import Catalog, Target, default_catalog

TARGETS_DIR = "targets"
LOG = "log.jsonl"
_cache: dict[str, tuple[tuple, Catalog]] = {}
_cache_lock = threading.Lock()


def _dir(data_dir) -> Path:
    return Path(data_dir) / TARGETS_DIR


@contextlib.contextmanager
def _locked(data_dir):
    d = _dir(data_dir)
    d.mkdir(parents=True, exist_ok=True)
    with open(d / ".lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield d
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def events(data_dir) -> list[dict]:
    path = _dir(data_dir) / LOG
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def versions(data_dir) -> list[dict]:
    """Each published version with who/when/file/count and whether it is retracted now."""
    out: dict[int, dict] = {}
    for e in events(data_dir):
        if e["event"] == "publish":
            out[e["version"]] = {**e, "retracted": False}
        elif e["version"] in out:
            out[e["version"]]["retracted"] = e["event"] == "retract"
    return list(out.values())


def _append(d: Path, entry: dict) -> None:
    line = json.dumps(entry, ensure_ascii=False) + "\n"
    fd = os.open(d / LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_targets(data_dir, targets: list[dict], *, user: User, comment: str, source_name: str,
                    sha256: str) -> int:
    """Write a new version (file first, then the log line: the commit point)."""
    require(user, "analyst")
    if not (comment or "").strip():
        raise ValueError("请填写发布说明")
    with _locked(data_dir) as d:
        version = max((v["version"] for v in versions(data_dir)), default=0) + 1
        path = d / f"v{version:06d}.json"
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps({"targets": targets}, ensure_ascii=False, indent=1), encoding="utf-8")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _append(d, {"event": "publish", "version": version, "user": user.name,
                    "at": dt.datetime.now().isoformat(timespec="seconds"), "comment": comment.strip(),
                    "file": Path(source_name).name, "sha256": sha256, "count": len(targets)})
    audit.record(data_dir, user, "targets_publish", version=version, file=Path(source_name).name,
                 sha256=sha256, count=len(targets), comment=comment.strip())
    return version


def _set_retracted(data_dir, version: int, user: User, retract: bool, comment: str | None) -> None:
    require(user, "analyst")
    with _locked(data_dir) as d:
        current = {v["version"]: v for v in versions(data_dir)}
        if version not in current:
            raise ValueError(f"没有编号为 {version} 的目标版本")
        if current[version]["retracted"] == retract:
            raise ValueError(f"目标版本 {version} {'已撤回' if retract else '未撤回'}")
        _append(d, {"event": "retract" if retract else "restore", "version": version, "user": user.name,
                    "at": dt.datetime.now().isoformat(timespec="seconds"), "comment": comment})
    audit.record(data_dir, user, "targets_retract" if retract else "targets_restore", version=version,
                 comment=comment)


def retract(data_dir, version: int, *, user: User, comment: str | None = None) -> None:
    _set_retracted(data_dir, version, user, True, comment)


def restore(data_dir, version: int, *, user: User, comment: str | None = None) -> None:
    _set_retracted(data_dir, version, user, False, comment)


def target_key(t: Target | dict) -> tuple:
    get = (lambda k: t.get(k)) if isinstance(t, dict) else (lambda k: getattr(t, k))
    return (get("plan"), get("indicator"), get("region") or None, get("target_period"))


def uploaded_targets(data_dir) -> list[dict]:
    """Current uploaded target dicts (later versions win per key)."""
    out: dict[tuple, dict] = {}
    for v in sorted(versions(data_dir), key=lambda v: v["version"]):
        if v["retracted"]:
            continue
        path = _dir(data_dir) / f"v{v['version']:06d}.json"
        for t in json.loads(path.read_text(encoding="utf-8"))["targets"]:
            out[target_key(t)] = {**t, "_version": v["version"]}
    return list(out.values())


def to_target(t: dict) -> Target:
    fields = {f.name for f in dataclasses.fields(Target)}
    clean = {k: v for k, v in t.items() if k in fields}
    clean["milestones"] = {int(k): v for k, v in (t.get("milestones") or {}).items()}
    return Target(**clean)


def merge_targets(catalog: Catalog, uploaded: list[dict]) -> Catalog:
    """The catalog with uploaded targets replacing shipped ones of the same key (and added)."""
    if not uploaded:
        return catalog
    new = {target_key(t): to_target(t) for t in uploaded}
    kept = [t for t in catalog.targets if target_key(t) not in new]
    return Catalog(documents=catalog.documents, elements=catalog.elements, indicators=catalog.indicators,
                   plans=catalog.plans, targets=kept + list(new.values()))


def stamp(data_dir) -> tuple:
    """The targets log's identity (inode, mtime, size): changes on every publish, retract, restore."""
    try:
        st = (_dir(data_dir) / LOG).stat()
        return (st.st_ino, st.st_mtime_ns, st.st_size)
    except FileNotFoundError:
        return ()


def catalog_with_uploaded_targets(data_dir, base: Catalog | None = None) -> Catalog:
    """The shipped catalog plus the data directory's uploaded targets (cached until the log changes)."""
    base = base or default_catalog()
    now = stamp(data_dir)
    if not now:
        return base
    key = str(Path(data_dir).resolve())
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == (now, id(base)):
            return hit[1]
    merged = merge_targets(base, uploaded_targets(data_dir))
    with _cache_lock:
        _cache[key] = ((now, id(base)), merged)
    return merged


def targets_version(data_dir) -> int:
    """Changes on every targets publish/retract/restore (a cache key beside the store's version)."""
    return len(events(data_dir))
