"""Dry run: validate an upload against the live store and say what publishing it would do.

The summary counts values that are new, changed (old → new), unchanged and ignored, and lists
the statuses the leaders' pages would move (e.g. 卫生厕所普及率 需加快 → 正常推进) for the
regions the upload touches and their ancestors, assessed with ``metrics.query`` on the store
and on a preview of the store with the upload applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from metrics import paths, process, query
from metrics.ingest import adapter, locks
from metrics.ingest.preview import Overlay
from metrics.ingest.report import Report
from metrics.ingest.validate import KEY, Rules, validate_bytes
from metrics.store import Store

MAX_STATUS_REGIONS = 120
TOLERANCE = 1e-9


def rules_for(store: Store, parent: str | None = None, last_period: str | None = None) -> Rules:
    s = paths.settings(store.dir)
    return Rules(catalog=store.catalog, hierarchy=store.hierarchy,
                 current_values=None if store.is_empty() else (
                     lambda regions, elements, quarters: adapter.current_in(store, regions, elements, quarters)),
                 locked=locks.locked_periods(store.dir), parent=parent or None, last_period=last_period,
                 large_change_factor=float(s["large_change_factor"]), max_mb=float(s["max_upload_mb"]),
                 max_rows=int(s["max_upload_rows"]))


def check(store: Store, data: bytes, source_name: str, parent: str | None = None,
          last_period: str | None = None) -> Report:
    """Validate ``data`` against the store (regions, catalog, locks, current values)."""
    report = validate_bytes(data, source_name, rules_for(store, parent, last_period))
    process.release_memory()      # the working memory of a big file, back to the system
    return report


def check_frame(store: Store, facts: pd.DataFrame, source_name: str) -> Report:
    """Validate a long frame (region_code, element_code, period, value) exactly as the same rows
    uploaded as a long CSV would be — the demo and the bench publish through this."""
    data = facts[["region_code", "element_code", "period", "value"]].to_csv(index=False).encode("utf-8")
    return check(store, data, source_name)


@dataclass
class Summary:
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    ignored: int = 0
    changes: pd.DataFrame = field(default_factory=pd.DataFrame)       # region, element, period, old, new
    status_moves: pd.DataFrame = field(default_factory=pd.DataFrame)  # region, indicator, before, after

    def counts(self) -> dict:
        return {"new": self.new, "changed": self.changed, "unchanged": self.unchanged, "ignored": self.ignored}


def compare(store: Store, report: Report) -> pd.DataFrame:
    """The report's facts with ``old`` (current value or NaN) and ``kind`` new/changed/unchanged."""
    from metrics.ingest.validate import lookup
    merged = report.facts.astype({c: str for c in KEY})     # the validator's keys are categorical
    if report.current is not None:
        old = lookup(merged["key"].to_numpy(), report.current)
    else:
        old = adapter.current_values(store, merged[KEY])["value"].to_numpy(dtype=float)
    new = merged["value"].to_numpy(dtype=float)
    same = np.isclose(old, new, rtol=TOLERANCE, atol=TOLERANCE)
    merged["old"] = old
    merged["kind"] = np.where(np.isnan(old), "new", np.where(same, "unchanged", "changed"))
    return merged


def summarize(store: Store, report: Report, with_status: bool = True, lang: str = "zh") -> Summary:
    if not report.ok or report.facts.empty:
        return Summary(ignored=report.ignored)
    merged = compare(store, report)
    kinds = merged["kind"].value_counts()
    cat, h = store.catalog, store.hierarchy
    changed = merged[merged["kind"] == "changed"].head(2000)
    names = {e.code: (e.name_en if lang == "en" else e.name_zh) for e in cat.elements.values()}
    changes = pd.DataFrame({
        "row": changed["row"], "region_code": changed["region_code"],
        "region": changed["region_code"].map(lambda c: h[c].name if c in h else c),
        "element": changed["element_code"].map(names), "period": changed["period"],
        "old": changed["old"], "new": changed["value"]}).reset_index(drop=True)
    moves = status_moves(store, merged[merged["kind"] != "unchanged"], lang) if with_status else pd.DataFrame()
    return Summary(new=int(kinds.get("new", 0)), changed=int(kinds.get("changed", 0)),
                   unchanged=int(kinds.get("unchanged", 0)), ignored=report.ignored,
                   changes=changes, status_moves=moves)


def affected_regions(store: Store, region_codes: list[str], limit: int = MAX_STATUS_REGIONS) -> list[str]:
    """The touched regions' ancestors (top first), then the touched regions, up to ``limit``."""
    h = store.hierarchy
    touched = [c for c in dict.fromkeys(region_codes) if c in h]
    ancestors = {a.code: len(h.ancestors(a.code)) for c in touched for a in h.ancestors(c)}
    ordered = sorted(ancestors, key=lambda c: (ancestors[c], h[c].order))
    ordered += [c for c in sorted(touched, key=lambda c: h[c].order) if c not in ancestors]
    return ordered[:limit]


def status_moves(store: Store, facts: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Statuses that would change at the latest quarter the upload touches, per affected region."""
    columns = ["region_code", "region", "indicator_code", "indicator", "period", "before", "after"]
    if facts.empty:
        return pd.DataFrame(columns=columns)
    period = str(facts["period"].max())
    plan = store.catalog.plan_for_period(period)
    if plan is None:
        return pd.DataFrame(columns=columns)
    regions = affected_regions(store, facts["region_code"].tolist())
    touched_elements = set(facts["element_code"])
    indicators = [i.code for i in store.catalog.indicators.values()
                  if set(query.rollup_code(i)) & touched_elements
                  or {e.split("@")[0] for e in query.rollup_code(i)} & touched_elements]
    if not regions or not indicators:
        return pd.DataFrame(columns=columns)
    before = query.assess_many(store, regions, period, plan, indicators)
    after = query.assess_many(Overlay(store, facts), regions, period, plan, indicators)
    rows = []
    h = store.hierarchy
    for code in regions:
        for b, a in zip(before[code], after[code]):
            if b.assessment.status != a.assessment.status:
                rows.append((code, h[code].name if lang != "en" else (h[code].name_en or h[code].name),
                             b.indicator.code, b.indicator.name_en if lang == "en" else b.indicator.name_zh,
                             period, b.assessment.status, a.assessment.status))
    return pd.DataFrame(rows, columns=columns)
