"""REFERENCE: a verbatim copy of metrics/query.py before the batch path (issue 9) — the scalar path
the page-call tests compare the fast path with. Only the values import points at the copy of the
old metrics/values.py (tests/reference_values.py). Do not edit.

Progress assessments for regions — the API the pages and CLI call.

Values come from ``metrics.values`` (one rollup query per call, however many indicators);
every number an ``IndicatorStatus`` shows is in its indicator's basis; indicators below their
lowest meaningful level are not assessed (``not_applicable_reason`` says why).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from metrics import periods, progress, reasons
from metrics.catalog import Catalog, Indicator, Plan, Target
from metrics.regions import LEVELS
from metrics.store import Store
from tests.reference_values import (  # noqa: F401  (re-exported: the pages and CLI call query.*)
    ElementMatrix,
    compute_indicators,
    element_values,
    indicator_values,
    rollup_code,
    series_by,
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


def targets_for_region(store: Store, plan: Plan, indicator: Indicator, region_code: str) -> tuple[list[Target], str | None]:
    """Targets that apply to a region, and the region they were set for.

    Its own, else (for rates and per-capita values, not counts) its nearest ancestor's.
    """
    cat, hierarchy = store.catalog, store.hierarchy
    plan_targets = cat.targets_of(plan.id, indicator.code)
    home = plan_region(store, plan)
    chain = [region_code] + ([] if cat.is_count(indicator) else
                             [a.code for a in hierarchy.ancestors(region_code)])
    for code in chain:
        own = [t for t in plan_targets if (t.region or home) == code]
        if own:
            return own, code
    return [], None


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


def assess_one(store: Store, plan: Plan, indicator: Indicator, region_code: str, period: str,
               series: list[tuple[str, float]], benchmarks: BenchmarkLookup | None = None) -> IndicatorStatus:
    """``series``: the indicator as measured (flows for a cumulative indicator)."""
    cat = store.catalog
    targets, target_region = targets_for_region(store, plan, indicator, region_code)
    percent = indicator.unit_zh.strip() == "%"
    # year-to-date levels are judged on full years; a growth rate of them is already like for like
    method_basis = indicator.basis if indicator.kind == "value" else "stock"
    limits = cat.natural_limits(indicator)

    def run(target: Target) -> progress.Assessment:
        bench = None
        if target.kind == "relative":
            bench = (benchmarks.series(region_code, target.benchmark) if benchmarks is not None
                     else benchmark_series(store, region_code, target.benchmark))
        a = progress.assess(target, indicator.direction, series, period, plan.base, benchmark=bench,
                            percent=percent, decimals=indicator.decimals, basis=method_basis, limits=limits)
        a.basis = indicator.basis
        return a

    shown = basis_series(cat, plan, indicator, series)
    main = primary_target(targets, period)
    if main is None:
        value = dict(shown).get(period)
        status = "no_target" if value is not None else "no_data"
        assessment = progress.Assessment(status, value=value, basis=indicator.basis,
                                         reason="no_target" if value is not None else "no_value")
        if value is None and indicator.basis == "cumulative" and series:
            start = cat.cumulative_start(plan.id, indicator, plan.base)
            missing = progress.missing_quarters(series, start, period)
            if any(p >= start for p, _ in series) and missing:
                assessment.reason, assessment.missing_quarters = "missing_quarters", missing
                assessment.reason_args["quarters"] = missing
    else:
        assessment = run(main)
    others = [(t, run(t)) for t in targets if t is not main]
    return IndicatorStatus(indicator, region_code, period, main, target_region, assessment, shown, others,
                           series if shown is not series else [])


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
    """Every indicator's status for several regions — one rollup query for all of them."""
    if not region_codes:
        return {}
    cat = store.catalog
    codes = indicator_codes or list(cat.indicators)
    first = min(plan.base, periods.shift(period, -(SPARK_QUARTERS + 4)))
    values = indicator_values(store, region_codes, codes, first, period)
    grouped = series_by(values, "region_code", "indicator")
    bench = BenchmarkLookup(store, region_codes, _benchmarks_of(store, codes, plan))
    h = store.hierarchy
    by_level: dict[str, list[str]] = {}
    for r in region_codes:
        level = h[r].level
        if level not in by_level:
            by_level[level] = [i for i in codes if applies_at(cat.indicators[i], level)]
    return {r: [assess_one(store, plan, cat.indicators[i], r, period, grouped.get((r, i), []), bench)
                for i in by_level[h[r].level]] for r in region_codes}


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


def provenance(store: Store, region_code: str, period: str, indicator_code: str):
    """The newest snapshot that contributed to an indicator's value for a region and quarter."""
    ind = store.catalog.indicators[indicator_code]
    rows = store.rollup_rows([region_code], rollup_code(ind), period, period)
    if rows.empty:
        return None
    snap_id = int(rows["snapshot_id"].max())
    return next((s for s in store.snapshots() if s.id == snap_id), None)
