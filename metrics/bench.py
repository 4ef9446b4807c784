"""Benchmark: publish a synthetic province (or county) and time what each page queries.

``run(scale="province")`` generates a synthetic hierarchy (codes prefixed ``98``, never the
demo's ``99``) and facts for every data element of the real catalog over 2021Q1–2025Q4,
publishes them through ``Store.publish`` into a temporary data directory (removed afterwards),
then times exactly the ``metrics.query`` calls each page makes, against the 100 ms budget of
DESIGN.md. All values are synthetic; nothing is written to the real data directory.

    python -m metrics bench [--scale county|province] [--repeats 5] [--json]
"""

from __future__ import annotations

import contextlib
import gc
import os
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from metrics import periods
from metrics.catalog import Catalog, Element, default_catalog
from metrics.regions import LEVEL_NAMES_ZH, Hierarchy, Region

PAGE_BUDGET_MS = 100.0
FIRST, LAST = "2021Q1", "2025Q4"
PLAN_ID = "demo-2021-2025"
SEED = 98
PREFIX = "98"

# Each level below the top: (level, min children, max children) per parent (inclusive).
SCALES: dict[str, dict] = {
    # ≈ 1 province, 12 cities, ~100 counties, ~1,200 townships, ~15,000 villages → ~10⁷ facts
    "province": {"top": "province",
                 "fanout": [("city", 12, 12), ("county", 8, 9), ("township", 12, 12), ("village", 8, 17)]},
    # ≈ 1 county, 8 townships, ~170 villages → ~10⁵ facts (DESIGN.md: a county has ~10⁵ facts)
    "county": {"top": "county", "fanout": [("township", 8, 8), ("village", 15, 27)]},
}
# Digits of a 12-digit code per level: province 2, city 2, county 2, township 3, village 3.
_SPANS = {"province": (0, 2), "city": (2, 4), "county": (4, 6), "township": (6, 9), "village": (9, 12)}
_FIRST_NUMBER = {"city": 1, "county": 1, "township": 101, "village": 201}
_INTEGER_UNITS = {"座", "户", "人", "个", "次", "所", "家", "人次", "处", "条", "辆", "台", "名", "间", "项",
                  "套", "户次"}
_YTD_SHARE = np.array([0.24, 0.49, 0.74, 1.0])
_FLOW_SHARE = np.array([0.15, 0.30, 0.35, 0.20]) * 4


# -- synthetic hierarchy --------------------------------------------------------------------------
def _code(parent: str, level: str, number: int) -> str:
    lo, hi = _SPANS[level]
    digits = hi - lo
    return parent[:lo] + f"{number:0{digits}d}" + "0" * (12 - hi)


def make_hierarchy(scale: str, seed: int = SEED) -> Hierarchy:
    """A synthetic hierarchy with 12-digit codes prefixed ``98``, numbered like real ones."""
    spec = SCALES[scale]
    rng = np.random.default_rng(seed)
    top_level = spec["top"]
    top_code = PREFIX + "0" * 10
    if top_level != "province":   # a county: give it city and county digits
        top_code = PREFIX + "0101" + "0" * 6
    regions = [Region(code=top_code, name=f"基准{LEVEL_NAMES_ZH[top_level][:1]}（合成）", level=top_level,
                      parent=None, name_en=f"Benchmark {top_level} (synthetic)")]
    parents = [top_code]
    for level, lo, hi in spec["fanout"]:
        nxt = []
        for parent in parents:
            for i in range(int(rng.integers(lo, hi + 1))):
                code = _code(parent, level, _FIRST_NUMBER[level] + i)
                regions.append(Region(code=code, name=f"基准{level}{code[2:]}", level=level, parent=parent,
                                      name_en=f"Bench {level} {code[2:]}"))
                nxt.append(code)
        parents = nxt
    return Hierarchy(regions)


# -- synthetic facts ------------------------------------------------------------------------------
def _element_matrix(el: Element, n: int, quarters: list[str], rng: np.random.Generator,
                    coverage: bool) -> np.ndarray:
    """Plausible villages × quarters values for one (non-numerator) data element."""
    q = len(quarters)
    t = np.linspace(0.0, 1.0, q)[None, :]
    qi = np.array([periods.quarter_of(p) - 1 for p in quarters])
    years = np.array([periods.year_of(p) - periods.year_of(quarters[0]) for p in quarters])[None, :]
    hint = (el.demo or {}).get("per_village")
    if coverage:   # 0/1 units, each village covered from some quarter on
        start = rng.uniform(-0.6, 1.3, n)[:, None]
        return (t >= start).astype(float)
    if el.percent:
        base = rng.uniform(55.0, 92.0, n)[:, None]
        return np.clip(base + 6.0 * t + rng.normal(0, 1.0, (n, q)), 0.0, 100.0)
    lo, hi = (float(hint[0]), float(hint[1])) if hint else (
        (11000.0, 19000.0) if el.aggregation == "weighted_mean" else (20.0, 400.0))
    level = rng.uniform(lo, hi, n)[:, None]
    if el.aggregation == "weighted_mean":      # per-capita values, growing ~6 % a year
        growth = rng.normal(0.06, 0.015, n)[:, None]
        values = level * (1 + growth) ** years
        if el.temporal == "ytd":
            values = values * _YTD_SHARE[qi][None, :]
        return values
    if el.temporal == "flow":
        return np.maximum(level * _FLOW_SHARE[qi][None, :] * rng.normal(1.0, 0.1, (n, q)), 0.0)
    if el.cumulative:
        return level * (1 + 0.5 * t)
    return level * (1 + 0.04 * t) * rng.normal(1.0, 0.01, (n, 1))


def _round(el: Element, values: np.ndarray) -> np.ndarray:
    if el.unit_zh in _INTEGER_UNITS and not el.percent and el.aggregation == "sum":
        return np.floor(values + 0.5)
    return np.round(values, 2)


def make_facts(catalog: Catalog, hierarchy: Hierarchy, quarters: list[str], seed: int = SEED) -> pd.DataFrame:
    """Facts (region_code, element_code, period, value) for every data element at every village,
    and benchmark elements at the top region. Built as arrays, sorted by region, element, period."""
    rng = np.random.default_rng(seed + 1)
    villages = np.array([r.code for r in hierarchy.leaves()])
    n, q = len(villages), len(quarters)
    data = sorted(c for c, e in catalog.elements.items() if e.role == "data")
    bench = sorted(c for c, e in catalog.elements.items() if e.role == "benchmark")
    ratios = {}   # numerator -> denominator (first ratio indicator that names it)
    for ind in catalog.indicators.values():
        if ind.kind == "ratio":
            ratios.setdefault(ind.formula["numerator"], ind.formula["denominator"])
    covered = {ind.formula["element"] for ind in catalog.indicators.values() if ind.kind == "coverage"}

    values = np.empty((n, len(data), q))
    col = {c: i for i, c in enumerate(data)}
    done: set[str] = set()
    for code in data:
        if code not in ratios or ratios[code] not in col:
            el = catalog.elements[code]
            values[:, col[code], :] = _round(el, _element_matrix(el, n, quarters, rng, code in covered))
            done.add(code)
    pending = [c for c in data if c not in done]
    while pending:   # numerators after their denominators (which may be numerators themselves)
        ready = [c for c in pending if ratios[c] in done] or pending[:1]
        for code in ready:
            den = values[:, col[ratios[code]], :]
            num = _round(catalog.elements[code], den * rng.uniform(0.5, 1.0, (n, q)))
            values[:, col[code], :] = np.minimum(num, den)
            done.add(code)
        pending = [c for c in pending if c not in done]

    e = len(data)
    region_idx = np.repeat(np.arange(n, dtype=np.int32), e * q)
    element_idx = np.tile(np.repeat(np.arange(e, dtype=np.int32), q), n)
    period_idx = np.tile(np.arange(q, dtype=np.int32), n * e)
    value = values.reshape(-1)
    del values
    region = pc.take(pa.array(villages, pa.string()), pa.array(region_idx))
    element = pc.take(pa.array(data, pa.string()), pa.array(element_idx))
    period = pc.take(pa.array(quarters, pa.string()), pa.array(period_idx))
    del region_idx, element_idx, period_idx
    if bench:   # comparison series (e.g. rural income growth of the wider region), top region only
        top = hierarchy.root.code
        b_growth = np.round(rng.uniform(5.5, 9.5, (len(bench), q)), 2).reshape(-1)
        region = pa.concat_arrays([pa.array([top] * (len(bench) * q), pa.string()), region])
        element = pa.concat_arrays([pa.array(np.repeat(bench, q).tolist(), pa.string()), element])
        period = pa.concat_arrays([pa.array(quarters * len(bench), pa.string()), period])
        value = np.concatenate([b_growth, value])
    table = pa.table({"region_code": region, "element_code": element, "period": period,
                      "value": pa.array(value, pa.float64())})
    del region, element, period, value
    return table.to_pandas()


# -- measuring ------------------------------------------------------------------------------------
def _rss_mb() -> float:
    """Current resident set size (MB)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _stats(samples_s: list[float]) -> dict:
    ms = np.asarray(samples_s) * 1000
    return {"median_ms": round(float(np.median(ms)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2),
            "min_ms": round(float(ms.min()), 2), "max_ms": round(float(ms.max()), 2), "n": int(ms.size)}


def _time_page(calls: list[tuple[str, Callable[[], object]]], repeats: int, total_of: list[str] | None = None,
               groups: dict[str, list[str]] | None = None) -> dict:
    """Run the page's calls once to warm up, then ``repeats`` times; stats per call, group and total.

    ``total_of``: the call labels (or group names) that make one page view (default: all calls).
    ``groups``: name -> call labels summed per repeat (e.g. assess_children for every indicator)."""
    groups = groups or {}
    for _, fn in calls:
        fn()
    per_call: dict[str, list[float]] = {label: [] for label, _ in calls}
    for _ in range(repeats):
        for label, fn in calls:
            t0 = time.perf_counter()
            fn()
            per_call[label].append(time.perf_counter() - t0)
    grouped = {name: [sum(per_call[lv][i] for lv in labels) for i in range(repeats)]
               for name, labels in groups.items()}
    in_group = {lv for labels in groups.values() for lv in labels}
    parts = total_of or ([name for name in groups] + [lv for lv, _ in calls if lv not in in_group])
    series = {**per_call, **grouped}
    totals = [sum(series[p][i] for p in parts) for i in range(repeats)]
    result = {
        "calls": {lv: _stats(s) for lv, s in per_call.items() if lv not in in_group},
        "groups": {name: {**_stats(s), "calls": len(groups[name]),
                          "single_call": _stats([x for lv in groups[name] for x in per_call[lv]]),
                          "slowest": max(groups[name], key=lambda lv: np.median(per_call[lv]))}
                   for name, s in grouped.items()},
        "total_of": parts,
        "total": _stats(totals),
        "budget_ms": PAGE_BUDGET_MS,
    }
    result["pass"] = result["total"]["median_ms"] <= PAGE_BUDGET_MS
    result["pass_p95"] = result["total"]["p95_ms"] <= PAGE_BUDGET_MS
    return result


@contextlib.contextmanager
def _timed_publish_phases(store, phases: dict):
    """Time the snapshot write and the rollup build inside ``Store.publish`` (restored afterwards)."""
    import metrics.store as store_mod
    orig_build, orig_write = store_mod.build_rollups, store._write_snapshot

    def timed(fn, key):
        def wrapper(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                phases[key] = time.perf_counter() - t0
        return wrapper

    build, write = timed(orig_build, "build_rollups_s"), timed(orig_write, "write_snapshot_s")
    store_mod.build_rollups, store._write_snapshot = build, write
    try:
        yield
    finally:
        store_mod.build_rollups = orig_build
        del store._write_snapshot


def _close_connections(data_dir: Path) -> None:
    """Drop the store's cached read-only DuckDB connections to files under ``data_dir``."""
    from metrics.store import Store
    with Store._conn_lock:
        for path in [p for p in Store._connections if p.startswith(str(data_dir))]:
            with contextlib.suppress(Exception):
                Store._connections.pop(path).close()


def run(scale: str = "province", repeats: int = 5, catalog: Catalog | None = None,
        progress: Callable[[str], None] | None = None) -> dict:
    """Generate, publish and query a synthetic data set; return the measurements (JSON-able)."""
    from metrics import query
    from metrics.store import Store

    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r} (use {', '.join(SCALES)})")
    repeats = max(1, int(repeats))
    say = progress or (lambda msg: None)
    t_start = time.perf_counter()
    cat = catalog or default_catalog()
    plan = cat.plans[PLAN_ID] if PLAN_ID in cat.plans else cat.plan_for_period(LAST)
    quarters = periods.period_range(FIRST, LAST)
    rss_start = _rss_mb()

    say("generating hierarchy and facts")
    t0 = time.perf_counter()
    hierarchy = make_hierarchy(scale)
    facts = make_facts(cat, hierarchy, quarters)
    generate_s = time.perf_counter() - t0
    n_facts = len(facts)
    levels: dict[str, int] = {}
    for r in hierarchy.by_code.values():
        levels[r.level] = levels.get(r.level, 0) + 1
    gc.collect()
    rss_before_publish = _rss_mb()
    peak_after_generate = _peak_rss_mb()

    result: dict = {
        "scale": scale, "repeats": repeats,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "duckdb": __import__("duckdb").__version__, "pandas": pd.__version__,
                    "pyarrow": pa.__version__},
        "hierarchy": {"regions": len(hierarchy), "levels": levels, "top": hierarchy.root.code},
        "elements": {"data": sum(e.role == "data" for e in cat.elements.values()),
                     "benchmark": sum(e.role == "benchmark" for e in cat.elements.values())},
        "indicators": len(cat.indicators),
        "quarters": len(quarters),
        "facts": n_facts,
        "generate_s": round(generate_s, 3),
    }

    with tempfile.TemporaryDirectory(prefix="rrtt-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        try:
            store = Store(data_dir, catalog=cat, hierarchy=hierarchy)
            say(f"publishing {n_facts:,} facts")
            phases: dict = {}
            with _timed_publish_phases(store, phases):
                t0 = time.perf_counter()
                snap = store.publish(facts, user="bench", comment="benchmark (synthetic)",
                                     source_name="bench.csv", source_sha256="0" * 64)
                publish_s = time.perf_counter() - t0
            del facts
            gc.collect()
            rollup_file = data_dir / store.manifest()["rollups"]
            con = store.connection()
            rollup_rows = con.execute("SELECT count(*) FROM rollup").fetchone()[0]
            con.close()
            result.update({
                "publish_s": round(publish_s, 3),
                "publish_phases_s": {
                    "write_snapshot": round(phases.get("write_snapshot_s", 0.0), 3),
                    "build_rollups": round(phases.get("build_rollups_s", 0.0), 3),
                    "other": round(publish_s - phases.get("write_snapshot_s", 0.0)
                                   - phases.get("build_rollups_s", 0.0), 3)},
                "parquet_bytes": (data_dir / snap.file).stat().st_size,
                "rollup_bytes": rollup_file.stat().st_size,
                "rollup_rows": int(rollup_rows),
                "rss_start_mb": round(rss_start, 1),
                "rss_before_publish_mb": round(rss_before_publish, 1),
                "peak_rss_after_generate_mb": round(peak_after_generate, 1),
                "peak_rss_mb": round(_peak_rss_mb(), 1),
            })

            # -- what the pages call --------------------------------------------------------
            resolved_plan, period = query.resolve_plan(store, None, None)
            plan = resolved_plan or plan
            top = hierarchy.root.code
            counties = [r.code for r in hierarchy.in_order() if r.level == "county"]
            county = counties[len(counties) // 2]
            indicators = list(cat.indicators)
            ratio = [c for c, i in cat.indicators.items() if i.kind == "ratio"]
            indicator = "road_good_rate" if "road_good_rate" in ratio else (ratio or indicators)[0]
            result["query"] = {"period": period, "plan": plan.id, "top_region": top,
                               "top_children": len(hierarchy.children(top)), "county": county,
                               "county_children": len(hierarchy.children(county)), "indicator": indicator}

            # exactly what each page calls (pages/*.py via pages/common.py), uncached
            pages = {}
            say("timing overview")
            pages["overview"] = _time_page(
                [("assess_overview(top)", lambda: query.assess_overview(store, top, period, plan))], repeats)
            pages["overview_county"] = _time_page(
                [("assess_overview(county)", lambda: query.assess_overview(store, county, period, plan))], repeats)
            say("timing indicator")
            pages["indicator"] = _time_page(
                [("assess_region(county)", lambda: query.assess_region(store, county, period, plan.id)),
                 ("assess_children(county)", lambda: query.assess_children(store, county, period, plan, indicator)),
                 ("provenance(county)", lambda: query.provenance(store, county, period, indicator))],
                repeats)
            say("timing comparison")
            pages["comparison"] = _time_page(
                [("assess_subregions(county)", lambda: query.assess_subregions(store, county, period, plan))],
                repeats)
            pages["single_indicator_children"] = _time_page(
                [("assess_children(county, road_good_rate)",
                  lambda: query.assess_children(store, county, period, plan, indicator))], repeats)
            result["pages"] = pages
            result["pass"] = all(p["pass"] for p in pages.values())
        finally:
            _close_connections(data_dir)
    result["total_s"] = round(time.perf_counter() - t_start, 3)
    return result


# -- report ---------------------------------------------------------------------------------------
def _mb(n: float) -> str:
    return f"{n / 2**20:,.1f} MB"


def print_report(result: dict, file=None) -> None:
    out = file or sys.stdout
    p = lambda *a: print(*a, file=out)  # noqa: E731
    h = result["hierarchy"]
    p(f"性能基准 / benchmark — scale {result['scale']}, repeats {result['repeats']}, "
      f"{result['machine']['cpus']} CPU, DuckDB {result['machine']['duckdb']}")
    p(f"  地区 regions      {h['regions']:>12,}  "
      + ", ".join(f"{lvl} {n:,}" for lvl, n in h["levels"].items()))
    p(f"  数据元素 elements {result['elements']['data']:>12}  (+{result['elements']['benchmark']} benchmark), "
      f"{result['indicators']} indicators, {result['quarters']} quarters")
    p(f"  事实 facts        {result['facts']:>12,}")
    p(f"  生成 generate     {result['generate_s']:>11.2f} s")
    ph = result["publish_phases_s"]
    p(f"  发布 publish      {result['publish_s']:>11.2f} s  (write Parquet {ph['write_snapshot']:.2f} s, "
      f"build rollups {ph['build_rollups']:.2f} s, other {ph['other']:.2f} s)")
    p(f"  Parquet           {_mb(result['parquet_bytes']):>14}  "
      f"({result['parquet_bytes'] / max(1, result['facts']):.2f} bytes/fact)")
    p(f"  rollups           {_mb(result['rollup_bytes']):>14}  ({result['rollup_rows']:,} rows)")
    p(f"  RSS               start {result['rss_start_mb']:,.0f} MB, before publish "
      f"{result['rss_before_publish_mb']:,.0f} MB, peak after generate "
      f"{result['peak_rss_after_generate_mb']:,.0f} MB, peak {result['peak_rss_mb']:,.0f} MB")
    qd = result["query"]
    p(f"  查询 queries      period {qd['period']}, plan {qd['plan']}, top {qd['top_region']} "
      f"({qd['top_children']} children), county {qd['county']} ({qd['county_children']} children), "
      f"indicator {qd['indicator']}")
    p("")
    p(f"  {'page / call':58} {'median ms':>10} {'p95 ms':>10}")
    for name, page in result["pages"].items():
        p(f"  {name}")
        for label, s in page["calls"].items():
            p(f"    {label:56} {s['median_ms']:>10.1f} {s['p95_ms']:>10.1f}")
        for label, g in page["groups"].items():
            name_n = f"{label} ×{g['calls']}"
            p(f"    {name_n:56} {g['median_ms']:>10.1f} {g['p95_ms']:>10.1f}")
            p(f"      {'single call':54} {g['single_call']['median_ms']:>10.1f} {g['single_call']['p95_ms']:>10.1f}"
              f"   slowest: {g['slowest']}")
        t = page["total"]
        verdict = "PASS" if page["pass"] else "FAIL"
        p(f"    {'= page total (' + ' + '.join(page['total_of']) + ')':56.56} {t['median_ms']:>10.1f} "
          f"{t['p95_ms']:>10.1f}   {verdict} (budget {page['budget_ms']:.0f} ms, median"
          f"{'; p95 over' if not page['pass_p95'] else ''})")
    p("")
    p(f"  总体 overall: {'PASS' if result['pass'] else 'FAIL'}  — total run {result['total_s']:.1f} s")
