"""Indicator values from the rollups: element matrix → indicator columns → per-key series.

Reads only the precomputed rollups (``Store.rollup_arrays``): one query per call, however many
indicators. Ratios are ratios of summed numerators and denominators at every level, computed as
column arithmetic over numpy arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress

import numpy as np
import pandas as pd

from metrics import periods
from metrics.catalog import Catalog, Indicator
from metrics.store import Store


def rollup_code(indicator: Indicator) -> list[str]:
    """The rollup element codes an indicator reads."""
    f = indicator.formula
    if f["type"] == "coverage":
        return [f"{f['element']}@{f['level']}"]
    return indicator.elements()


@dataclass
class ElementMatrix:
    """Element values for (region, quarter) keys: one row per key, one column per element."""
    regions: list[str]
    quarters: list[str]
    columns: dict[str, int]
    values: np.ndarray

    def col(self, code: str) -> np.ndarray:
        j = self.columns.get(code)
        return self.values[:, j] if j is not None else np.full(len(self.regions), np.nan)


def element_values(rows: dict[str, np.ndarray], catalog: Catalog) -> ElementMatrix:
    """Rollup rows → element values (weighted means divided out, coverage as a %)."""
    codes = rows["element_code"]
    r_idx, r_uni = pd.factorize(rows["region_code"])
    p_idx, p_uni = pd.factorize(rows["period"])
    key_idx, key_uni = pd.factorize(r_idx.astype(np.int64) * max(len(p_uni), 1) + p_idx)
    col_idx, col_uni = pd.factorize(codes)
    columns = {c: j for j, c in enumerate(col_uni.tolist())}
    weighted_codes = {e.code for e in catalog.elements.values() if e.aggregation == "weighted_mean"}
    coverage = np.fromiter(("@" in c for c in columns), dtype=bool, count=len(columns))
    weighted = coverage | np.fromiter((c in weighted_codes for c in columns), dtype=bool, count=len(columns))
    value_sum = rows["value_sum"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(weighted[col_idx], value_sum / rows["weight_sum"].astype(float)
                     * np.where(coverage[col_idx], 100.0, 1.0), value_sum)
    matrix = np.full((len(key_uni), len(columns)), np.nan)
    matrix[key_idx, col_idx] = v
    n_p = max(len(p_uni), 1)
    regions = np.asarray(r_uni, dtype=object)[key_uni // n_p].tolist()
    quarters = np.asarray(p_uni, dtype=object)[key_uni % n_p].tolist()
    return ElementMatrix(regions, quarters, columns, matrix)


def compute_indicators(m: ElementMatrix, indicators: list[Indicator]) -> pd.DataFrame:
    """Long frame: region_code, period, indicator, value (column arithmetic, no per-row Python)."""
    n = len(m.regions)
    if n == 0:
        return pd.DataFrame(columns=["region_code", "period", "indicator", "value"])
    prev_pos = None
    codes, values = [], []
    for ind in indicators:
        f = ind.formula
        with np.errstate(divide="ignore", invalid="ignore"):
            if f["type"] == "ratio":
                den = m.col(f["denominator"])
                v = m.col(f["numerator"]) / np.where(den != 0, den, np.nan) * f.get("scale", 100)
            elif f["type"] == "yoy_growth":
                if prev_pos is None:
                    where = {k: i for i, k in enumerate(zip(m.regions, m.quarters))}
                    prev_pos = np.fromiter((where.get((r, periods.shift(p, -4)), -1)
                                            for r, p in zip(m.regions, m.quarters)), dtype=np.int64, count=n)
                cur = m.col(f["element"])
                prev = np.where(prev_pos >= 0, cur[prev_pos], np.nan)
                v = (cur / np.where(prev != 0, prev, np.nan) - 1) * 100
            else:  # value, coverage
                v = m.col(rollup_code(ind)[0])
        codes.append(ind.code)
        values.append(v)
    all_values = np.concatenate(values)
    keep = np.isfinite(all_values)
    regions = np.array(m.regions, dtype=object)
    quarters = np.array(m.quarters, dtype=object)
    return pd.DataFrame({
        "region_code": np.tile(regions, len(codes))[keep],
        "period": np.tile(quarters, len(codes))[keep],
        "indicator": np.repeat(np.array(codes, dtype=object), n)[keep],
        "value": all_values[keep],
    })


def indicator_values(store: Store, region_codes: list[str], indicator_codes: list[str] | None = None,
                     period_from: str | None = None, period_to: str | None = None) -> pd.DataFrame:
    """Indicator values for regions over a quarter range (long: region_code, period, indicator, value)."""
    cat = store.catalog
    indicators = [cat.indicators[c] for c in (indicator_codes or list(cat.indicators))]
    codes = sorted({c for ind in indicators for c in rollup_code(ind)})
    needs_lag = any(ind.kind == "yoy_growth" for ind in indicators)
    first = periods.shift(period_from, -4) if (period_from and needs_lag) else period_from
    rows = store.rollup_arrays(region_codes, codes, first, period_to)
    values = compute_indicators(element_values(rows, cat), indicators)
    if period_from:
        values = values[values["period"] >= period_from]
    return values.reset_index(drop=True)


# -- the pages' path: one (indicator × region × quarter) array per call ------------------------------
@dataclass
class IndicatorGrid:
    """Indicator values on a grid: ``values[k, i, j]`` is indicator ``codes[k]`` for ``regions[i]``
    at ``quarters[j]`` (consecutive, ascending), NaN where there is no finite value."""
    regions: list[str]
    quarters: list[str]
    codes: list[str]
    values: np.ndarray


class Points(Sequence):
    """One grid row's (quarter, value) points where the value is not NaN, made into a list the
    first time they are read. A page call holds one per region and indicator (4·10³ at the
    nation's top) and reads few of them: building every list (and freeing it) was ~15 % of the
    call. Pickled or copied, it is the list itself."""

    __slots__ = ("_grid", "_i", "_list")

    def __init__(self, grid: tuple, i: int):
        self._grid, self._i, self._list = grid, i, None

    def _points(self) -> list[tuple[str, float]]:
        if self._list is None:
            qs, values, have, whole = self._grid
            row = values[self._i].tolist()
            self._list = list(zip(qs, row)) if whole[self._i] else list(compress(zip(qs, row), have[self._i].tolist()))
            self._grid = None
        return self._list

    def last_at(self, period: str) -> float | None:
        """The value at ``period`` when it is the last point (read without building the list)."""
        if self._list is not None:
            return self._list[-1][1] if self._list and self._list[-1][0] == period else None
        qs, values, have, _ = self._grid
        return float(values[self._i, -1]) if qs and qs[-1] == period and have[self._i, -1] else None

    def __getitem__(self, k):
        return self._points()[k]

    def __len__(self) -> int:
        return len(self._points())

    def __iter__(self):
        return iter(self._points())

    def __eq__(self, other) -> bool:
        return self._points() == (other._points() if isinstance(other, Points) else other)

    __hash__ = None     # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._points())

    def __reduce__(self):
        return list, (self._points(),)


def series_of(quarters: list[str], values: np.ndarray) -> list[Sequence[tuple[str, float]]]:
    """Each row's (quarter, value) points where the value is not NaN (``Points``, built when
    read). Only the columns between the first and last with any value are kept (a page's grid
    starts at the plan's base, years before most data)."""
    have = ~np.isnan(values)
    cols = have.any(axis=0)
    if not cols.any():
        return [[] for _ in range(len(values))]
    lo, hi = int(cols.argmax()), len(cols) - int(cols[::-1].argmax())
    have = have[:, lo:hi]
    # a copy: the caller's array may change after this returns, the points must not
    grid = (quarters[lo:hi], values[:, lo:hi].copy(), have, have.all(axis=1).tolist())
    return [Points(grid, i) for i in range(len(values))]


def _element_grid(store: Store, region_codes: list[str], codes: list[str], quarters: list[str]) -> np.ndarray:
    """Element values as array[element, region, quarter] (``codes`` order, then one all-NaN slot)
    with the arithmetic of ``element_values`` (weighted means divided out, coverage as a %)."""
    cells = getattr(store, "rollup_cells", None)
    if cells is not None:
        value_sum, weight_sum = cells(region_codes, codes, quarters)
    else:   # a store that only has rows (an upload's preview)
        value_sum, weight_sum = _cells_from_rows(store, region_codes, codes, quarters)
    weighted_codes = _weighted_codes(store.catalog)
    coverage = np.array(["@" in c for c in codes], dtype=bool)
    weighted = coverage | np.array([c in weighted_codes for c in codes], dtype=bool)
    grid = np.full((len(codes) + 1, len(region_codes), len(quarters)), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        grid[:-1] = np.where(weighted[:, None, None], value_sum / weight_sum
                             * np.where(coverage, 100.0, 1.0)[:, None, None], value_sum)
    return grid


def _cells_from_rows(store: Store, region_codes: list[str], codes: list[str], quarters: list[str]
                     ) -> tuple[np.ndarray, np.ndarray]:
    rows = store.rollup_arrays(region_codes, codes, quarters[0], quarters[-1])
    shape = (len(codes), len(region_codes), len(quarters))
    value_sum, weight_sum = np.full(shape, np.nan), np.full(shape, np.nan)
    if not len(rows["element_code"]):
        return value_sum, weight_sum
    at = [{c: i for i, c in enumerate(keys)} for keys in (codes, region_codes, quarters)]
    index = []
    for col, where in zip(("element_code", "region_code", "period"), at):
        idx, uniques = pd.factorize(rows[col])
        index.append(np.array([where.get(u, -1) for u in uniques.tolist()], dtype=np.int64)[idx])
    keep = (index[0] >= 0) & (index[1] >= 0) & (index[2] >= 0)
    e, r, q = (i[keep] for i in index)
    value_sum[e, r, q] = rows["value_sum"].astype(float)[keep]
    weight_sum[e, r, q] = rows["weight_sum"].astype(float)[keep]
    return value_sum, weight_sum


_WEIGHTED: dict[int, tuple[Catalog, frozenset[str]]] = {}


def _weighted_codes(catalog: Catalog) -> frozenset[str]:
    """The weighted-mean element codes of a catalog (cached per catalog object)."""
    hit = _WEIGHTED.get(id(catalog))
    if hit is None or hit[0] is not catalog:
        hit = (catalog, frozenset(e.code for e in catalog.elements.values() if e.aggregation == "weighted_mean"))
        if len(_WEIGHTED) > 16:
            _WEIGHTED.clear()
        _WEIGHTED[id(catalog)] = hit
    return hit[1]


def indicator_grid(store: Store, region_codes: list[str], indicators: list[Indicator],
                   period_from: str, period_to: str) -> IndicatorGrid:
    """Indicator values for regions, ``period_from``..``period_to``, as one array — the same numbers
    as ``indicator_values`` (one rollup query; each kind of indicator is one array operation)."""
    codes = sorted({c for ind in indicators for c in rollup_code(ind)})
    lag = 4 if any(ind.kind == "yoy_growth" for ind in indicators) else 0
    first = periods.shift(period_from, -lag)
    quarters = periods.period_range(first, period_to)
    elements = _element_grid(store, region_codes, codes, quarters)
    columns = {c: i for i, c in enumerate(codes)}
    none = len(codes)                           # the all-NaN slot

    def slots(ks: list[int], key: str) -> list[int]:
        return [columns.get(indicators[k].formula[key], none) for k in ks]

    out = np.empty((len(indicators), len(region_codes), len(quarters) - lag))
    kinds: dict[str, list[int]] = {}
    for k, ind in enumerate(indicators):
        kinds.setdefault(ind.formula["type"], []).append(k)
    with np.errstate(divide="ignore", invalid="ignore"):
        for kind, ks in kinds.items():
            if kind == "ratio":
                den = elements[slots(ks, "denominator")]
                scale = np.array([float(indicators[k].formula.get("scale", 100)) for k in ks])[:, None, None]
                v = elements[slots(ks, "numerator")] / np.where(den != 0, den, np.nan) * scale
            elif kind == "yoy_growth":
                cur = elements[slots(ks, "element")]
                prev = np.full_like(cur, np.nan)
                prev[:, :, 4:] = cur[:, :, :-4]
                v = (cur / np.where(prev != 0, prev, np.nan) - 1) * 100
            else:  # value, coverage
                v = elements[[columns.get(rollup_code(indicators[k])[0], none) for k in ks]]
            out[ks] = v[:, :, lag:]
    out[~np.isfinite(out)] = np.nan
    return IndicatorGrid(list(region_codes), quarters[lag:], [ind.code for ind in indicators], out)
