"""The bench's separate processes (``python -m metrics.bench.child prepare|publish|serve DATA_DIR SCALE [CSV]``).

prepare: writes the upload: one province's quarter (~10⁶ rows at province and nation scale),
         the newest quarter of one group revised.
publish: that file validated, published and rolled up into the full store.
serve:   the app's process serving 5 concurrent sessions: 5 threads making the pages' core
         calls on one shared Store; reports the process's RSS.
Each prints one JSON line.
"""

from __future__ import annotations

import json
import resource
import sys
import threading
import time
from pathlib import Path

import pandas as pd

from metrics.auth import User
from metrics.bench.synth import _INTEGER_UNITS
from metrics.process import settle


def _peak_rss_mib() -> float:
    """This process's own peak (VmHWM, reset by exec; ru_maxrss keeps the forking parent's)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mib() -> float:
    import os
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _validate(data: bytes, rows: int, store) -> pd.DataFrame:
    """The upload validator itself (metrics.ingest) on the quarter as the long CSV an analyst would
    upload; any error and nothing is published."""
    import os

    from metrics.ingest.dryrun import check
    # a province's quarter of every catalog element is ~2.6·10⁶ rows at province scale: above the
    # analysts' upload limits (settings max_upload_rows / max_upload_mb), which are not what is measured
    os.environ.setdefault("RRTT_MAX_UPLOAD_ROWS", str(max(rows + 1, 2_000_000)))
    os.environ.setdefault("RRTT_MAX_UPLOAD_MB", "100000")
    report = check(store, data, "bench-quarter.csv")
    if not report.ok:
        raise ValueError(f"{report.fatal or ''} {len(report.errors)} invalid rows, "
                         f"e.g. {report.errors.head(3).to_dict('records')}")
    return report.facts[["region_code", "element_code", "period", "value"]]


def _revised_quarter(store, cat, leaves: list[str], quarter: str) -> pd.DataFrame:
    """The group's published leaf facts of ``quarter``, revised as a statistics office revises a
    quarter: counts and amounts of each village up by the same 0–2 % (so a part never exceeds its
    whole), rates unchanged. Plausible values: the validator's checks and warnings run on data like
    an analyst's, not on random levels that would flag most rows as a large change."""
    import numpy as np

    from metrics.store.reader import ShardReader
    files = [store.shard_dir / rel for rel in store.manifest()["shards"][quarter].values()]
    raw = ShardReader.get().query(files, "facts", "region_code, element_code, value",
                                  "region_code IN (SELECT unnest($r::VARCHAR[]))", {"r": leaves},
                                  "region_code, element_code")
    frame = pd.DataFrame({"region_code": raw["region_code"], "element_code": raw["element_code"],
                          "period": quarter, "value": np.asarray(raw["value"], dtype=float)})
    villages, inverse = np.unique(frame["region_code"].to_numpy(dtype=str), return_inverse=True)
    factor = np.random.default_rng(4242).uniform(1.0, 1.02, len(villages))[inverse]
    scaled = frame["element_code"].map({c: not e.percent and e.aggregation == "sum"
                                        for c, e in cat.elements.items()}).fillna(False).to_numpy(dtype=bool)
    integer = frame["element_code"].map({c: e.unit_zh in _INTEGER_UNITS
                                         for c, e in cat.elements.items()}).fillna(False).to_numpy(dtype=bool)
    value = frame["value"].to_numpy()
    revised = np.where(scaled, value * factor, value)
    frame["value"] = np.where(scaled & integer, np.floor(revised + 0.5), np.round(revised, 2))
    return frame


def _group_and_quarter(scale: str):
    from .data import quarters
    from .synth import make_hierarchy
    hierarchy = make_hierarchy(scale)
    groups = hierarchy.children(hierarchy.root.code)
    # one province's quarter: the top itself at province scale, a province at nation scale
    group = hierarchy.root if hierarchy.root.level == "province" else groups[len(groups) // 2]
    leaves = [r.code for r in hierarchy.descendants(group.code) if not r.children] or [group.code]
    return hierarchy, group, leaves, quarters(scale)[-1]


def prepare(data_dir: Path, scale: str, out: Path) -> dict:
    """Write the upload the publish measures (its own process: reading the store for it is not
    part of the upload's time or memory)."""
    from metrics.catalog import default_catalog
    from metrics.store import Store
    cat = default_catalog()
    hierarchy, group, leaves, quarter = _group_and_quarter(scale)
    frame = _revised_quarter(Store(data_dir, catalog=cat, hierarchy=hierarchy), cat, leaves, quarter)
    frame.to_csv(out, index=False)
    return {"rows": len(frame), "file": str(out)}


def publish(data_dir: Path, scale: str, upload: Path | None = None) -> dict:
    """Validate and publish ``upload`` (written by ``prepare``; made here when not given)."""
    import tempfile

    from metrics.catalog import default_catalog
    from metrics.store import Store
    cat = default_catalog()
    hierarchy, group, leaves, quarter = _group_and_quarter(scale)
    if upload is None:
        upload = Path(tempfile.mkdtemp(prefix="rrtt-bench-")) / "bench-quarter.csv"
        prepare(data_dir, scale, upload)
    data = upload.read_bytes()                   # the file as uploaded
    rows = data.count(b"\n") - 1
    rss_before = _rss_mib()
    # the store open as in the app when an analyst uploads: its hierarchy, layout and catalog
    # loaded and the process settled at start-up (pages/common.py); timed apart, as ``open_s``
    t_open = time.perf_counter()
    store = Store(data_dir, catalog=cat, hierarchy=hierarchy)
    settle(store)
    t0 = time.perf_counter()
    frame = _validate(data, rows, store)
    t1 = time.perf_counter()
    snap = store.publish(frame, user=User("bench", "analyst"), comment="bench: one province's quarter",
                         source_name="bench-quarter.csv", source_sha256="1" * 64)
    t2 = time.perf_counter()
    return {"rows": len(frame), "seconds": round(t2 - t0, 3), "validate_s": round(t1 - t0, 3),
            "publish_s": round(t2 - t1, 3), "open_s": round(t0 - t_open, 3), "peak_rss_mib": round(_peak_rss_mib(), 1),
            "rss_before_mib": round(rss_before, 1), "snapshot_id": snap.id, "group": group.code,
            "quarter": quarter}


def serve(data_dir: Path, scale: str, sessions: int = 5, rounds: int = 6) -> dict:
    from metrics import query
    from metrics.store import Store

    from . import page_calls
    store = Store(data_dir)
    calls = page_calls(store)
    settle(store)   # as the app does once its store is loaded
    errors: list[str] = []
    times: list[float] = []

    def session(i: int) -> None:
        try:
            for r in range(rounds):
                for _, fn in calls[(i + r) % len(calls):] + calls[:(i + r) % len(calls)]:
                    t = time.perf_counter()
                    fn()
                    times.append(time.perf_counter() - t)
        except Exception as exc:  # noqa: BLE001 - reported in the result
            errors.append(repr(exc))

    query.resolve_plan(store, None, None)
    threads = [threading.Thread(target=session, args=(i,)) for i in range(sessions)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"sessions": sessions, "rss_mib": round(_rss_mib(), 1), "peak_rss_mib": round(_peak_rss_mib(), 1),
            "calls": len(times), "seconds": round(time.perf_counter() - t0, 2), "errors": errors}


if __name__ == "__main__":
    what, data, scale = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    extra = Path(sys.argv[4]) if len(sys.argv) > 4 else None
    if what == "prepare":
        result = prepare(data, scale, extra)
    elif what == "publish":
        result = publish(data, scale, extra)
    else:
        result = serve(data, scale)
    print(json.dumps(result))
    from metrics.process import leave
    leave(0)   # the Delta binding may abort the teardown (metrics/process.py)
