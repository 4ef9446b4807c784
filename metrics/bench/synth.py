"""China-shaped synthetic data for the bench: a hierarchy and plausible facts for every data
element of the real catalog. Codes never collide with the demo's (``99``): county and province
scales use the prefix ``98``, the nation numbers its 31 provinces 61–91.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from metrics import periods
from metrics.catalog import Catalog, Element
from metrics.regions import LEVEL_NAMES_ZH, Hierarchy, Region

PAGE_BUDGET_MS = 100.0
FIRST, LAST = "2021Q1", "2025Q4"
PLAN_ID = "demo-2021-2025"
SEED = 98
PREFIX = "98"

# Each level below the top: (level, min children, max children) per parent (inclusive).
SCALES: dict[str, dict] = {
    # ≈ 31 provinces, ~340 cities, ~2,800 counties, ~38,000 townships, ~490,000 villages
    "nation": {"top": "nation",
               "fanout": [("province", 31, 31), ("city", 10, 12), ("county", 7, 9), ("township", 12, 15),
                          ("village", 8, 18)]},
    # ≈ 1 province, 12 cities, ~100 counties, ~1,200 townships, ~15,000 villages → ~10⁷ facts
    "province": {"top": "province",
                 "fanout": [("city", 12, 12), ("county", 8, 9), ("township", 12, 12), ("village", 8, 17)]},
    # ≈ 1 county, 8 townships, ~170 villages → ~10⁵ facts (DESIGN.md: a county has ~10⁵ facts)
    "county": {"top": "county", "fanout": [("township", 8, 8), ("village", 15, 27)]},
}
# Digits of a 12-digit code per level: province 2, city 2, county 2, township 3, village 3.
_SPANS = {"nation": (0, 0), "province": (0, 2), "city": (2, 4), "county": (4, 6), "township": (6, 9), "village": (9, 12)}
_FIRST_NUMBER = {"province": 61, "city": 1, "county": 1, "township": 101, "village": 201}
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
    if top_level == "nation":
        top_code = "0" * 12
    elif top_level != "province":   # a county: give it city and county digits
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


def make_facts(catalog: Catalog, hierarchy: Hierarchy, quarters: list[str], seed: int = SEED,
               leaves: list[str] | None = None, benchmarks: bool = True) -> pa.Table:
    """Facts (region_code, element_code, period, value) for every data element at every village
    (or at ``leaves``), and benchmark elements at the top region. Built as arrays, in (period,
    region code) order."""
    rng = np.random.default_rng(seed + 1)
    villages = np.array(leaves if leaves is not None else [r.code for r in hierarchy.leaves()])
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
    # rows in (period, region, element) order — the fact log's layout (partitioned by period,
    # pruned by region code), so nothing needs sorting afterwards
    region_idx = np.tile(np.repeat(np.arange(n, dtype=np.int32), e), q)
    element_idx = np.tile(np.arange(e, dtype=np.int32), n * q)
    period_idx = np.repeat(np.arange(q, dtype=np.int32), n * e)
    value = values.transpose(2, 0, 1).reshape(-1)
    del values
    table = pa.table({"region_code": pc.take(pa.array(villages, pa.string()), pa.array(region_idx)),
                      "element_code": pc.take(pa.array(data, pa.string()), pa.array(element_idx)),
                      "period": pc.take(pa.array(quarters, pa.string()), pa.array(period_idx)),
                      "value": pa.array(value, pa.float64())})
    del region_idx, element_idx, period_idx, value
    if bench and benchmarks:   # comparison series (e.g. rural income growth of the wider region), top region only
        top = hierarchy.root.code
        b_growth = np.round(rng.uniform(5.5, 9.5, (len(bench), q)), 2)
        nb = len(bench)
        bench_rows = pa.table({"region_code": pa.array([top] * (nb * q), pa.string()),
                               "element_code": pa.array(bench * q, pa.string()),
                               "period": pa.array(np.repeat(quarters, nb).tolist(), pa.string()),
                               "value": pa.array(b_growth.T.reshape(-1), pa.float64())})
        # each quarter's benchmark rows before its villages (the top region's code sorts first)
        block = n * e
        table = pa.concat_tables([part for p in range(q) for part in
                                  (bench_rows.slice(p * nb, nb), table.slice(p * block, block))])
    if not np.all(villages[:-1] <= villages[1:]):
        table = table.sort_by([("period", "ascending"), ("region_code", "ascending")])
    return table


