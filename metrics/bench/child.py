"""The bench's separate processes (``python -m metrics.bench.child publish|serve DATA_DIR SCALE``).

publish: one province's quarter (~10⁶ rows at province and nation scale) — new values for the
         newest quarter of one group — validated, published and rolled up into the full store.
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


def publish(data_dir: Path, scale: str) -> dict:
    from metrics.catalog import default_catalog
    from metrics.store import Store

    from .data import quarters
    from .synth import make_facts, make_hierarchy
    cat = default_catalog()
    hierarchy = make_hierarchy(scale)
    groups = hierarchy.children(hierarchy.root.code)
    # one province's quarter: the top itself at province scale, a province at nation scale
    group = hierarchy.root if hierarchy.root.level == "province" else groups[len(groups) // 2]
    leaves = [r.code for r in hierarchy.descendants(group.code) if not r.children] or [group.code]
    quarter = quarters(scale)[-1]
    table = make_facts(cat, hierarchy, [quarter], seed=4242, leaves=leaves, benchmarks=False)
    rows = table.num_rows
    data = table.to_pandas().to_csv(index=False).encode("utf-8")     # the file as uploaded
    del table
    rss_before = _rss_mib()
    t0 = time.perf_counter()
    store = Store(data_dir, catalog=cat, hierarchy=hierarchy)
    frame = _validate(data, rows, store)
    t1 = time.perf_counter()
    snap = store.publish(frame, user=User("bench", "analyst"), comment="bench: one province's quarter",
                         source_name="bench-quarter.csv", source_sha256="1" * 64)
    t2 = time.perf_counter()
    return {"rows": len(frame), "seconds": round(t2 - t0, 3), "validate_s": round(t1 - t0, 3),
            "publish_s": round(t2 - t1, 3), "peak_rss_mib": round(_peak_rss_mib(), 1),
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
    result = publish(data, scale) if what == "publish" else serve(data, scale)
    print(json.dumps(result))
    from metrics.process import leave
    leave(0)   # the Delta binding may abort the teardown (metrics/process.py)
