"""``python -m metrics bench --ingest``: a 10⁶-row long CSV validated and published (seconds, peak RSS).

Owned by the ingest work; ``metrics.bench`` calls ``run``. The data set is made in one child
process (a synthetic county: townships × villages × data elements × quarters, one value per
key) and measured in another, so the peak RSS is that of reading, validating and publishing
alone. Goal: < 10 s and < 2 GiB.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from metrics import periods
from metrics.paths import REPO_DIR

QUARTERS = 20
ELEMENTS = 25
FIRST_QUARTER = "2021Q1"


def _elements() -> list[str]:
    from metrics.catalog import default_catalog
    from metrics.ingest.validate import ratio_pairs
    cat = default_catalog()
    numerators = set(ratio_pairs(cat)["num"])
    pool = [e.code for e in cat.elements.values()
            if e.role == "data" and not e.percent and e.code not in numerators and e.aggregation == "sum"]
    return pool[:ELEMENTS]


def make_data(folder: Path, rows: int) -> Path:
    """A synthetic hierarchy (``regions.csv``) and a long CSV of ``rows`` distinct facts."""
    elements = _elements()
    villages = max(1, rows // (len(elements) * QUARTERS))
    towns = max(1, villages // 40)
    regions = [("990900000000", "基准测试县（演示）", "county", "")]
    regions += [(f"9909{t:05d}000", f"基准测试{t}镇", "township", "990900000000") for t in range(1, towns + 1)]
    regions += [(f"9909{(v % towns) + 1:05d}{v // towns + 1:03d}", f"基准测试{v}村", "village",
                 f"9909{(v % towns) + 1:05d}000") for v in range(villages)]
    pd.DataFrame(regions, columns=["code", "name", "level", "parent"]).to_csv(folder / "regions.csv", index=False)
    quarters = periods.period_range(FIRST_QUARTER, periods.shift(FIRST_QUARTER, QUARTERS - 1))
    village_codes = np.array([r[0] for r in regions if r[2] == "village"], dtype=object)
    n = len(village_codes) * len(elements) * len(quarters)
    rng = np.random.default_rng(7)
    base = rng.integers(50, 5000, size=len(village_codes) * len(elements)).astype(float)
    frame = pd.DataFrame({
        "region_code": np.repeat(village_codes, len(elements) * len(quarters)),
        "element_code": np.tile(np.repeat(np.array(elements, dtype=object), len(quarters)), len(village_codes)),
        "period": np.tile(np.array(quarters, dtype=object), len(village_codes) * len(elements)),
        "value": np.round(np.repeat(base, len(quarters)) * np.tile(1 + 0.01 * np.arange(len(quarters)),
                                                                   len(village_codes) * len(elements)), 2),
    }).head(rows if rows < n else n)
    path = folder / "bench_long.csv"
    frame.to_csv(path, index=False)
    # the same keys again, every tenth value corrected: an analyst's re-upload into a full store
    frame.loc[::10, "value"] = (frame["value"].iloc[::10] * 1.01).round(2)
    frame.to_csv(folder / "bench_long_corrected.csv", index=False)
    return path


def measure(folder: Path, csv_path: Path) -> dict:
    """Read, validate and publish ``csv_path`` into the store at ``folder`` (run in a child process)."""
    from metrics.auth import User
    from metrics.ingest import dryrun, publish
    from metrics.store import Store
    t0 = time.perf_counter()
    data = csv_path.read_bytes()
    store = Store(folder)
    report = dryrun.check(store, data, csv_path.name, last_period="2030Q4")
    t1 = time.perf_counter()
    summary = dryrun.summarize(store, report, with_status=False)
    t_sum = time.perf_counter()
    snap = publish.publish(store, report, user=User("bench", "analyst"), comment="ingest bench",
                           acknowledge_warnings=True, summary=summary)
    t2 = time.perf_counter()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "load_average": round(os.getloadavg()[0], 1),"rows": report.rows_read, "rows_valid": report.rows_valid, "errors": int(len(report.errors)),
            "warnings": int(len(report.warnings)), "snapshot": snap.id,
            "validate_s": round(t1 - t0, 2), "summary_s": round(t_sum - t1, 2),
            "publish_s": round(t2 - t_sum, 2), "total_s": round(t2 - t0, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def _child(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_DIR, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _measure_in_child(folder: str, name: str) -> dict:
    return _child(f"from pathlib import Path; from metrics.ingest import bench; import json; "
                  f"print(json.dumps(bench.measure(Path({folder!r}), Path({folder!r}) / {name!r}))); "
                  f"from metrics.process import leave; leave(0)")


def run(rows: int = 1_000_000) -> dict:
    """The first upload into an empty store (the goal), then the corrected re-upload of the same
    keys into the store that now holds them (``reupload``: every value looked up, 10 % changed)."""
    with tempfile.TemporaryDirectory(prefix="rrtt-ingest-bench-") as tmp:
        _child(f"from pathlib import Path; from metrics.ingest import bench; import json; "
               f"print(json.dumps(str(bench.make_data(Path({tmp!r}), {int(rows)})))); "
               f"from metrics.process import leave; leave(0)")
        result = _measure_in_child(tmp, "bench_long.csv")
        result["reupload"] = _measure_in_child(tmp, "bench_long_corrected.csv")
    result["goal"] = {"total_s": 10, "peak_rss_mb": 2048}
    result["met"] = result["total_s"] < 10 and result["peak_rss_mb"] < 2048
    return result
