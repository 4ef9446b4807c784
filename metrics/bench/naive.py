"""The naive way, for comparison: pandas reads the fact Parquet and groups up the hierarchy on
every call (no rollups). A drop-in for ``Store`` in ``metrics.query``: same answers, no index.

It reads the Parquet with the filters ``pd.read_parquet(filters=...)`` would take: period,
element, and the code range of the regions asked for (codes are hierarchical). ``chunked``, it
reads one chunk at a time — a quarter of one code range between two children of the root (a
province at national scale) — and adds up the chunks' partial sums, as a pandas user must whose
facts do not fit in memory: the nation's 6·10⁸ facts would need ~50 GB as one frame. A key's
rows (one per snapshot) and a coverage unit's whole subtree fall in one chunk, so the sums are
exact.
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
    def __init__(self, dataset: ds.Dataset, catalog: Catalog, hierarchy: Hierarchy, store,
                 last_quarters: int | None = None, chunked: bool = False):
        """``chunked``: read one chunk at a time, for facts that do not fit in memory as one frame
        (the nation's top); else everything asked for in one read. ``last_quarters``: read only
        the latest quarters of every range asked for — answers cut short, timed as a lower bound
        where the whole would take too long (the nation's top)."""
        self.dataset, self.catalog, self.hierarchy, self._store = dataset, catalog, hierarchy, store
        self.last_quarters, self.chunked = last_quarters, chunked
        order = hierarchy.in_order()
        self.codes = pd.Index([r.code for r in order])
        self.order_end = np.array([r.order_end for r in order])
        self.level = np.array([r.level for r in order])
        # the chunks' code ranges: [lo, hi) between the first codes of the root's children's subtrees
        starts = sorted(min(self.codes[self.codes.get_loc(c.code):self.order_end[self.codes.get_loc(c.code)]])
                        for c in hierarchy.children(hierarchy.root.code))
        edges = [None, *starts[1:], None]
        self.bounds = list(zip(edges[:-1], edges[1:]))
        self._units: dict[str, np.ndarray] = {}

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
        periods = [p for p in self._store.periods_with_data()
                   if (not period_from or p >= period_from) and (not period_to or p <= period_to)]
        if self.last_quarters:
            periods = periods[-self.last_quarters:]
        parts = []
        # only the chunks whose code range meets the regions' (a county's lies in one)
        chunks = [(lo, hi) for lo, hi in self.bounds
                  if (lo is None or lo <= hi_code) and (hi is None or hi > lo_code)]
        reads = [((period,), lo, hi) for period in periods for lo, hi in chunks] if self.chunked \
            else [(tuple(periods), None, None)]
        for quarters, lo, hi in reads:
            chunk = flt & pc.field("period").isin(list(quarters))
            if lo is not None:
                chunk &= pc.field("region_code") >= lo
            if hi is not None:
                chunk &= pc.field("region_code") < hi
            table = self.dataset.to_table(columns=["region_code", "element_code", "period", "value",
                                                   "snapshot_id"], filter=chunk)
            if table.num_rows:
                parts.append(self._chunk(table.to_pandas(), region_codes, plain, coverage))
        if not parts:
            return empty_arrays()
        partial = pd.concat(parts, ignore_index=True)
        g = partial.groupby(["region_code", "element_code", "period"], sort=True)
        frame = pd.DataFrame({"value_sum": g["value_sum"].sum(min_count=1),
                              "weight_sum": g["weight_sum"].sum(min_count=1),
                              "n_facts": g["n_facts"].sum(), "snapshot_id": g["snapshot_id"].max()})
        # coverage's weight is the number of units under the region, the same in every chunk
        is_coverage = frame.index.get_level_values("element_code").str.contains("@", regex=False)
        frame.loc[is_coverage, "weight_sum"] = g["weight_sum"].max()[is_coverage]
        frame = frame.reset_index()
        return {c: (frame[c].to_numpy(dtype=object) if i < 3 else frame[c].to_numpy(dtype=float))
                for i, c in enumerate(ROLLUP_COLUMNS)}

    def _chunk(self, facts: pd.DataFrame, region_codes, plain, coverage) -> pd.DataFrame:
        """The partial rollup rows of one chunk of facts."""
        facts = facts.sort_values("snapshot_id").drop_duplicates(["region_code", "element_code", "period"],
                                                                 keep="last")
        facts["pos"] = self.codes.get_indexer(facts["region_code"])
        facts = facts[facts["pos"] >= 0]
        out = []
        for code in region_codes:
            lo = self.codes.get_loc(code)
            sub = facts[(facts["pos"] >= lo) & (facts["pos"] < self.order_end[lo])]
            if not sub.empty:
                out.append(self._one(code, sub, plain, coverage))
        return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=list(ROLLUP_COLUMNS))

    def _unit_of(self, level: str) -> np.ndarray:
        """For every region (by position), the unit at ``level`` whose subtree holds it, or -1."""
        if level not in self._units:
            units = np.flatnonzero(self.level == level)          # disjoint subtrees, in order
            lengths = self.order_end[units] - units
            inside = np.zeros(len(self.codes) + 1, dtype=np.int64)
            np.add.at(inside, units, 1)
            np.add.at(inside, self.order_end[units], -1)
            unit_of = np.full(len(self.codes), -1)
            unit_of[np.cumsum(inside)[:-1] > 0] = np.repeat(units, lengths)
            self._units[level] = unit_of
        return self._units[level]

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
            n_units = int(np.count_nonzero(self.level[lo:self.order_end[lo]] == level))
            if not n_units:
                continue
            unit_of = self._unit_of(level)
            part = part.assign(unit=unit_of[part["pos"].to_numpy()])
            totals = part[part["unit"] >= 0].groupby(["period", "unit"])["value"].sum()
            g = totals.groupby("period")
            agg = pd.DataFrame({"value_sum": g.apply(lambda s: float((s > 0).sum())),
                                "weight_sum": float(n_units), "n_facts": g.size(),
                                "snapshot_id": part.groupby("period")["snapshot_id"].max()})
            rows.append(agg.reset_index().assign(region_code=code, element_code=f"{el}@{level}"))
        if not rows:
            return pd.DataFrame(columns=list(ROLLUP_COLUMNS))
        return pd.concat(rows, ignore_index=True)[list(ROLLUP_COLUMNS)]
