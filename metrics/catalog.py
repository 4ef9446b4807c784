"""The indicator catalog: documents, data elements, indicators, plans and targets.

All of it is data (``data/catalog/*.yaml``), validated against ``catalog_schema`` and
cross-checked here. ``load_catalog`` raises ``CatalogError`` listing every problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import yaml

from metrics import paths
from metrics.catalog_schema import SCHEMAS

PILLAR_NAMES = {
    "consolidation": ("巩固脱贫成果", "Consolidating gains"),
    "industry": ("产业兴旺", "Thriving industry"),
    "ecology": ("生态宜居", "Liveable environment"),
    "civility": ("乡风文明", "Civility"),
    "governance": ("治理有效", "Effective governance"),
    "prosperity": ("生活富裕", "Prosperity"),
    "infrastructure": ("基础设施/公共服务", "Infrastructure & services"),
}
PILLAR_ORDER = list(PILLAR_NAMES)


class CatalogError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("catalog invalid:\n  " + "\n  ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Element:
    code: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    temporal: str
    aggregation: str
    weight: str | None = None
    cumulative: bool = False
    percent: bool = False
    role: str = "data"
    demo: dict = field(default_factory=dict, compare=False, hash=False)
    note_zh: str | None = None


@dataclass(frozen=True)
class Indicator:
    code: str
    name_zh: str
    name_en: str
    pillar: str
    department_zh: str
    department_en: str
    unit_zh: str
    unit_en: str
    direction: str
    formula: dict = field(compare=False, hash=False)
    definition_zh: str = ""
    definition_en: str = ""
    decimals: int = 1
    basis: str = "stock"          # stock | cumulative | flow | ytd
    min_level: str = "village"    # lowest level where it means something

    @property
    def kind(self) -> str:
        return self.formula["type"]

    @property
    def bounded(self) -> bool:
        """A ratio whose numerator is a subset of its denominator (numerator ≤ denominator)."""
        return self.kind == "ratio" and self.formula.get("subset", True)

    def elements(self) -> list[str]:
        f = self.formula
        return [f["numerator"], f["denominator"]] if f["type"] == "ratio" else [f["element"]]


@dataclass(frozen=True)
class Plan:
    id: str
    name_zh: str
    name_en: str
    start: str
    base: str
    end: str
    region: str | None = None
    illustrative: bool = False

    def covers(self, period: str) -> bool:
        return self.start <= period <= self.end


@dataclass(frozen=True)
class Target:
    id: str
    plan: str
    indicator: str
    kind: str
    target_period: str
    source: dict = field(compare=False, hash=False)
    region: str | None = None
    target_value: float | None = None
    baseline_value: float | None = None
    baseline_period: str | None = None
    comparison: str | None = None
    milestones: dict = field(default_factory=dict, compare=False, hash=False)
    schedule: dict = field(default_factory=dict, compare=False, hash=False)
    benchmark: str | None = None
    margin: float = 0.0
    note_zh: str | None = None

    @property
    def final_value(self) -> float | None:
        """The value that counts as reaching the target (total for milestones)."""
        if self.kind == "milestones":
            return float(sum(self.milestones.values()))
        if self.kind == "schedule":
            return float(self.schedule[max(self.schedule)])
        return self.target_value


@dataclass(frozen=True)
class Document:
    id: str
    file: str
    title_zh: str
    title_en: str
    year: int
    issuer_zh: str | None = None
    short_zh: str | None = None
    short_en: str | None = None


@dataclass
class Catalog:
    documents: dict[str, Document]
    elements: dict[str, Element]
    indicators: dict[str, Indicator]
    plans: dict[str, Plan]
    targets: list[Target]
    _by_plan_indicator: dict | None = field(default=None, repr=False, compare=False)

    def targets_of(self, plan_id: str, indicator: str | None = None) -> list[Target]:
        if indicator is None:
            return [t for t in self.targets if t.plan == plan_id]
        if self._by_plan_indicator is None:
            index: dict[tuple[str, str], list[Target]] = {}
            for t in self.targets:
                index.setdefault((t.plan, t.indicator), []).append(t)
            self._by_plan_indicator = index
        return self._by_plan_indicator.get((plan_id, indicator), [])

    def plan_for_period(self, period: str) -> Plan | None:
        """The plan whose period covers ``period`` (the latest-starting one if several)."""
        covering = [p for p in self.plans.values() if p.covers(period)]
        return max(covering, key=lambda p: p.start) if covering else None

    def natural_limits(self, indicator: Indicator) -> tuple[float | None, float | None]:
        """What a projection may not cross: 0–100 for rates and shares, >= 0 for counts and
        levels, none for growth rates."""
        if indicator.kind == "yoy_growth":
            return (None, None)
        if indicator.kind == "coverage" or indicator.unit_zh.strip() == "%":
            return (0.0, 100.0)
        return (0.0, None)

    def cumulative_start(self, plan_id: str, indicator: Indicator, plan_base: str) -> str:
        """First quarter a cumulative indicator counts from under a plan: its milestones' first
        year, else the quarter after the plan's base."""
        years = [min(t.milestones) for t in self.targets_of(plan_id, indicator.code) if t.kind == "milestones"]
        if years:
            return f"{min(years)}Q1"
        year, q = int(plan_base[:4]), int(plan_base[5])
        return f"{year + q // 4}Q{q % 4 + 1}"

    def is_count(self, indicator: Indicator) -> bool:
        """Counts (toilets to build) belong to their region; rates apply down the hierarchy."""
        if indicator.kind != "value":
            return False
        element = self.elements[indicator.formula["element"]]
        return element.aggregation == "sum" and not element.percent


def check_facts(facts: pd.DataFrame, catalog: Catalog) -> list[str]:
    """Problems that would make an upload invalid (one line per check and element; empty if valid):
    unknown element, a value that is not a finite number, a negative value, a percentage above
    100, a numerator above its denominator (ratio indicators in %, per region and quarter)."""
    problems: list[str] = []
    if facts.empty:
        return problems
    values = pd.to_numeric(facts["value"], errors="coerce").to_numpy(dtype=float)
    codes = facts["element_code"].astype(str)
    unknown = sorted(set(codes) - set(catalog.elements))
    if unknown:
        problems.append(f"未知数据元素：{'、'.join(unknown[:5])}")
    percent_codes = {e.code for e in catalog.elements.values() if e.percent}
    checks = (
        ("不是有效数值", ~np.isfinite(values)),
        ("出现负值", np.isfinite(values) & (values < 0)),
        ("百分比超过 100", np.isfinite(values) & (values > 100) & codes.isin(percent_codes).to_numpy()),
    )
    for label, bad in checks:
        for code, n in pd.Series(codes[bad]).value_counts(sort=False).items():
            first = facts[bad & (codes == code).to_numpy()].iloc[0]
            problems.append(f"{code} {label}：{n} 行（如 {first['region_code']} {first['period']} = {first['value']}）")
    pairs = sorted({(i.formula["numerator"], i.formula["denominator"]) for i in catalog.indicators.values()
                    if i.bounded and i.unit_zh.strip() == "%" and i.formula.get("scale", 100) == 100})
    keyed = facts.assign(value=values).set_index(["region_code", "period"])
    for num, den in pairs:
        n_val = keyed[keyed["element_code"] == num]["value"]
        d_val = keyed[keyed["element_code"] == den]["value"]
        both = pd.concat([n_val.rename("n"), d_val.rename("d")], axis=1, join="inner")
        over = both[both["n"] > both["d"] * (1 + 1e-9) + 1e-9]
        if len(over):
            (region, period), row = next(iter(over.iterrows()))
            problems.append(f"{num} 大于 {den}：{len(over)} 行（如 {region} {period}：{row['n']} > {row['d']}）")
    return problems


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml: ~10× faster than pure Python


def _read_yaml(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_YAML_LOADER) or []  # noqa: S506 -- a safe loader (libyaml's when built)
    if not isinstance(data, list):
        raise CatalogError([f"{path.name}: expected a list of entries"])
    return data


def validate_entries(kind: str, entries: list[dict]) -> list[str]:
    """Schema problems of one file's entries, as readable lines."""
    validator = jsonschema.Draft202012Validator(SCHEMAS[kind])
    problems = []
    for i, entry in enumerate(entries):
        ident = entry.get("code") or entry.get("id") or f"#{i}"
        for err in validator.iter_errors(entry):
            where = "/".join(str(p) for p in err.absolute_path) or "(entry)"
            problems.append(f"{kind}.yaml {ident}: {where}: {err.message}")
    return problems


def _cross_check(cat: Catalog) -> list[str]:
    problems = []
    for e in cat.elements.values():
        if e.role == "benchmark" and e.aggregation != "none":
            problems.append(f"element {e.code}: a benchmark applies to its own region and is inherited "
                            "downward, never summed (aggregation: none)")
        if e.aggregation == "weighted_mean" and e.weight not in cat.elements:
            problems.append(f"element {e.code}: weight {e.weight!r} is not an element")
    for ind in cat.indicators.values():
        for code in ind.elements():
            if code not in cat.elements:
                problems.append(f"indicator {ind.code}: unknown element {code}")
    for t in cat.targets:
        ind = cat.indicators.get(t.indicator)
        if ind is None:
            problems.append(f"target {t.id}: unknown indicator {t.indicator}")
        if t.plan not in cat.plans:
            problems.append(f"target {t.id}: unknown plan {t.plan}")
        plan = cat.plans.get(t.plan)
        doc = t.source.get("document")
        if doc is not None and doc not in cat.documents:
            problems.append(f"target {t.id}: unknown document {doc}")
        if plan and not plan.illustrative and not (doc and t.source.get("clause") and t.source.get("quote_zh")):
            problems.append(f"target {t.id}: a real plan's target must cite document, clause and quote")
        if t.kind == "relative":
            bench = cat.elements.get(t.benchmark or "")
            if bench is None or bench.role != "benchmark":
                problems.append(f"target {t.id}: benchmark {t.benchmark} is not a benchmark element")
        if ind is not None and t.kind == "milestones" and ind.basis != "cumulative":
            problems.append(f"target {t.id}: milestones count a cumulative total; "
                            f"indicator {ind.code} needs basis: cumulative")
        if ind is not None and (t.kind == "coverage") != (ind.kind == "coverage"):
            problems.append(f"target {t.id}: coverage targets go with coverage indicators")
    ids = [t.id for t in cat.targets]
    for dup in {i for i in ids if ids.count(i) > 1}:
        problems.append(f"target id {dup} is not unique")
    return problems


LEVEL_ORDER = ("nation", "province", "city", "county", "township", "village")


def _with_defaults(entry: dict, targets: list[dict]) -> dict:
    """Defaults that follow from the entry itself: an indicator counted against milestones is
    cumulative; a share of units at a level means something from the level above."""
    out = entry
    if "basis" not in entry and any(t.get("indicator") == entry["code"] and t.get("kind") == "milestones"
                                    for t in targets):
        out = {**out, "basis": "cumulative"}
    formula = entry.get("formula") or {}
    if "min_level" not in entry and formula.get("type") == "coverage" and formula.get("level") in LEVEL_ORDER[2:]:
        out = {**out, "min_level": LEVEL_ORDER[LEVEL_ORDER.index(formula["level"]) - 1]}
    return out


def load_catalog(catalog_dir: Path | None = None) -> Catalog:
    folder = catalog_dir or paths.CATALOG_DIR
    raw = {kind: _read_yaml(folder / f"{kind}.yaml") for kind in SCHEMAS}
    problems = [p for kind, entries in raw.items() for p in validate_entries(kind, entries)]
    if problems:
        raise CatalogError(problems)
    cat = Catalog(
        documents={d["id"]: Document(**d) for d in raw["documents"]},
        elements={e["code"]: Element(**e) for e in raw["elements"]},
        indicators={i["code"]: Indicator(**_with_defaults(i, raw["targets"])) for i in raw["indicators"]},
        plans={p["id"]: Plan(**p) for p in raw["plans"]},
        targets=[Target(**{**t, "milestones": {int(k): v for k, v in (t.get("milestones") or {}).items()}})
                 for t in raw["targets"]],
    )
    problems = _cross_check(cat)
    if problems:
        raise CatalogError(problems)
    return cat


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    return load_catalog()
