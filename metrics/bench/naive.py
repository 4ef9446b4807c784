"""The naive way, for comparison: pandas reads the fact Parquet and groups up the hierarchy on
every call (no rollups). A drop-in for ``Store`` in ``metrics.query``: same answers, no index.

It reads the Parquet with the filters ``pd.read_parquet(filters=...)`` would take: period,
element, and the code range of the regions asked for (codes are hierarchical).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.dataset as ds

from metrics.catalog import Catalog
from metrics.regions import Hierarchy
from metrics.store.reader import empty_arrays
from metrics.store.rollups import ROLLUP_COLUMNS


class NaiveStore:
    def __init__(self, dataset: ds.Dataset, catalog: Catalog, hierarchy: Hierarchy, store):
        self.dataset, self.catalog, self.hierarchy, self._store = dataset, catalog, hierarchy, store
        order = hierarchy.in_order()
        self.codes = pd.Index([r.code for r in order])
        self.order_end = np.array([r.order_end for r in order])
        self.level = np.array([r.level for r in order])

    def snapshots(self):
        return self._store.snapshots()

    def version(self):
        return self._store.version()

    def periods_with_data(self) -> list[str]:
        return self._store.periods_with_data()

    def rollup_rows(self, region_codes, element_codes, period_from=None, period_to=None) -> pd.DataFrame:
        return pd.DataFrame(self.rollup_arrays(region_codes, element_codes, period_from, period_to),
                            columns=list(ROLLUP_COLUMNS))

    def rollup_arrays(self, region_codes, element_codes, period_from=None, period_to=None):
        cat = self.catalog
        plain = [c for c in element_codes if "@" not in c]
        coverage = [c.split("@") for c in element_codes if "@" in c]
        weights = {cat.elements[c].weight for c in plain
                   if c in cat.elements and cat.elements[c].aggregation == "weighted_mean"}
        wanted = sorted(set(plain) | {e for e, _ in coverage} | {w for w in weights if w})
        flt = pc.field("element_code").isin(wanted) & pc.field("snapshot_id").isin(sorted(self._store._active()))
        # codes are hierarchical, so a subtree is a code range: the one pruning a pandas user would do
        spans = [(self.codes.get_loc(c), self.order_end[self.codes.get_loc(c)]) for c in region_codes]
        lo_code = min(self.codes[a:b].min() for a, b in spans)
        hi_code = max(self.codes[a:b].max() for a, b in spans)
        flt &= (pc.field("region_code") >= lo_code) & (pc.field("region_code") <= hi_code)
        if period_from:
            flt &= pc.field("period") >= period_from
        if period_to:
            flt &= pc.field("period") <= period_to
        parts = []
        for batch in self.dataset.to_batches(columns=["region_code", "element_code", "period", "value",
                                                      "snapshot_id"], filter=flt):
            parts.append(batch.to_pandas())
        if not parts:
            return empty_arrays()
        facts = pd.concat(parts, ignore_index=True)
        facts = facts.sort_values("snapshot_id").drop_duplicates(["region_code", "element_code", "period"],
                                                                 keep="last")
        facts["pos"] = self.codes.get_indexer(facts["region_code"])
        facts = facts[facts["pos"] >= 0]
        out = []
        for code in region_codes:
            lo = self.codes.get_loc(code)
            sub = facts[(facts["pos"] >= lo) & (facts["pos"] < self.order_end[lo])]
            out.append(self._one(code, sub, plain, coverage))
        frame = pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=list(ROLLUP_COLUMNS))
        frame = frame.sort_values(["region_code", "element_code", "period"])
        return {c: (frame[c].to_numpy(dtype=object) if i < 3 else frame[c].to_numpy(dtype=float))
                for i, c in enumerate(ROLLUP_COLUMNS)}

    def _one(self, code: str, sub: pd.DataFrame, plain: list[str], coverage: list[list[str]]) -> pd.DataFrame:
        cat, rows = self.catalog, []
        kind = {el: (cat.elements[el].aggregation if el in cat.elements else "sum") for el in plain}
        summed = sub[sub["element_code"].isin([e for e, k in kind.items() if k == "sum"])
                     | (sub["element_code"].isin([e for e, k in kind.items() if k == "none"])
                        & (sub["region_code"] == code))]
        if not summed.empty:
            g = summed.groupby(["element_code", "period"])
            rows.append(pd.DataFrame({"value_sum": g["value"].sum(min_count=1), "weight_sum": np.nan,
                                      "n_facts": g.size(), "snapshot_id": g["snapshot_id"].max()})
                        .reset_index().assign(region_code=code))
        for el in [e for e, k in kind.items() if k == "weighted_mean"]:
            part = sub[sub["element_code"] == el]
            if part.empty:
                continue
            w = sub[sub["element_code"] == cat.elements[el].weight][["region_code", "period", "value"]]
            part = part.merge(w, on=["region_code", "period"], how="left", suffixes=("", "_w"))
            g = part.assign(vs=part["value"] * part["value_w"], ws=part["value_w"]).groupby("period")
            rows.append(pd.DataFrame({"value_sum": g["vs"].sum(min_count=1), "weight_sum": g["ws"].sum(min_count=1),
                                      "n_facts": g.size(), "snapshot_id": g["snapshot_id"].max()})
                        .reset_index().assign(region_code=code, element_code=el))
        for el, level in coverage:
            part = sub[sub["element_code"] == el]
            if part.empty:
                continue
            # every unit at the level under the region: its subtree total, per quarter
            lo = self.codes.get_loc(code)
            units = [i for i in range(lo, self.order_end[lo]) if self.level[i] == level]
            if not units:
                continue
            unit_of = np.full(len(self.codes), -1)
            for u in units:
                unit_of[u:self.order_end[u]] = u
            part = part.assign(unit=unit_of[part["pos"].to_numpy()])
            totals = part[part["unit"] >= 0].groupby(["period", "unit"])["value"].sum()
            g = totals.groupby("period")
            agg = pd.DataFrame({"value_sum": g.apply(lambda s: float((s > 0).sum())),
                                "weight_sum": float(len(units)), "n_facts": g.size(),
                                "snapshot_id": part.groupby("period")["snapshot_id"].max()})
            rows.append(agg.reset_index().assign(region_code=code, element_code=f"{el}@{level}"))
        if not rows:
            return pd.DataFrame(columns=list(ROLLUP_COLUMNS))
        return pd.concat(rows, ignore_index=True)[list(ROLLUP_COLUMNS)]
