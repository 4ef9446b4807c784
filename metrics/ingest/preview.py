"""A read-only preview of "the store with this upload published", without writing anything.

``Overlay(store, facts)`` answers ``rollup_arrays`` like the store, adding the upload's changes:
each changed leaf value's difference is pushed to the region and all its ancestors (sums),
weighted means move by value × weight, coverage counts move where a unit's sub-tree total
crosses zero, and non-additive elements change at their own region only. ``metrics.query``
runs on it unchanged, so the dry run can say which statuses would move.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

KEY = ["region_code", "element_code", "period"]


class Overlay:
    def __init__(self, store, facts: pd.DataFrame):
        """``facts``: region_code, element_code, period, value (new) and old (current or NaN)."""
        self.store = store
        self.catalog, self.hierarchy, self.dir = store.catalog, store.hierarchy, store.dir
        self.preview_id = max((s.id for s in store.snapshots()), default=0) + 1
        self.delta = self._deltas(facts)

    # -- what query.py reads ------------------------------------------------------------------------
    def snapshots(self):
        return self.store.snapshots()

    def version(self):
        return f"preview:{self.store.version()}"

    def periods_with_data(self) -> list[str]:
        return sorted(set(self.store.periods_with_data()) | set(self.delta["period"]))

    def rollup_rows(self, region_codes, element_codes, period_from=None, period_to=None) -> pd.DataFrame:
        return pd.DataFrame(self.rollup_arrays(region_codes, element_codes, period_from, period_to))

    def rollup_arrays(self, region_codes, element_codes, period_from=None, period_to=None) -> dict:
        base = self.store.rollup_arrays(region_codes, element_codes, period_from, period_to)
        cols = ["region_code", "element_code", "period", "value_sum", "weight_sum", "n_facts", "snapshot_id"]
        frame = pd.DataFrame({c: base[c] for c in cols})
        d = self.delta
        d = d[d["region_code"].isin(set(region_codes)) & d["element_code"].isin(set(element_codes))
              & (d["period"] >= (period_from or "0000Q1")) & (d["period"] <= (period_to or "9999Q4"))]
        if d.empty:
            return base
        merged = frame.astype({"region_code": object, "element_code": object, "period": object}).merge(
            d, on=KEY, how="outer")
        for col in ("value_sum", "weight_sum", "n_facts"):
            add = merged[f"d_{col}"].fillna(0).to_numpy(dtype=float)
            cur = merged[col].to_numpy(dtype=float)
            merged[col] = np.where(np.isnan(cur) & (add != 0), 0.0, cur) + add
        merged["snapshot_id"] = np.where(merged["d_value_sum"].notna(), self.preview_id,
                                         merged["snapshot_id"].to_numpy(dtype=float))
        merged = merged.sort_values(KEY, kind="stable")
        return {c: (merged[c].to_numpy(dtype=object) if i < 3 else merged[c].to_numpy(dtype=float))
                for i, c in enumerate(cols)}

    # -- the upload's differences, pushed up the hierarchy --------------------------------------------
    def _closure(self, regions) -> pd.DataFrame:
        h = self.hierarchy
        pairs = [(r, r) for r in regions if r in h]
        pairs += [(r, a.code) for r in regions if r in h for a in h.ancestors(r)]
        return pd.DataFrame(pairs, columns=["region_code", "ancestor"])

    def _deltas(self, facts: pd.DataFrame) -> pd.DataFrame:
        cat = self.catalog
        f = facts[KEY + ["value", "old"]].copy()
        agg = f["element_code"].map({e.code: e.aggregation for e in cat.elements.values()})
        old0 = f["old"].fillna(0.0)
        f["d_value_sum"], f["d_weight_sum"] = f["value"] - old0, 0.0
        f["d_n_facts"] = f["old"].isna().astype(float)
        weighted = (agg == "weighted_mean").to_numpy()
        if weighted.any():
            wcode = f["element_code"].map({e.code: e.weight for e in cat.elements.values()})
            wkeys = f[weighted][["region_code", "period"]].assign(element_code=wcode[weighted].to_numpy())
            w = self._values(wkeys, facts)
            f.loc[weighted, "d_value_sum"] = (f.loc[weighted, "value"].to_numpy() - old0[weighted].to_numpy()) * w
            f.loc[weighted, "d_weight_sum"] = np.where(f.loc[weighted, "old"].isna(), w, 0.0)
        own = f[(agg == "none").to_numpy()][KEY + ["d_value_sum", "d_weight_sum", "d_n_facts"]]
        summed = f[(agg != "none").to_numpy()]
        closure = self._closure(summed["region_code"].unique())
        up = summed.merge(closure, on="region_code").drop(columns=["region_code"]).rename(
            columns={"ancestor": "region_code"})
        parts = [up[KEY + ["d_value_sum", "d_weight_sum", "d_n_facts"]], own, self._coverage(summed)]
        out = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else up
        return out.groupby(KEY, as_index=False)[["d_value_sum", "d_weight_sum", "d_n_facts"]].sum()

    def _values(self, keys: pd.DataFrame, facts: pd.DataFrame) -> np.ndarray:
        """Values of ``keys``: from the upload, else the store's current value, else NaN."""
        from metrics.ingest import adapter
        in_file = keys.merge(facts[KEY + ["value"]], on=KEY, how="left")["value"].to_numpy(dtype=float)
        stored = adapter.current_values(self.store, keys[KEY])
        stored = keys.merge(stored[KEY + ["value"]], on=KEY, how="left")["value"].to_numpy(dtype=float)
        return np.where(np.isnan(in_file), stored, in_file)

    def _coverage(self, summed: pd.DataFrame) -> pd.DataFrame:
        """Coverage elements (``element@level``): a unit counts when its sub-tree total is > 0."""
        specs = {(i.formula["element"], i.formula["level"]) for i in self.catalog.indicators.values()
                 if i.kind == "coverage"}
        h, rows = self.hierarchy, []
        for element, level in specs:
            mine = summed[summed["element_code"] == element]
            if mine.empty:
                continue
            unit_of = {r: next((x.code for x in h.path(r) if x.level == level), None)
                       for r in mine["region_code"].unique() if r in h}
            d = mine.assign(unit=mine["region_code"].map(unit_of)).dropna(subset=["unit"])
            d = d.groupby(["unit", "period"], as_index=False)["d_value_sum"].sum()
            for period, grp in d.groupby("period"):
                base = self.store.rollup_arrays(grp["unit"].tolist(), [element], period, period)
                before = dict(zip(base["region_code"].tolist(), np.asarray(base["value_sum"], dtype=float)))
                for unit, dv in zip(grp["unit"], grp["d_value_sum"]):
                    b = before.get(unit, 0.0)
                    change = float(b + dv > 0) - float(b > 0)
                    if change:
                        for anc in [unit] + [a.code for a in h.ancestors(unit)]:
                            rows.append((anc, f"{element}@{level}", period, change, 0.0, 0.0))
        return pd.DataFrame(rows, columns=KEY + ["d_value_sum", "d_weight_sum", "d_n_facts"])
