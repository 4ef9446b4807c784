"""Indicator values and progress assessments for regions — the API the pages and CLI call.

Reads only the precomputed rollups (``Store.rollup_rows``): one query per call, however
many indicators. Ratios are ratios of summed numerators and denominators at every level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from metrics import periods, progress
from metrics.catalog import Catalog, Indicator, Plan, Target
from metrics.store import Store

SPARK_QUARTERS = 8


def rollup_code(indicator: Indicator) -> list[str]:
    """The rollup element codes an indicator reads."""
    f = indicator.formula
    if f["type"] == "coverage":
        return [f"{f['element']}@{f['level']}"]
    return indicator.elements()


def element_values(rows: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """Wide frame indexed by (region_code, period), one column per rollup element code."""
    if rows.empty:
        return pd.DataFrame(index=pd.MultiIndex.from_tuples([], names=["region_code", "period"]))
    rows = rows.copy()
    weighted = rows["element_code"].map(
        lambda c: "@" in c or catalog.elements[c].aggregation == "weighted_mean")
    scale = np.where(rows["element_code"].str.contains("@", regex=False), 100.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rows["v"] = np.where(weighted, rows["value_sum"] / rows["weight_sum"] * scale, rows["value_sum"])
    return rows.pivot_table(index=["region_code", "period"], columns="element_code", values="v",
                            aggfunc="first")


def compute_indicators(wide: pd.DataFrame, indicators: list[Indicator]) -> pd.DataFrame:
    """Long frame: region_code, period, indicator, value."""
    out = []
    if wide.empty:
        return pd.DataFrame(columns=["region_code", "period", "indicator", "value"])
    idx = wide.index
    for ind in indicators:
        f = ind.formula
        col = lambda c: wide[c] if c in wide.columns else pd.Series(np.nan, index=idx)  # noqa: E731
        if f["type"] == "ratio":
            num, den = col(f["numerator"]), col(f["denominator"])
            values = (num / den.where(den != 0)) * f.get("scale", 100)
        elif f["type"] == "yoy_growth":
            cur = col(f["element"])
            prev_keys = [(r, periods.shift(p, -4)) for r, p in idx]
            prev = pd.Series(cur.reindex(prev_keys).to_numpy(), index=idx)
            values = (cur / prev.where(prev != 0) - 1) * 100
        else:  # value, coverage
            values = col(rollup_code(ind)[0])
        frame = values.rename("value").reset_index()
        frame["indicator"] = ind.code
        out.append(frame)
    result = pd.concat(out, ignore_index=True)
    result = result[np.isfinite(result["value"].astype(float))]
    return result[["region_code", "period", "indicator", "value"]]


def indicator_values(store: Store, region_codes: list[str], indicator_codes: list[str] | None = None,
                     period_from: str | None = None, period_to: str | None = None) -> pd.DataFrame:
    """Indicator values for regions over a quarter range (long: region_code, period, indicator, value)."""
    cat = store.catalog
    indicators = [cat.indicators[c] for c in (indicator_codes or list(cat.indicators))]
    codes = sorted({c for ind in indicators for c in rollup_code(ind)})
    needs_lag = any(ind.kind == "yoy_growth" for ind in indicators)
    first = periods.shift(period_from, -4) if (period_from and needs_lag) else period_from
    rows = store.rollup_rows(region_codes, codes, first, period_to)
    values = compute_indicators(element_values(rows, cat), indicators)
    if period_from:
        values = values[values["period"] >= period_from]
    return values.reset_index(drop=True)


def benchmark_series(store: Store, region_code: str, element: str) -> list[tuple[str, float]]:
    """A benchmark series for a region: its own, else its nearest ancestor's."""
    chain = [region_code] + [a.code for a in store.hierarchy.ancestors(region_code)]
    rows = store.rollup_rows(chain, [element])
    for code in chain:
        own = rows[rows["region_code"] == code]
        if not own.empty:
            return list(zip(own["period"], own["value_sum"].astype(float)))
    return []


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

    def value_at(self, period: str) -> float | None:
        return dict(self.series).get(period)

    @property
    def current(self) -> float | None:
        return self.value_at(self.period)

    @property
    def change_quarter(self) -> float | None:
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


def assess_one(store: Store, plan: Plan, indicator: Indicator, region_code: str, period: str,
               series: list[tuple[str, float]]) -> IndicatorStatus:
    targets, target_region = targets_for_region(store, plan, indicator, region_code)
    percent = indicator.unit_zh.strip() == "%"

    def run(target: Target) -> progress.Assessment:
        bench = benchmark_series(store, region_code, target.benchmark) if target.kind == "relative" else None
        return progress.assess(target, indicator.direction, series, period, plan.base,
                               benchmark=bench, percent=percent)

    main = primary_target(targets, period)
    if main is None:
        value = dict(series).get(period)
        status = "no_target" if value is not None else "no_data"
        assessment = progress.Assessment(status, value=value)
    else:
        assessment = run(main)
    others = [(t, run(t)) for t in targets if t is not main]
    return IndicatorStatus(indicator, region_code, period, main, target_region, assessment, series, others)


def assess_region(store: Store, region_code: str | None = None, period: str | None = None,
                  plan_id: str | None = None, indicator_codes: list[str] | None = None) -> tuple[Plan | None, str | None, list[IndicatorStatus]]:
    """Every indicator's status for a region at a quarter under a plan (defaults per DESIGN.md)."""
    region_code = region_code or store.hierarchy.root.code
    plan, period = resolve_plan(store, plan_id, period)
    if plan is None or period is None:
        return plan, period, []
    cat = store.catalog
    codes = indicator_codes or list(cat.indicators)
    first = min(plan.base, periods.shift(period, -(SPARK_QUARTERS + 4)))
    values = indicator_values(store, [region_code], codes, first, period)
    by_ind = {code: list(zip(g["period"], g["value"].astype(float)))
              for code, g in values.groupby("indicator")}
    out = [assess_one(store, plan, cat.indicators[c], region_code, period, by_ind.get(c, []))
           for c in codes]
    return plan, period, out


def assess_children(store: Store, region_code: str, period: str, plan: Plan,
                    indicator_code: str) -> list[IndicatorStatus]:
    """One indicator's status for every child of a region (for rankings)."""
    return [rows[0] for rows in assess_subregions(store, region_code, period, plan, [indicator_code]).values()]


def assess_subregions(store: Store, region_code: str, period: str, plan: Plan,
                      indicator_codes: list[str] | None = None) -> dict[str, list[IndicatorStatus]]:
    """Every indicator's status for every child of a region — one rollup query for all of them."""
    children = [r.code for r in store.hierarchy.children(region_code)]
    if not children:
        return {}
    cat = store.catalog
    codes = indicator_codes or list(cat.indicators)
    first = min(plan.base, periods.shift(period, -(SPARK_QUARTERS + 4)))
    values = indicator_values(store, children, codes, first, period)
    grouped = {key: list(zip(g["period"], g["value"].astype(float)))
               for key, g in values.groupby(["region_code", "indicator"])}
    return {c: [assess_one(store, plan, cat.indicators[i], c, period, grouped.get((c, i), []))
                for i in codes] for c in children}


def provenance(store: Store, region_code: str, period: str, indicator_code: str):
    """The newest snapshot that contributed to an indicator's value for a region and quarter."""
    ind = store.catalog.indicators[indicator_code]
    rows = store.rollup_rows([region_code], rollup_code(ind), period, period)
    if rows.empty:
        return None
    snap_id = int(rows["snapshot_id"].max())
    return next((s for s in store.snapshots() if s.id == snap_id), None)
