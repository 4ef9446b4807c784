"""Progress assessments for regions — the API the pages and CLI call.

Values come from ``metrics.values`` (one rollup query per call, however many indicators);
every number an ``IndicatorStatus`` shows is in its indicator's basis; indicators below their
lowest meaningful level are not assessed (``not_applicable_reason`` says why).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from metrics import periods, progress, progress_batch, reasons
from metrics.catalog import Catalog, Indicator, Plan, Target
from metrics.regions import LEVELS
from metrics.store import Store
from metrics.values import (  # noqa: F401  (indicator_values, rollup_code: re-exported, callers use query.*)
    Points,
    indicator_grid,
    indicator_values,
    rollup_code,
    series_of,
)

SPARK_QUARTERS = 8


def benchmark_series(store: Store, region_code: str, element: str) -> list[tuple[str, float]]:
    """A benchmark series for a region: its own, else its nearest ancestor's."""
    return BenchmarkLookup(store, [region_code], [element]).series(region_code, element)


class BenchmarkLookup:
    """Benchmark series for many regions from one rollup query (own, else nearest ancestor's)."""

    def __init__(self, store: Store, region_codes: list[str], elements: list[str]):
        h = store.hierarchy
        self.chains = {c: [c] + [a.code for a in h.ancestors(c)] for c in region_codes}
        wanted = sorted({c for chain in self.chains.values() for c in chain})
        self.rows: dict = {}
        if elements:
            rows = store.rollup_arrays(wanted, elements)
            for r, e, p, v in zip(rows["region_code"].tolist(), rows["element_code"].tolist(),
                                  rows["period"].tolist(), rows["value_sum"].tolist()):
                self.rows.setdefault((r, e), []).append((p, float(v)))

    def series(self, region_code: str, element: str) -> list[tuple[str, float]]:
        for code in self.chains.get(region_code, [region_code]):
            if (code, element) in self.rows:
                return self.rows[(code, element)]
        return []


def _benchmarks_of(store: Store, indicator_codes: list[str], plan: Plan) -> list[str]:
    return sorted({t.benchmark for t in store.catalog.targets
                   if t.plan == plan.id and t.kind == "relative" and t.indicator in indicator_codes})


# -- plans, periods, targets --------------------------------------------------------------------
def resolve_plan(store: Store, plan_id: str | None, period: str | None) -> tuple[Plan | None, str | None]:
    """Default plan and quarter: the latest quarter with data inside the plan's period."""
    cat = store.catalog
    available = store.periods_with_data()
    if plan_id:
        plan = cat.plans[plan_id]
        if period is None:
            inside = [p for p in available if plan.covers(p)]
            period = inside[-1] if inside else (available[-1] if available else None)
        return plan, period
    if period is None:
        period = available[-1] if available else None
    plan = cat.plan_for_period(period) if period else None
    return plan, period


def plan_region(store: Store, plan: Plan) -> str:
    return plan.region or store.hierarchy.root.code


def primary_target(targets: list[Target], period: str) -> Target | None:
    """The target in force at a quarter: the nearest one not yet due, else the last one."""
    if not targets:
        return None
    upcoming = sorted((t for t in targets if t.target_period >= period), key=lambda t: t.target_period)
    return upcoming[0] if upcoming else max(targets, key=lambda t: t.target_period)


@dataclass
class IndicatorStatus:
    indicator: Indicator
    region_code: str
    period: str
    target: Target | None
    target_region: str | None
    assessment: progress.Assessment
    series: list[tuple[str, float]] = field(default_factory=list)
    other_targets: list[tuple[Target, progress.Assessment]] = field(default_factory=list)
    measured: list[tuple[str, float]] = field(default_factory=list)   # as reported (flows), for the method

    def value_at(self, period: str) -> float | None:
        return dict(self.series).get(period)

    @property
    def current(self) -> float | None:
        return self.value_at(self.period)

    @property
    def basis(self) -> str:
        return self.indicator.basis

    @property
    def change_quarter(self) -> float | None:
        """Change on the previous quarter, in the indicator's basis (None for year-to-date values,
        whose quarters are not comparable: use ``change_year``)."""
        if self.basis == "ytd":
            return None
        return _diff(self.current, self.value_at(periods.shift(self.period, -1)))

    @property
    def change_year(self) -> float | None:
        return _diff(self.current, self.value_at(periods.shift(self.period, -4)))

    def sparkline(self) -> list[tuple[str, float]]:
        first = periods.shift(self.period, -(SPARK_QUARTERS - 1))
        return [(p, v) for p, v in self.series if first <= p <= self.period]

    def to_dict(self) -> dict:
        a = self.assessment.to_dict()
        t = self.target
        return {
            "indicator": self.indicator.code,
            "name_zh": self.indicator.name_zh,
            "name_en": self.indicator.name_en,
            "pillar": self.indicator.pillar,
            "unit": self.indicator.unit_zh,
            "region": self.region_code,
            "period": self.period,
            "current": _clean(self.current),
            "value": a["value"],
            "target": a["target"],
            "expected": a["expected"],
            "baseline": a["baseline"],
            "p": a["progress"],
            "basis": self.basis,
            "basis_zh": reasons.basis_label(self.basis, "zh"),
            "basis_en": reasons.basis_label(self.basis, "en"),
            "reason": a["reason"],
            "reason_args": a["reason_args"],
            "reason_zh": reasons.reason_text(self.assessment, "zh", self.indicator.decimals),
            "reason_en": reasons.reason_text(self.assessment, "en", self.indicator.decimals),
            "base_period": a["base_period"],
            "judged_period": a["judged_period"],
            "margin": a["margin"],
            "missing_quarters": a["missing_quarters"],
            "projection": a["projection"],
            "status": a["status"],
            "final": a["final"],
            "notes": a["notes"],
            "target_id": t.id if t else None,
            "target_kind": t.kind if t else None,
            "target_period": t.target_period if t else None,
            "target_region": self.target_region,
            "source": t.source if t else None,
            "other_targets": [{"target_id": ot.id, "kind": ot.kind, "target_period": ot.target_period,
                               "status": oa.status, "value": _clean(oa.value), "target": _clean(oa.target)}
                              for ot, oa in self.other_targets],
        }


def _clean(v: float | None) -> float | None:
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def basis_series(catalog: Catalog, plan: Plan, indicator: Indicator,
                 series: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """The indicator's values as every page shows them: a cumulative indicator as the running total
    since it starts counting (stopping at a missing quarter); others as measured."""
    if indicator.basis != "cumulative":
        return series
    return progress.cumulative_series(series, catalog.cumulative_start(plan.id, indicator, plan.base))


def _untargeted(cat: Catalog, plan: Plan, indicator: Indicator, period: str, series: list[tuple[str, float]],
                shown: list[tuple[str, float]]) -> progress.Assessment:
    """The assessment of an indicator without a target: its value, else why there is none."""
    if isinstance(shown, Points):       # read without building the points
        value = shown.last_at(period)
    else:                               # series end at ``period``
        value = shown[-1][1] if shown and shown[-1][0] == period else None
    status = "no_target" if value is not None else "no_data"
    assessment = progress.Assessment(status, value=value, basis=indicator.basis,
                                     reason="no_target" if value is not None else "no_value")
    if value is None and indicator.basis == "cumulative" and series:
        start = cat.cumulative_start(plan.id, indicator, plan.base)
        missing = progress.missing_quarters(series, start, period)
        if any(p >= start for p, _ in series) and missing:
            assessment.reason, assessment.missing_quarters = "missing_quarters", missing
            assessment.reason_args["quarters"] = missing
    return assessment


class _Rows:
    """One indicator for many regions: its targets as ``progress_batch`` jobs, then its statuses.
    A region's targets are its own, else (for rates and per-capita values, not counts) its nearest
    ancestor's. ``values``: the indicator as measured, one row per region (flows for a cumulative
    indicator); ``chains``: each region and its ancestors, nearest first; ``home``: the plan's region
    (where a target without a region applies); ``seen``: a cache for one call (``region_codes`` must
    stay alive and unchanged while it is used)."""

    def __init__(self, cat: Catalog, plan: Plan, home: str, indicator: Indicator, region_codes: list[str],
                 period: str, quarters: list[str], values: np.ndarray, benchmarks: BenchmarkLookup,
                 chains: dict[str, list[str]], seen: dict | None = None):
        self.catalog, self.plan, self.indicator, self.period = cat, plan, indicator, period
        self.region_codes = region_codes
        self.series = series_of(quarters, values)
        by_region: dict[str, list[Target]] = {}
        for t in cat.targets_of(plan.id, indicator.code):
            by_region.setdefault(t.region or home, []).append(t)
        self.jobs: list[progress_batch.Job] = []
        self.keys: list[tuple[int, str, list[int]]] = []
        if not by_region:
            self.found = [([], None)] * len(region_codes)
            return
        own_only = cat.is_count(indicator)
        key = (id(region_codes), own_only, frozenset(by_region))
        nearest = seen.get(key) if seen is not None else None
        if nearest is None:         # each region's nearest region with targets (the same for most indicators)
            nearest = [next((c for c in (chains[r][:1] if own_only else chains[r]) if c in by_region), None)
                       for r in region_codes]
            if seen is not None:
                seen[key] = nearest
        self.found = [([], None) if c is None else (by_region[c], c) for c in nearest]
        percent = indicator.unit_zh.strip() == "%"
        method_basis = indicator.basis if indicator.kind == "value" else "stock"
        limits = cat.natural_limits(indicator)
        for target_region in dict.fromkeys(c for _, c in self.found if c is not None):
            rows = [i for i, (_, c) in enumerate(self.found) if c == target_region]
            for target in by_region[target_region]:
                bench = ([benchmarks.series(region_codes[i], target.benchmark) for i in rows]
                         if target.kind == "relative" else None)
                self.jobs.append(progress_batch.Job(target, indicator.direction,
                                                    values if len(rows) == len(values) else values[rows], percent,
                                                    indicator.decimals, method_basis, limits, bench))
                self.keys.append((id(target), target_region, rows))

    def statuses(self, results: list[list[progress.Assessment]]) -> list[IndicatorStatus]:
        """The statuses, from ``progress_batch.assess_jobs(…, self.jobs)``."""
        cat, plan, indicator, period = self.catalog, self.plan, self.indicator, self.period
        basis = indicator.basis
        assessed = {}
        for (target_id, target_region, rows), done in zip(self.keys, results):
            for a in done:
                a.basis = basis
            assessed[(target_id, target_region)] = dict(zip(rows, done))
        # per region with targets: its main target, that target's assessments, the others'
        per_region = {}
        for targets, c in {c: (t, c) for t, c in self.found}.values():
            main = primary_target(targets, period)
            per_region[c] = (main, assessed[(id(main), c)] if main is not None else None,
                             [(t, assessed[(id(t), c)]) for t in targets if t is not main] if main is not None else [])
        cumulative = basis == "cumulative"
        out = []
        for i, (r, (_, target_region), series) in enumerate(zip(self.region_codes, self.found, self.series)):
            shown = basis_series(cat, plan, indicator, series) if cumulative else series
            main, main_rows, other_rows = per_region[target_region]
            if main is None:
                assessment = _untargeted(cat, plan, indicator, period, series, shown)
                others = []
            else:
                assessment = main_rows[i]
                others = [(t, rows[i]) for t, rows in other_rows] if other_rows else []
            out.append(IndicatorStatus(indicator, r, period, main, target_region, assessment, shown, others,
                                       series if cumulative else []))
        return out


def applies_at(indicator: Indicator, level: str) -> bool:
    """Is the indicator meaningful for a region of this level (not below its min_level)?"""
    return LEVELS.index(level) <= LEVELS.index(indicator.min_level)


def not_applicable_reason(store: Store, indicator_code: str, region_code: str, lang: str = "zh") -> str | None:
    """Why an indicator is not listed for a region (None when it applies)."""
    ind = store.catalog.indicators[indicator_code]
    level = store.hierarchy[region_code].level
    if applies_at(ind, level):
        return None
    return reasons.not_applicable_text(ind.min_level, level, lang)


def assess_many(store: Store, region_codes: list[str], period: str, plan: Plan,
                indicator_codes: list[str] | None = None) -> dict[str, list[IndicatorStatus]]:
    """Every indicator's status for several regions — one rollup query for all of them, each
    indicator assessed for all regions at once (``_Rows``, ``progress_batch``)."""
    if not region_codes:
        return {}
    cat = store.catalog
    codes = indicator_codes or list(cat.indicators)
    regions = list(dict.fromkeys(region_codes))
    first = min(plan.base, periods.shift(period, -(SPARK_QUARTERS + 4)))
    indicators = [cat.indicators[c] for c in codes]
    grid = indicator_grid(store, regions, indicators, first, period)
    bench = BenchmarkLookup(store, regions, _benchmarks_of(store, codes, plan))
    h = store.hierarchy
    levels = [h[r].level for r in regions]
    home = plan_region(store, plan)
    applying: dict[str, tuple[list[int], list[str]]] = {}   # min_level -> the regions an indicator applies to
    seen: dict = {}
    pending = []
    for k, ind in enumerate(indicators):
        hit = applying.get(ind.min_level)
        if hit is None:
            rows = [i for i, level in enumerate(levels) if applies_at(ind, level)]
            hit = applying[ind.min_level] = (rows, [regions[i] for i in rows])
        rows, codes_here = hit
        if rows:
            values = grid.values[k] if len(rows) == len(regions) else grid.values[k][rows]
            pending.append((rows, _Rows(cat, plan, home, ind, codes_here, period, grid.quarters, values, bench,
                                        bench.chains, seen)))
    results = progress_batch.assess_jobs(grid.quarters, period, plan.base,
                                         [job for _, p in pending for job in p.jobs])
    out: dict[str, list[IndicatorStatus]] = {r: [] for r in regions}
    start = 0
    for rows, p in pending:
        end = start + len(p.jobs)
        for i, status in zip(rows, p.statuses(results[start:end])):
            out[regions[i]].append(status)
        start = end
    return out


def assess_region(store: Store, region_code: str | None = None, period: str | None = None,
                  plan_id: str | None = None, indicator_codes: list[str] | None = None) -> tuple[Plan | None, str | None, list[IndicatorStatus]]:
    """Every indicator's status for a region at a quarter under a plan (defaults per DESIGN.md)."""
    region_code = region_code or store.hierarchy.root.code
    plan, period = resolve_plan(store, plan_id, period)
    if plan is None or period is None:
        return plan, period, []
    return plan, period, assess_many(store, [region_code], period, plan, indicator_codes)[region_code]


def assess_children(store: Store, region_code: str, period: str, plan: Plan,
                    indicator_code: str) -> list[IndicatorStatus]:
    """One indicator's status for every child of a region (for rankings); empty below its min_level
    (``not_applicable_reason`` says why)."""
    return [rows[0] for rows in assess_subregions(store, region_code, period, plan, [indicator_code]).values()
            if rows]


def assess_subregions(store: Store, region_code: str, period: str, plan: Plan,
                      indicator_codes: list[str] | None = None) -> dict[str, list[IndicatorStatus]]:
    """Every indicator's status for every child of a region."""
    return assess_many(store, [r.code for r in store.hierarchy.children(region_code)], period, plan,
                       indicator_codes)


def assess_overview(store: Store, region_code: str, period: str, plan: Plan
                    ) -> tuple[list[IndicatorStatus], dict[str, list[IndicatorStatus]]]:
    """What the overview shows: the region's statuses and its children's, from one query."""
    children = [r.code for r in store.hierarchy.children(region_code)]
    both = assess_many(store, [region_code] + children, period, plan)
    own = both.pop(region_code)
    return own, both


def provenance_many(store: Store, region_code: str, period: str, indicator_codes: list[str]) -> dict:
    """``provenance`` for many indicators from one rollup query: {indicator code: snapshot or None}."""
    cat = store.catalog
    wanted = {c: rollup_code(cat.indicators[c]) for c in indicator_codes}
    rows = store.rollup_arrays([region_code], sorted({e for codes in wanted.values() for e in codes}), period, period)
    newest: dict[str, int] = {}
    for element, snap in zip(rows["element_code"].tolist(), rows["snapshot_id"].tolist()):
        if snap is not None and snap == snap:
            newest[element] = max(newest.get(element, snap), int(snap))
    by_id = {s.id: s for s in store.snapshots()} if newest else {}
    out = {}
    for code, elements in wanted.items():
        ids = [newest[e] for e in elements if e in newest]
        out[code] = by_id.get(max(ids)) if ids else None
    return out


def provenance(store: Store, region_code: str, period: str, indicator_code: str):
    """The newest snapshot that contributed to an indicator's value for a region and quarter."""
    ind = store.catalog.indicators[indicator_code]
    rows = store.rollup_rows([region_code], rollup_code(ind), period, period)
    if rows.empty:
        return None
    snap_id = int(rows["snapshot_id"].max())
    return next((s for s in store.snapshots() if s.id == snap_id), None)
