"""Benchmark: ``python -m metrics bench --scale county|province|nation [--json] [--browser] [--ingest]``.

On China-shaped synthetic data (cached per scale and seed, see ``data.py``), in one run:

- pages: every page's core calls (overview, indicator, comparison, report data) for a county, a
  province and the top region — median and p95 after a warm-up — and the same answers the naive
  way (pandas over the fact Parquet, grouping up the hierarchy; ``naive.py``) with the speed-up;
- publish: one province's quarter validated, published and rolled up, in a separate process
  (seconds, peak RSS); the store is opened first as the app has it when an analyst uploads
  (hierarchy, layout, settled: ``open_s``, not in ``seconds``); afterwards the bench retracts it
  so the cached store stays as it was;
- serve: a separate process serving 5 concurrent sessions (RSS).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from metrics.catalog import default_catalog
from metrics.process import settle

from .synth import SCALES, SEED, make_facts, make_hierarchy  # noqa: F401 - re-exported

REPO = Path(__file__).resolve().parent.parent.parent
PAGES = ("overview", "indicator", "comparison", "report data")


class BenchError(RuntimeError):
    """A bench that cannot run; the message says why."""


def _regions(store) -> dict[str, str]:
    """top / province / county codes to time (a smaller scale has fewer distinct ones)."""
    h = store.hierarchy
    out = {"top": h.root.code}
    for kind in ("province", "county"):
        found = [r.code for r in h.in_order() if r.level == kind]
        if found and found[len(found) // 2] not in out.values():
            out[kind] = found[len(found) // 2]
    return out


def page_calls(store) -> list[tuple[str, Callable[[], object]]]:
    """(name, call) for every page at every region kind: exactly the core calls the pages make."""
    from metrics import query
    from metrics.export.report.data import report_data
    cat = store.catalog
    plan, period = query.resolve_plan(store, None, None)
    if plan is None:
        raise BenchError("没有数据或没有覆盖最新季度的规划 / no data or no plan covers the latest quarter")
    ratio = [c for c, i in cat.indicators.items() if i.kind == "ratio"]
    indicator = "road_good_rate" if "road_good_rate" in ratio else (ratio or list(cat.indicators))[0]
    calls = []
    for kind, r in _regions(store).items():
        def overview(r=r):
            return query.assess_overview(store, r, period, plan)

        def indicator_page(r=r):
            return (query.assess_region(store, r, period, plan.id),
                    query.assess_children(store, r, period, plan, indicator),
                    query.provenance(store, r, period, indicator))

        def comparison(r=r):
            return query.assess_subregions(store, r, period, plan)

        def report(r=r):    # what building the report reads (metrics.export.report.data)
            return report_data(store, r, period, plan.id)

        calls += [(f"overview/{kind}", overview), (f"indicator/{kind}", indicator_page),
                  (f"comparison/{kind}", comparison), (f"report data/{kind}", report)]
    return calls


def _stats(samples: list[float]) -> tuple[float, float]:
    ms = np.asarray(samples) * 1000
    return round(float(np.median(ms)), 2), round(float(np.percentile(ms, 95)), 2)


def _time(fn: Callable[[], object], repeats: int, warm: bool = True) -> list[float]:
    if warm:
        fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _child(what: str, data_dir: Path, scale: str, *extra: str) -> dict:
    proc = subprocess.run([sys.executable, "-m", "metrics.bench.child", what, str(data_dir), scale, *extra],
                          cwd=REPO, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    if proc.returncode != 0:
        raise BenchError(f"bench {what} process failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _optional(module: str, label: str) -> dict:
    import importlib
    try:
        return importlib.import_module(module).run()
    except NotImplementedError as exc:
        msg = f"{label} bench not available yet ({module}.run: {exc})"
        print(msg, file=sys.stderr)
        return {"error": msg}


def run(scale: str = "province", repeats: int = 20, seed: int = SEED, browser: bool = False,
        ingest: bool = False, naive: bool = True, progress: Callable[[str], None] | None = None) -> dict:
    """Prepare (or reuse) the synthetic store, then measure; returns the JSON-able result."""
    from metrics.bench.data import prepare
    from metrics.bench.naive import NaiveStore
    from metrics.store import Store

    if scale not in SCALES:
        raise BenchError(f"unknown scale {scale!r} (use {', '.join(SCALES)})")
    say = progress or (lambda m: None)
    t_start = time.perf_counter()
    cat = default_catalog()
    say(f"preparing {scale} data (cached per scale and seed)")
    data_dir, hierarchy, info = prepare(scale, cat, seed, say)
    store = Store(data_dir, catalog=cat, hierarchy=hierarchy)
    levels: dict[str, int] = {}
    for r in hierarchy.by_code.values():
        levels[r.level] = levels.get(r.level, 0) + 1

    say("timing the pages")
    calls = page_calls(store)
    settle(store)       # as the app does once its store is loaded (metrics/process.py)
    timed = {name: _time(fn, max(1, repeats)) for name, fn in calls}
    pages = {}
    naive_store = NaiveStore(store.log.facts_dataset(), cat, hierarchy, store) if naive else None
    naive_calls = dict(page_calls(naive_store)) if naive_store is not None else {}
    for name, samples in timed.items():
        median, p95 = _stats(samples)
        entry = {"median_ms": median, "p95_ms": p95, "naive_median_ms": None, "speedup": None}
        # the naive way reads the whole log per call: every page at county scale, the overviews above.
        # The nation's top would read all 6·10⁸ facts in ~250 chunks (~15 minutes): it reads the
        # latest quarter's only, a lower bound of its time (the page asks for every quarter)
        if naive_store is not None and (scale == "county" or name.startswith("overview/")):
            say(f"naive {name}")
            if scale == "nation" and name.endswith("/top"):
                bound = NaiveStore(store.log.facts_dataset(), cat, hierarchy, store, last_quarters=1, chunked=True)
                n_med, _ = _stats(_time(dict(page_calls(bound))[name], 1, warm=False))
                entry["naive_lower_bound"] = (f"the latest of {len(store.periods_with_data())} quarters read: "
                                              "the naive time and speed-up are at least these")
            else:
                n_med, _ = _stats(_time(naive_calls[name], 3 if scale == "county" else 1, warm=False))
            entry.update(naive_median_ms=n_med, speedup=round(n_med / max(median, 1e-3), 1))
        pages[name] = entry

    say("pages: " + json.dumps(pages))
    # each step after the pages on its own: a late failure (the first nation run's retract ran out
    # of memory after 25 minutes) keeps what was measured before it, and says what it left behind
    failures: list[dict] = []

    def step(name: str, fn: Callable[[], dict | None], left_behind: str = "") -> dict | None:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - reported in the result and by the exit code
            failures.append({"step": name, "error": f"{type(exc).__name__}: {exc}"[-2000:],
                             **({"left_behind": left_behind} if left_behind else {})})
            say(f"{name} failed: {exc}")
            return None

    def measured_publish() -> dict:
        with tempfile.TemporaryDirectory(prefix="rrtt-bench-") as tmp:
            upload = str(Path(tmp) / "bench-quarter.csv")
            _child("prepare", data_dir, scale, upload)
            return _child("publish", data_dir, scale, upload)

    say("publishing one province's quarter in a separate process")
    publish = step("publish", measured_publish)
    say("publish: " + json.dumps(publish))
    say("serving 5 concurrent sessions in a separate process")
    serve = step("serve", lambda: _child("serve", data_dir, scale))
    if publish is not None:
        def undo() -> None:
            t = time.perf_counter()
            store.retract(publish["snapshot_id"], user=_bench_user(), comment="bench: undo the measured publish")
            publish["retract_s"] = round(time.perf_counter() - t, 3)
        step("retract", undo, left_behind=f"snapshot {publish['snapshot_id']} is still published in the cached "
                                          f"data: python -m metrics --data-dir {data_dir} retract {publish['snapshot_id']}")

    result = {
        "scale": scale, "facts": info["facts"], "pages": pages,
        "publish": publish, "serve": serve,
        "hierarchy": {"regions": len(hierarchy), "levels": levels},
        "data": info, "repeats": repeats, "failures": failures,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "duckdb": __import__("duckdb").__version__, "deltalake": __import__("deltalake").__version__},
    }
    if browser:
        result["browser"] = _optional("metrics.bench_browser", "browser")
    if ingest:
        result["ingest"] = _optional("metrics.ingest.bench", "ingest")
    result["total_s"] = round(time.perf_counter() - t_start, 1)
    return result


def _bench_user():
    from metrics.auth import User
    return User("bench", "analyst")


def print_report(result: dict, file=None) -> None:
    out = file or sys.stdout

    def p(*a):
        print(*a, file=out)

    d = result["data"]
    p(f"性能基准 / benchmark — scale {result['scale']}: {result['facts']:,} facts, "
      f"{result['hierarchy']['regions']:,} regions, {d['quarters']} quarters"
      f"{' (cached data)' if d.get('cached') else ''}")
    p(f"  data: generate {d['generate_s']} s, Delta write {d['delta_write_s']} s, rollups {d['rebuild_s']} s, "
      f"log {d['log_bytes'] / 2**20:,.0f} MiB, shards {d['shard_bytes'] / 2**20:,.0f} MiB ({d['shard_files']} files)")
    p(f"  {'page':28} {'median ms':>10} {'p95 ms':>10} {'naive ms':>12} {'speed-up':>10}")
    for name, e in result["pages"].items():
        bound = "≥ " if e.get("naive_lower_bound") else ""
        naive = "—" if e["naive_median_ms"] is None else f"{bound}{e['naive_median_ms']:,.0f}"
        speed = "—" if e["speedup"] is None else f"{bound}{e['speedup']:,.0f}×"
        p(f"  {name:28} {e['median_ms']:>10.1f} {e['p95_ms']:>10.1f} {naive:>12} {speed:>10}")
    for name, e in result["pages"].items():
        if e.get("naive_lower_bound"):
            p(f"  ≥ {name}: {e['naive_lower_bound']}")
    pub, srv = result["publish"], result["serve"]
    if pub:
        opened = f"; store opened before it in {pub['open_s']:.2f} s" if "open_s" in pub else ""
        p(f"  publish {pub['rows']:,} rows: {pub['seconds']:.2f} s (validate {pub['validate_s']:.2f}, "
          f"publish {pub['publish_s']:.2f}{opened}), peak RSS {pub['peak_rss_mib']:,.0f} MiB")
    if srv:
        p(f"  serve {srv['sessions']} sessions: RSS {srv['rss_mib']:,.0f} MiB ({srv['calls']} calls, "
          f"{len(srv['errors'])} errors)")
    for f in result.get("failures", []):
        p(f"  FAILED {f['step']}: {f['error']}" + (f" — {f['left_behind']}" if f.get("left_behind") else ""))
    p(f"  total {result['total_s']:.1f} s")
