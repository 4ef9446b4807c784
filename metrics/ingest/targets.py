"""目标管理: view targets with their sources; upload targets (region, indicator, kind, values,
source) through the same dry-run → preview → publish path as data; versioned (``target_store``).

The 目标任务分解 check: where a region's target is broken down to its sub-regions, counts must
add up to it, and rates must reach it on the sub-regions' summed denominators; otherwise a
``breakdown_shortfall`` warning names the region and the shortfall.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from metrics import paths, periods
from metrics.catalog import Catalog, validate_entries
from metrics.ingest import report as rp
from metrics.ingest.read import UnreadableFile, norm_header, read_sheets
from metrics.ingest.target_store import (  # noqa: F401 - re-exported: the targets API in one place
    catalog_with_uploaded_targets,
    publish_targets,
    restore,
    retract,
    target_key,
    targets_version,
    to_target,
    uploaded_targets,
    versions,
)
from metrics.ingest.text import TEXT
from metrics.ingest.validate import region_resolver

COLUMNS = {
    "region": {"region", "region_code", "地区", "区划代码", "地区名称"},
    "indicator": {"indicator", "indicator_code", "指标", "指标代码", "指标名称"},
    "plan": {"plan", "规划"},
    "kind": {"kind", "目标类型", "类型"},
    "target_period": {"target_period", "目标期", "目标年份", "目标季度"},
    "target_value": {"target_value", "目标值"},
    "baseline_value": {"baseline_value", "基期值"},
    "baseline_period": {"baseline_period", "基期"},
    "comparison": {"comparison", "比较"},
    "milestones": {"milestones", "年度任务"},
    "schedule": {"schedule", "进度安排"},
    "benchmark": {"benchmark", "对比基准"},
    "source_document": {"source_document", "document", "文件", "出处文件"},
    "source_clause": {"source_clause", "clause", "条款"},
    "source_quote": {"source_quote", "quote", "quote_zh", "原文"},
    "note": {"note", "note_zh", "备注"},
}
KINDS = {"threshold": {"threshold", "阈值", "达到"}, "trajectory": {"trajectory", "路径"},
         "milestones": {"milestones", "年度任务", "分年度"}, "relative": {"relative", "相对", "对标"},
         "schedule": {"schedule", "进度", "完成进度"}, "coverage": {"coverage", "覆盖"}}
_KIND_OF = {norm_header(w): k for k, ws in KINDS.items() for w in ws}
COMPARISONS = {"ge": "ge", "≥": "ge", ">=": "ge", "le": "le", "≤": "le", "<=": "le", "gt": "gt", ">": "gt",
               "lt": "lt", "<": "lt"}
TEMPLATE_HEADER = ["region", "indicator", "plan", "kind", "target_period", "target_value", "baseline_value",
                   "baseline_period", "comparison", "milestones", "schedule", "benchmark", "source_document",
                   "source_clause", "source_quote", "note"]


@dataclass
class TargetImport:
    source_name: str
    sha256: str
    rows_read: int = 0
    targets: list[dict] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    errors: pd.DataFrame = field(default_factory=rp.empty_issues)
    warnings: pd.DataFrame = field(default_factory=rp.empty_issues)
    fatal: str | None = None

    @property
    def ok(self) -> bool:
        return self.fatal is None and self.errors.empty and bool(self.targets)

    def to_dict(self, lang: str = "zh") -> dict:
        r = rp.Report(self.source_name, self.sha256)
        errors = r.issue_list(self.errors, lang)
        if self.fatal:
            errors.insert(0, {"row": 0, "sheet": "", "column": "", "code": "unreadable_file", "message": self.fatal})
        return {"ok": self.ok, "file": self.source_name, "rows_read": self.rows_read,
                "rows_valid": len(self.targets) if self.ok else 0, "errors": errors,
                "warnings": r.issue_list(self.warnings, lang)}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_-]+", "-", str(text).lower()).strip("-") or "x"


def _number(text: str) -> float | None:
    s = re.sub(r"[\s,%]", "", str(text))
    try:
        return float(s) if s else None
    except ValueError:
        return None


def _pairs(text: str, key_check) -> dict | None:
    """``2022:946;2023:642`` → {"2022": 946.0, "2023": 642.0}; None if unreadable."""
    out = {}
    for part in re.split(r"[;；,，\s]+", str(text).strip()):
        if not part:
            continue
        m = re.fullmatch(r"([^:：=]+)[:：=](.+)", part)
        value = _number(m.group(2)) if m else None
        if m is None or value is None or not key_check(m.group(1)):
            return None
        out[m.group(1).strip()] = value
    return out or None


def _target_period(text: str) -> str:
    s = str(text).strip()
    if re.fullmatch(r"\d{4}(年(底|末)?)?", s):
        return f"{s[:4]}Q4"
    return periods.parse_period(s)


def check(store, data: bytes, source_name: str) -> TargetImport:
    """Validate a targets file against the catalog and hierarchy; warn on breakdown shortfalls."""
    result = TargetImport(source_name, hashlib.sha256(data).hexdigest())
    try:
        sheet = next(s for s in read_sheets(data) if not s.cells.empty)
    except (UnreadableFile, StopIteration) as exc:
        values = {"value": source_name, **(exc.values if isinstance(exc, UnreadableFile) else {})}
        result.fatal = rp.fill(TEXT[getattr(exc, "key", "msg_empty_file")][0], 1,
                               **{k: str(v) for k, v in values.items()})[0]
        return result
    header = [norm_header(c) for c in sheet.cells.iloc[0].tolist()]
    col = {role: header.index(h) for role, names in COLUMNS.items() for h in header if h in {norm_header(n) for n in names}}
    missing = [c for c in ("indicator", "kind", "target_period") if c not in col]
    if missing:
        result.errors = rp.concat_issues([rp.issues("missing_column", row=[1], column=c, value=c) for c in missing])
        return result
    catalog, hierarchy = store.catalog, store.hierarchy
    resolve_region = region_resolver(hierarchy, None)
    by_name = {i.name_zh: i.code for i in catalog.indicators.values()}
    default_plan = str(paths.settings(store.dir)["default_plan"])
    errors, found = [], []
    body = sheet.cells.iloc[1:]
    for idx, cells in body.iterrows():   # a targets file has tens of rows: read each as a record
        get = {role: str(cells.iloc[j]).strip() for role, j in col.items()}
        if not any(get.values()):
            continue
        row = idx + 1
        result.rows_read += 1

        def err(code, column, key=None, row=row, **values):
            errors.append(rp.issues(code, row=[row], column=column, key=key, **values))

        indicator = get["indicator"] if get["indicator"] in catalog.indicators else by_name.get(get["indicator"])
        if indicator is None:
            err("unknown_indicator", "indicator", key="msg_unknown_indicator", value=get["indicator"])
        kind = _KIND_OF.get(norm_header(get["kind"]))
        if kind is None:
            err("bad_kind", "kind", key="msg_bad_kind", value=get["kind"])
        try:
            target_period = _target_period(get["target_period"])
        except ValueError:
            target_period = None
            err("bad_period", "target_period", value=get["target_period"])
        region = None
        if get.get("region"):
            region, problem = resolve_region(get["region"])
            if problem:
                err(problem, "region", value=get["region"])
        plan = get.get("plan") or (catalog.plan_for_period(target_period).id
                                   if target_period and catalog.plan_for_period(target_period) else default_plan)
        if plan not in catalog.plans:
            err("unknown_plan", "plan", key="msg_unknown_plan", value=plan)
        if not any(get.get(k) for k in ("source_document", "source_clause", "source_quote")):
            err("missing_source", "source_quote", key="msg_missing_source")
        if len(errors) and errors[-1]["row"].iloc[0] == row:
            continue
        t = _build(get, plan, indicator, kind, target_period, region, catalog, hierarchy)
        problems = validate_entries("targets", [t]) if isinstance(t, dict) else [t]
        if problems:
            err("bad_target_values", "target_value", key="msg_bad_target_values",
                value="；".join(p.split(": ", 2)[-1] for p in problems))
            continue
        found.append((row, t))
    result.errors = rp.concat_issues(errors)
    result.targets = [t for _, t in found]
    result.rows = [r for r, _ in found]
    if result.ok:
        result.warnings = breakdown_warnings(store, result)
    return result


def _build(get: dict, plan: str, indicator: str, kind: str, target_period: str, region: str | None,
           catalog: Catalog, hierarchy) -> dict | str:
    plan_region = catalog.plans[plan].region or hierarchy.root.code
    region = None if region == plan_region else region
    doc_text = get.get("source_document", "")
    doc = next((d.id for d in catalog.documents.values()
                if doc_text in (d.id, d.short_zh, d.title_zh, d.file)), None) if doc_text else None
    clause = get.get("source_clause") or ""
    if doc_text and doc is None:
        clause = f"{doc_text} {clause}".strip()
    t: dict = {"id": _slug(f"u-{plan}-{indicator}-{region or 'plan'}-{target_period}"), "plan": plan,
               "indicator": indicator, "kind": kind, "target_period": target_period, "region": region,
               "source": {"document": doc, "clause": clause or None, "quote_zh": get.get("source_quote") or None}}
    for name in ("target_value", "baseline_value", "margin"):
        if get.get(name):
            value = _number(get[name])
            if value is None:
                return f"{name}: 「{get[name]}」不是数字"
            t[name] = value
    if get.get("baseline_period"):
        try:
            t["baseline_period"] = _target_period(get["baseline_period"])
        except ValueError:
            return f"baseline_period: 「{get['baseline_period']}」不是季度"
    if get.get("comparison"):
        if get["comparison"] not in COMPARISONS:
            return f"comparison: 「{get['comparison']}」应为 ge/le/gt/lt"
        t["comparison"] = COMPARISONS[get["comparison"]]
    if get.get("milestones"):
        ms = _pairs(get["milestones"], lambda k: re.fullmatch(r"\d{4}", k.strip()) is not None)
        if ms is None:
            return f"milestones: 「{get['milestones']}」应写作 2022:946;2023:642"
        t["milestones"] = ms
    if get.get("schedule"):
        sc = _pairs(get["schedule"], lambda k: re.fullmatch(r"\d{4}Q[1-4]", k.strip()) is not None)
        if sc is None:
            return f"schedule: 「{get['schedule']}」应写作 2021Q4:30;2022Q4:70"
        t["schedule"] = sc
    if get.get("benchmark"):
        t["benchmark"] = get["benchmark"]
    if get.get("note"):
        t["note_zh"] = get["note"]
    return t


def breakdown_warnings(store, result: TargetImport) -> pd.DataFrame:
    """目标任务分解: sub-region targets must add up to (counts) or reach on summed denominators (rates)."""
    from metrics.ingest.target_store import merge_targets
    catalog = merge_targets(store.catalog, result.targets)
    h = store.hierarchy
    row_of = {target_key(t): r for r, t in zip(result.rows, result.targets)}
    out = []
    groups: dict[tuple, dict] = {}
    for t in catalog.targets:
        if t.kind not in ("threshold", "milestones", "trajectory") or t.final_value is None:
            continue
        region = t.region or (catalog.plans[t.plan].region or h.root.code)
        groups.setdefault((t.plan, t.indicator, t.target_period), {})[region] = t
    for (_plan, code, period), by_region in groups.items():
        ind = catalog.indicators[code]
        for parent, pt in by_region.items():
            if parent not in h or not h.children(parent):
                continue
            kids = [k.code for k in h.children(parent)]
            own = [k for k in kids if k in by_region]
            if not own:
                continue
            involved = [row_of[target_key(x)] for x in [pt] + [by_region[k] for k in own] if target_key(x) in row_of]
            if not involved:
                continue
            goal = float(pt.final_value)
            if catalog.is_count(ind):
                total = float(sum(by_region[k].final_value for k in own))
                short = goal - total if ind.direction == "higher" else total - goal
            elif ind.kind == "ratio":
                weights = _denominators(store, kids, ind.formula["denominator"])
                vals = np.array([by_region[k].final_value if k in by_region else goal for k in kids], dtype=float)
                w = np.array([weights.get(k, 0.0) for k in kids], dtype=float)
                total = float((vals * w).sum() / w.sum()) if w.sum() > 0 else float(vals.mean())
                short = goal - total if ind.direction == "higher" else total - goal
            else:
                continue
            if short > 1e-6 * max(1.0, abs(goal)):
                name = h[parent].name
                out.append(rp.issues("breakdown_shortfall", row=[min(involved)], column="target_value",
                                     key="msg_breakdown_shortfall", value=f"{name}「{ind.name_zh}」{period}",
                                     other=round(total, 2), first=round(short, 2)))
    return rp.concat_issues(out)


def _denominators(store, regions: list[str], element: str) -> dict[str, float]:
    """Latest published value of the denominator element per region (rollup sums)."""
    rows = store.rollup_rows(regions, [element])
    if rows.empty:
        return {}
    latest = rows.sort_values("period").groupby("region_code").tail(1)
    return dict(zip(latest["region_code"], latest["value_sum"].astype(float)))


def publish(data_dir, result: TargetImport, *, user, comment: str) -> int:
    if not result.ok:
        raise ValueError("目标文件有错误，未发布")
    return publish_targets(data_dir, result.targets, user=user, comment=comment, source_name=result.source_name,
                           sha256=result.sha256)


def targets_frame(catalog: Catalog, hierarchy, lang: str = "zh") -> pd.DataFrame:
    """Every target with its source, for the 目标管理 page."""
    rows = []
    for t in catalog.targets:
        ind = catalog.indicators.get(t.indicator)
        doc = catalog.documents.get((t.source or {}).get("document") or "")
        region = t.region or catalog.plans[t.plan].region or hierarchy.root.code
        rows.append({
            "plan": t.plan, "indicator": (ind.name_en if lang == "en" else ind.name_zh) if ind else t.indicator,
            "region": hierarchy[region].name if region in hierarchy else region, "kind": t.kind,
            "target_period": t.target_period, "target": t.final_value,
            "document": (doc.short_zh or doc.title_zh) if doc else "", "clause": (t.source or {}).get("clause") or "",
            "quote": (t.source or {}).get("quote_zh") or "", "uploaded": t.id.startswith("u-")})
    return pd.DataFrame(rows)


def template_csv() -> bytes:
    example = ["", "toilets_built", "demo-2021-2025", "milestones", "2025", "", "", "", "", "2022:946;2023:642", "",
               "", "001", "第三章", "新建卫生厕所946座", ""]
    buf = io.StringIO()
    pd.DataFrame([example], columns=TEMPLATE_HEADER).to_csv(buf, index=False)
    return buf.getvalue().encode("utf-8-sig")


class CatalogView:
    """The store read through another catalog: the targets preview (nothing is written)."""

    def __init__(self, store, catalog: Catalog):
        self._store, self.catalog = store, catalog

    def __getattr__(self, name):
        return getattr(self._store, name)


def status_moves(store, result: TargetImport, lang: str = "zh") -> pd.DataFrame:
    """Statuses the leaders' pages would move if these targets were published (latest quarter of each plan)."""
    from metrics import query
    from metrics.ingest.target_store import merge_targets
    columns = ["region_code", "region", "indicator_code", "indicator", "period", "before", "after"]
    if not result.ok:
        return pd.DataFrame(columns=columns)
    after_view = CatalogView(store, merge_targets(store.catalog, result.targets))
    h, rows = store.hierarchy, []
    for plan_id in sorted({t["plan"] for t in result.targets}):
        plan, period = query.resolve_plan(store, plan_id, None)
        if period is None:
            continue
        mine = [t for t in result.targets if t["plan"] == plan_id]
        home = plan.region or h.root.code
        regions = sorted({t["region"] or home for t in mine} | {home}, key=lambda c: h[c].order if c in h else 0)
        indicators = sorted({t["indicator"] for t in mine})
        before = query.assess_many(store, regions, period, plan, indicators)
        after = query.assess_many(after_view, regions, period, plan, indicators)
        for code in regions:
            for b, a in zip(before[code], after[code]):
                if b.assessment.status != a.assessment.status:
                    rows.append((code, h[code].name_en or h[code].name if lang == "en" else h[code].name,
                                 b.indicator.code, b.indicator.name_en if lang == "en" else b.indicator.name_zh,
                                 period, b.assessment.status, a.assessment.status))
    return pd.DataFrame(rows, columns=columns)
