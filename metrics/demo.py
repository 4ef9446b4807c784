"""The demo data set: deterministic synthetic facts for the fictional demo banner.

Every number is synthetic (演示数据). The generator reads the catalog: for each indicator it
picks a scenario (achieved, on track, needs acceleration, off track, regressing), makes the
banner's path follow "expected progress × scenario" for the indicator's main target, varies it
per township, and writes the data elements (numerators, denominators, flows, per-capita values,
coverage units) that produce that path. Quarters 2020Q1–2026Q3: 2020 is the baseline year
(growth in 2021 needs it), 2021–2025 the plan, 2026 feeds the illustrative 2026–2030 plan.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics import periods, progress
from metrics.auth import User
from metrics.catalog import Catalog, Element, Indicator, Target, check_facts
from metrics.regions import Hierarchy
from metrics.store import Store

FIRST, LAST = "2020Q1", "2026Q3"
SEED = 20210101
DEMO_USER = User("演示分析员", "analyst")   # who the demo snapshots name
PLAN, NEXT_PLAN = "demo-2021-2025", "demo-2026-2030"

# scenario -> multiplier of the required progress
SCENARIOS = {"achieved": 1.6, "on_track": 1.04, "accelerate": 0.8, "off_track": 0.4, "regressing": -0.4}
FIXED_SCENARIOS = {
    "toilets_built": "on_track",
    "road_good_rate": "accelerate",
    "chronic_followup_rate": "on_track",
    "income_growth": "on_track",
    "income_pc": "on_track",
}
CYCLE = ["on_track", "accelerate", "achieved", "off_track", "on_track", "achieved", "accelerate",
         "on_track", "off_track", "achieved"]
REGRESSING_INDEX = 5            # one indicator (the 6th that is not fixed) regresses
RELATIVE_BASE_GAP = -2.0        # points (or 10% of a level) behind the benchmark at the base period
INCOME_SHARE_BY_QUARTER = (0.24, 0.49, 0.74, 1.0)   # year-to-date share of annual income
FLOW_SHARE_BY_QUARTER = (0.15, 0.30, 0.35, 0.20)    # construction happens in summer
BENCHMARK_GROWTH = {2020: 6.9, 2021: 10.3, 2022: 6.4, 2023: 7.6, 2024: 6.6, 2025: 6.2, 2026: 6.0}
INTEGER_UNITS = {"座", "户", "人", "个", "次", "所", "家", "人次", "处", "条", "辆", "台", "名", "间", "项", "套", "户次",
                 "场", "场次", "份"}


@dataclass
class Plot:
    """What the generator knows about one indicator's banner-level path."""
    indicator: Indicator
    target: Target | None
    next_target: Target | None
    scenario: str
    benchmark: dict | None = None      # period -> value, for relative targets


def _rng(*keys) -> np.random.Generator:
    digest = hashlib.sha256("|".join(map(str, (SEED, *keys))).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _is_integer(element: Element) -> bool:
    return element.unit_zh in INTEGER_UNITS


def assign_scenarios(catalog: Catalog) -> dict[str, str]:
    out, i = {}, 0
    for code in catalog.indicators:
        if code in FIXED_SCENARIOS:
            out[code] = FIXED_SCENARIOS[code]
            continue
        out[code] = "regressing" if i == REGRESSING_INDEX else CYCLE[i % len(CYCLE)]
        i += 1
    return out


def _main_target(catalog: Catalog, plan: str, code: str) -> Target | None:
    targets = [t for t in catalog.targets_of(plan, code) if t.region is None]
    if not targets:
        return None
    kinds = ["milestones", "schedule", "relative", "trajectory", "coverage", "threshold"]
    return sorted(targets, key=lambda t: (kinds.index(t.kind), -periods.to_index(t.target_period)))[0]


def _default_baseline(target: Target, direction: str, percent: bool) -> float:
    g = float(target.target_value)
    if direction == "lower":
        return g * 1.5 if g > 0 else 5.0
    if percent:
        return max(0.0, g - max(10.0, 0.3 * g)) if g < 100 else 72.0
    return g * 0.55


def path_value(plot: Plot, t: str, k: float, catalog: Catalog) -> float:
    """The indicator's synthetic value at quarter t for scenario multiplier k."""
    ind, target = plot.indicator, plot.target
    plan = catalog.plans[PLAN]
    if target is None:
        f = periods.quarters_between(plan.base, t) / 24
        return 50.0 + 20.0 * k * f
    percent = ind.unit_zh.strip() == "%"
    if target.kind == "milestones":
        return progress.expected_milestones(target.milestones, min(t, target.target_period)) * k
    if target.kind == "schedule":
        return min(100.0, progress.expected_schedule(target.schedule, plan.base, t) * k)
    if target.kind == "relative":
        # behind the benchmark at the base, closing the gap at k times the pro-rata pace
        f = periods.quarters_between(plan.base, t) / max(1, periods.quarters_between(plan.base, target.target_period))
        delta = RELATIVE_BASE_GAP * (1 - k * min(max(f, 0.0), 1.0))
        bench = (plot.benchmark or {}).get(t, BENCHMARK_GROWTH[periods.year_of(t)])
        return bench + delta if percent else bench * (1 + delta / 20)
    b = target.baseline_value
    if b is None:
        b = _default_baseline(target, ind.direction, percent)
    g = float(target.target_value)
    base = target.baseline_period or plan.base
    f = periods.quarters_between(base, t) / max(1, periods.quarters_between(base, target.target_period))
    done = min(k * min(f, 1.0), 1.06) if k > 0 else k * min(f, 1.0)
    value = b + (g - b) * done
    if t > target.target_period and plot.next_target is not None and plot.next_target.kind in (
            "threshold", "trajectory", "coverage"):
        g2 = float(plot.next_target.target_value)
        f2 = periods.quarters_between(target.target_period, t) / max(
            1, periods.quarters_between(target.target_period, plot.next_target.target_period))
        end = b + (g - b) * (min(k, 1.06) if k > 0 else k)
        value = end + (g2 - end) * max(0.0, min(k, 1.2)) * f2
    if percent:
        value = min(max(value, 0.0), 100.0)
    return value


class DemoBuilder:
    def __init__(self, catalog: Catalog, hierarchy: Hierarchy):
        self.cat, self.h = catalog, hierarchy
        self.quarters = periods.period_range(FIRST, LAST)
        self.villages = hierarchy.leaves()
        self.top = hierarchy.root.code
        self.town_of = {v.code: (v.parent or v.code) for v in self.villages}
        self.facts: dict[str, pd.DataFrame] = {}        # element -> frame(region_code, period, value)
        self.scenarios = assign_scenarios(catalog)
        self.plots = {c: Plot(i, _main_target(catalog, PLAN, c), _main_target(catalog, NEXT_PLAN, c),
                              self.scenarios[c]) for c, i in catalog.indicators.items()}

    # -- per-region variation --------------------------------------------------------------
    def k_of(self, code: str, region: str) -> float:
        base = SCENARIOS[self.plots[code].scenario]
        town = self.town_of.get(region, region)
        return base + _rng("k", code, town).normal(0, 0.22) + _rng("kv", code, region).normal(0, 0.05)

    def weights(self, key: str) -> np.ndarray:
        return _rng("w", key).uniform(0.5, 1.5, len(self.villages))

    def _store(self, element: str, regions: list[str], quarters: list[str], values) -> None:
        frame = pd.DataFrame({"region_code": np.repeat(regions, len(quarters)),
                              "period": np.tile(quarters, len(regions)),
                              "value": np.asarray(values, dtype=float).ravel()})
        el = self.cat.elements[element]
        # never an invalid value: counts and levels >= 0, percentages within 0-100
        frame["value"] = frame["value"].clip(lower=0.0, upper=100.0 if el.percent else None)
        frame["value"] = frame["value"].round(0 if _is_integer(el) else 2)
        self.facts[element] = frame

    # -- elements that are not driven by an indicator -----------------------------------------
    def magnitude(self, element: str) -> np.ndarray:
        """Per-village level of a denominator-like element (from its demo hint), fixed in time."""
        hint = self.cat.elements[element].demo.get("per_village", [50, 400])
        return _rng("mag", element).uniform(float(hint[0]), float(hint[1]), len(self.villages))

    def level_series(self, element: str) -> np.ndarray:
        """villages x quarters: a slowly growing stock, or a noisy flow, around the magnitude."""
        el = self.cat.elements[element]
        base = self.magnitude(element)[:, None]
        n = len(self.quarters)
        if el.temporal == "flow":
            noise = _rng("flow", element).normal(1.0, 0.05, (len(self.villages), n))
            return np.maximum(base * noise, 0)
        growth = (1 + np.linspace(0, 0.04, n))[None, :]
        if element == "population":
            growth = (1 - np.linspace(0, 0.03, n))[None, :]
        if el.temporal == "ytd":        # the year's level, reported cumulatively within the year
            growth = growth * np.array([INCOME_SHARE_BY_QUARTER[periods.quarter_of(q) - 1]
                                        for q in self.quarters])[None, :]
        return base * growth

    def ensure_level(self, element: str) -> pd.DataFrame:
        if element == "households" and "population" in self.cat.elements and element not in self.facts:
            people = self.values_matrix("population")
            size = _rng("hh", element).uniform(2.4, 3.1, len(self.villages))[:, None]
            self._store(element, [v.code for v in self.villages], self.quarters, people / size)
        if element not in self.facts:
            self._store(element, [v.code for v in self.villages], self.quarters, self.level_series(element))
        return self.facts[element]

    def values_matrix(self, element: str) -> np.ndarray:
        frame = self.ensure_level(element)
        return frame["value"].to_numpy().reshape(len(self.villages), len(self.quarters))

    # -- indicator-driven elements -------------------------------------------------------------
    def rate_matrix(self, code: str) -> np.ndarray:
        plot = self.plots[code]
        out = np.empty((len(self.villages), len(self.quarters)))
        for i, v in enumerate(self.villages):
            k = self.k_of(code, v.code)
            noise = _rng("noise", code, v.code).normal(0, 0.6, len(self.quarters))
            out[i] = [path_value(plot, t, k, self.cat) for t in self.quarters] + noise
        return out

    def build_ratio(self, ind: Indicator) -> None:
        f = ind.formula
        num, den = f["numerator"], f["denominator"]
        if num in self.facts:
            return
        den_values = self.values_matrix(den)
        subset = ind.bounded          # per-unit and gross ratios may exceed 1
        rate = np.clip(self.rate_matrix(ind.code), 0, 100 if subset else None) / f.get("scale", 100)
        values = np.minimum(den_values * rate, den_values) if subset else den_values * rate
        if _is_integer(self.cat.elements[num]):
            values = np.floor(values + 0.5)
            values = np.minimum(values, den_values) if subset else values
        self._store(num, [v.code for v in self.villages], self.quarters, values)

    def build_growth(self, element: str, code: str) -> None:
        """A level whose year-on-year growth follows the indicator's path (income and the like)."""
        if element in self.facts:
            return
        el = self.cat.elements[element]
        hint = el.demo.get("per_village", [11000, 19000])
        level0 = _rng("lvl", element).uniform(float(hint[0]), float(hint[1]), len(self.villages))
        years = sorted({periods.year_of(q) for q in self.quarters})
        values = np.empty((len(self.villages), len(self.quarters)))
        for i, v in enumerate(self.villages):
            k = self.k_of(code, v.code)
            annual, level = {}, level0[i]
            for y in years:
                growth = path_value(self.plots[code], f"{y}Q4", k, self.cat) if y > years[0] else 0
                level *= 1 + growth / 100
                annual[y] = level
            for j, q in enumerate(self.quarters):
                share = INCOME_SHARE_BY_QUARTER[periods.quarter_of(q) - 1] if el.temporal == "ytd" else 1.0
                values[i, j] = annual[periods.year_of(q)] * share
        self._store(element, [v.code for v in self.villages], self.quarters, values)

    def build_value(self, ind: Indicator) -> None:
        element = ind.formula["element"]
        if element in self.facts:
            return
        el = self.cat.elements[element]
        plot = self.plots[ind.code]
        village_codes = [v.code for v in self.villages]
        if el.aggregation == "weighted_mean":
            if el.temporal == "ytd":
                self.build_growth(element, ind.code)
                return
            values = self.rate_matrix(ind.code)
            if el.percent:
                values = np.clip(values, 0, 100)
            self._store(element, village_codes, self.quarters, values)
            return
        if plot.target is not None and plot.target.kind == "milestones":
            self._store(element, village_codes, self.quarters, self.milestone_flows(ind.code))
            return
        total = np.array([path_value(plot, t, SCENARIOS[plot.scenario], self.cat) for t in self.quarters])
        if el.temporal == "flow" and (plot.target is None or plot.target.kind != "milestones"):
            # an annual quantity spread over quarters, unless the target is per quarter
            total = total / 4 if plot.target is not None and ind.basis != "flow" else total
        if el.temporal == "ytd":        # the year's amount at Q4, reported cumulatively within the year
            total = np.array([path_value(plot, f"{periods.year_of(t)}Q4", SCENARIOS[plot.scenario], self.cat)
                              * INCOME_SHARE_BY_QUARTER[periods.quarter_of(t) - 1] for t in self.quarters])
        final = plot.target.final_value if plot.target is not None else total.max()
        if final is not None and final < 2 * len(self.villages):
            # a few dozen banner-level things (enterprises, hospitals, roads): reported by the banner
            # (spread over villages they would round away)
            self._store(element, [self.top], self.quarters, np.round(total)[None, :])
            return
        w = self.weights(element)
        share = (w / w.sum())[:, None]
        noise = _rng("vn", element).normal(1.0, 0.04, (len(self.villages), len(self.quarters)))
        self._store(element, village_codes, self.quarters, np.maximum(total[None, :] * share * noise, 0))

    def milestone_flows(self, code: str) -> np.ndarray:
        plot = self.plots[code]
        target = plot.target
        w = self.weights(code)
        town_k = np.array([self.k_of(code, v.code) for v in self.villages])
        out = np.zeros((len(self.villages), len(self.quarters)))
        for j, q in enumerate(self.quarters):
            year, qi = periods.year_of(q), periods.quarter_of(q)
            annual = target.milestones.get(year, 0.0)
            if year > max(target.milestones):
                annual = target.milestones[max(target.milestones)] * 0.5   # the work goes on
            amount = annual * FLOW_SHARE_BY_QUARTER[qi - 1]
            out[:, j] = amount * w / w.sum() * town_k
        return np.floor(out + _rng("round", code).uniform(0, 1, out.shape))

    def build_coverage(self, ind: Indicator) -> None:
        element, level = ind.formula["element"], ind.formula["level"]
        if element in self.facts:
            return
        units = self.h.descendants(self.top, level) or [self.h.root]
        order = _rng("cov", element).permutation(len(units))
        plot = self.plots[ind.code]
        k = SCENARIOS[plot.scenario]
        shares = np.clip([path_value(plot, t, k, self.cat) for t in self.quarters], 0, 100) / 100
        values = np.zeros((len(units), len(self.quarters)))
        for j, share in enumerate(shares):
            covered = int(math.floor(share * len(units) + 1e-9))
            values[order[:covered], j] = 1
        self._store(element, [u.code for u in units], self.quarters, values)

    def build_benchmarks(self) -> None:
        """Benchmark series at the top region: growth rates, or levels growing at those rates."""
        for el in self.cat.elements.values():
            if el.role != "benchmark":
                continue
            if el.percent:
                values = [BENCHMARK_GROWTH[periods.year_of(q)] for q in self.quarters]
                if "增速" not in el.name_zh:
                    hint = el.demo.get("per_village", [40, 60])
                    values = [(float(hint[0]) + float(hint[1])) / 2 + 0.8 * i / 4
                              for i, _ in enumerate(self.quarters)]
            else:
                hint = el.demo.get("per_village", [15000, 20000])
                level, values = (float(hint[0]) + float(hint[1])) / 2, []
                for q in self.quarters:
                    year = periods.year_of(q)
                    annual = level * math.prod(1 + BENCHMARK_GROWTH[y] / 100 for y in range(2021, year + 1))
                    share = INCOME_SHARE_BY_QUARTER[periods.quarter_of(q) - 1] if el.temporal == "ytd" else 1.0
                    values.append(annual * share)
            self._store(el.code, [self.top], self.quarters, [values])
            series = dict(zip(self.quarters, values))
            for plot in self.plots.values():
                if plot.target is not None and plot.target.benchmark == el.code:
                    plot.benchmark = series

    def build(self) -> pd.DataFrame:
        for base in ("population", "households"):
            if base in self.cat.elements:
                self.ensure_level(base)
        self.build_benchmarks()
        inds = list(self.cat.indicators.values())
        for ind in sorted(inds, key=lambda i: ["yoy_growth", "ratio", "coverage", "value"].index(i.kind)):
            if ind.kind == "ratio":
                self.build_ratio(ind)
            elif ind.kind == "yoy_growth":
                self.build_growth(ind.formula["element"], ind.code)
            elif ind.kind == "coverage":
                self.build_coverage(ind)
            else:
                self.build_value(ind)
        for el in self.cat.elements.values():      # weights of weighted means, denominators
            if el.role == "data" and el.code not in self.facts:
                self.ensure_level(el.code)
        frames = [f.assign(element_code=code) for code, f in self.facts.items()]
        return pd.concat(frames, ignore_index=True)[["region_code", "element_code", "period", "value"]]


def build_demo_facts(catalog: Catalog, hierarchy: Hierarchy) -> pd.DataFrame:
    return DemoBuilder(catalog, hierarchy).build()


def _refuse_invalid(facts: pd.DataFrame, store: Store, what: str) -> None:
    """The demo writes through the upload's validator (every error code an upload would get),
    plus the catalog's value rules; any problem and nothing is published."""
    from metrics.ingest.dryrun import check_frame
    problems = check_facts(facts, store.catalog)
    report = check_frame(store, facts, f"{what}.csv")
    problems += [f"{e.code} 第 {e.row} 行：{e.message}" for e in report.errors.head(20).itertuples()]
    if report.fatal:
        problems.append(report.fatal)
    if problems:
        raise ValueError(f"{what}未通过校验，未发布：\n  " + "\n  ".join(problems))


def _sha256(frame: pd.DataFrame) -> str:
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    return hashlib.sha256(buf.getvalue().encode("utf-8")).hexdigest()


def write_demo(store: Store) -> list:
    """Publish the demo data set as yearly snapshots, one correction and one retracted upload."""
    facts = build_demo_facts(store.catalog, store.hierarchy)
    _refuse_invalid(facts, store, "演示数据")        # the same checks as an upload, before any publish
    year = facts["period"].str[:4].astype(int)
    snaps = []
    for y in sorted(year.unique()):
        part = facts[year == y]
        first = 2021 if y <= 2021 else y
        if y == 2020:
            part = facts[year <= 2021]
        elif y == 2021:
            continue
        name = f"演示数据_{'2020-2021' if y == 2020 else y}年.csv"
        when = dt.datetime(first + 1, 1, 20, 9, 30) if y < 2026 else dt.datetime(2026, 10, 20, 9, 30)
        snaps.append(store.publish(part, user=DEMO_USER, comment=f"演示数据：{name[5:-4]} 各季度",
                                   source_name=name, source_sha256=_sha256(part), demo=True, now=when))
        if y == 2023:
            snaps.append(_publish_correction_and_mistake(store, facts))
    return snaps


def _publish_correction_and_mistake(store: Store, facts: pd.DataFrame):
    """A correction of one township's 2023Q3 values, and a mistaken upload that was retracted."""
    town = store.hierarchy.children(store.hierarchy.root.code)[0].code
    villages = {v.code for v in store.hierarchy.descendants(town)}
    fix = facts[(facts["period"] == "2023Q3") & facts["region_code"].isin(villages)
                & (facts["element_code"] == "population")].copy()
    if not fix.empty:
        fix["value"] = fix["value"] + 3
        _refuse_invalid(fix, store, "演示更正数据")
        store.publish(fix, user=DEMO_USER, comment="演示：更正 2023Q3 人口（补录外出返乡人员）",
                      source_name="演示数据_更正_2023Q3.csv", source_sha256=_sha256(fix), demo=True,
                      now=dt.datetime(2024, 2, 5, 15, 0))
    # a unit error that passes validation (population in the wrong unit), later retracted
    wrong = facts[(facts["period"] == "2023Q4") & (facts["element_code"] == "population")].head(200).copy()
    wrong["value"] = wrong["value"] * 10
    _refuse_invalid(wrong, store, "演示误传数据")
    bad = store.publish(wrong, user=DEMO_USER, comment="演示：误传的文件（单位错误，已撤回）",
                        source_name="演示数据_误传.csv", source_sha256=_sha256(wrong), demo=True,
                        now=dt.datetime(2024, 2, 6, 10, 0))
    return store.retract(bad.id, user=DEMO_USER, now=dt.datetime(2024, 2, 6, 16, 0))
