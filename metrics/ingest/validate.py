"""Validation of an upload, column-wise (no Python loop per row): DESIGN.md "Ingest rules".

``validate_bytes`` reads the file (``read``), resolves regions, elements and quarters (one
look-up per distinct value, then mapped onto every row), parses numbers and applies the row
and cross-row checks. The result is a ``Report``: errors and warnings with Excel row numbers,
and the facts that would be published.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from metrics import periods
from metrics.catalog import Catalog, Element
from metrics.ingest import report as rp
from metrics.ingest.read import ElementMatcher, RawUpload, UnreadableFile, read_sheets, to_long
from metrics.ingest.text import TEXT
from metrics.regions import Hierarchy

KEY = ["region_code", "element_code", "period"]
CurrentValues = Callable[[pd.DataFrame], pd.DataFrame]   # keys -> keys + value
_NUM_STRIP = r"[\s,_']"


@dataclass
class Rules:
    """What the checks need besides the file."""
    catalog: Catalog
    hierarchy: Hierarchy
    current_values: CurrentValues | None = None
    locked: frozenset[str] = frozenset()
    parent: str | None = None
    last_period: str | None = None          # the latest quarter that has ended (default: today's)
    large_change_factor: float = 3.0
    max_mb: float = 50
    max_rows: int = 2_000_000


def bounds(element: Element) -> tuple[float | None, float | None]:
    """Allowed range: growth rates are free; other rates 0–100; every other quantity ≥ 0."""
    if "增速" in element.name_zh or "增长率" in element.name_zh or "growth" in element.code:
        return None, None
    if element.percent:
        return 0.0, 100.0
    return 0.0, None


def ratio_pairs(catalog: Catalog) -> pd.DataFrame:
    """(numerator, denominator) of every share-type ratio indicator: the part cannot exceed the whole."""
    pairs = {(i.formula["numerator"], i.formula["denominator"]) for i in catalog.indicators.values()
             if i.bounded and i.formula.get("scale", 100) == 100}   # gross rates may exceed 100
    return pd.DataFrame(sorted(pairs), columns=["num", "den"])


def _map_unique(series: pd.Series, resolve: Callable[[str], tuple[str | None, str | None]]
                ) -> tuple[np.ndarray, np.ndarray, PerValue]:
    """Resolve each distinct value once; return (resolved, error code) arrays for every row, and
    a ``PerValue`` of the resolved values (further look-ups without factorising again)."""
    idx, uniques = pd.factorize(series, use_na_sentinel=False)
    out = [resolve(u) for u in uniques]
    resolved = np.array([o[0] for o in out] + [None], dtype=object)
    errs = np.array([o[1] for o in out] + [None], dtype=object)[idx]
    return resolved[idx], errs, PerValue(idx, list(resolved[:-1]))


class PerValue:
    """``table[value]`` for every row, each distinct value looked up once: the rows factorised
    once for all the tables looked up (2.3·10⁶ strings at national scale, ~0.15 s a time)."""

    def __init__(self, idx: np.ndarray, uniques: list):
        self.idx, self.uniques = idx, uniques

    @classmethod
    def of(cls, values) -> PerValue:
        idx, uniques = pd.factorize(pd.Series(np.asarray(values, dtype=object), dtype=object), use_na_sentinel=False)
        return cls(idx, list(uniques))

    def __call__(self, table: dict, default=False) -> np.ndarray:
        return np.array([table.get(u, default) for u in self.uniques] + [default])[self.idx]


_REGION_LOOKUPS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _region_lookup(hierarchy: Hierarchy, parent: str | None) -> tuple[frozenset[str], dict[str, list[str]]]:
    """The codes and names in scope, kept while the hierarchy lives (it never changes once made;
    building these for 5·10⁵ regions took ~0.5 s of every national-scale validation)."""
    per_parent = _REGION_LOOKUPS.setdefault(hierarchy, {})
    if parent not in per_parent:
        per_parent[parent] = _region_scope(hierarchy, parent)
    return per_parent[parent]


def _region_scope(hierarchy: Hierarchy, parent: str | None) -> tuple[frozenset[str], dict[str, list[str]]]:
    if parent:
        scope = [hierarchy[parent]] + hierarchy.descendants(parent)
    else:
        scope = list(hierarchy.by_code.values())
    names: dict[str, list[str]] = {}
    for r in scope:
        names.setdefault(r.name, []).append(r.code)
    return frozenset(r.code for r in scope), names


def region_resolver(hierarchy: Hierarchy, parent: str | None) -> Callable[[str], tuple[str | None, str | None]]:
    codes, names = _region_lookup(hierarchy, parent or None)

    def resolve(raw: str) -> tuple[str | None, str | None]:
        s = str(raw).strip()
        if re.fullmatch(r"\d+\.0", s):
            s = s[:-2]
        if s in codes:
            return s, None
        found = names.get(s, [])
        if len(found) == 1:
            return found[0], None
        return None, ("ambiguous_region_name" if found else "unknown_region")
    return resolve


def _parse_period(raw: str) -> tuple[str | None, str | None]:
    try:
        return periods.parse_period(raw), None
    except ValueError:
        return None, "bad_period"


def parse_numbers(raw: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Text → (value, had %, parsed ok): ``1,234``, ``85%``, full-width ``８５``, spaces.

    Plain numbers parse directly; only the cells that do not are normalised and cleaned."""
    value = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, copy=True)
    pct = np.zeros(len(raw), dtype=bool)
    todo = np.flatnonzero(np.isnan(value))
    if len(todo):
        s = raw.iloc[todo].astype(str)
        wide = ~s.str.isascii().to_numpy(dtype=bool)
        if wide.any():
            s = s.where(~wide, s[wide].str.normalize("NFKC"))
        arr = pc.replace_substring_regex(pa.array(s.to_numpy(dtype=object), type=pa.string()), _NUM_STRIP, "")
        pct[todo] = pc.ends_with(arr, "%").to_numpy(zero_copy_only=False).astype(bool)
        arr = pc.replace_substring_regex(arr, "%$", "")
        value[todo] = pd.to_numeric(pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object),
                                    errors="coerce").to_numpy(dtype=float)
    return value, pct, np.isfinite(value)


def validate_bytes(data: bytes, source_name: str, rules: Rules) -> rp.Report:
    """Read and validate one uploaded file. Never raises for bad input: the report says what is wrong."""
    report = rp.Report(source_name=source_name, sha256=hashlib.sha256(data).hexdigest())
    size_mb = len(data) / 1e6
    try:
        if size_mb > rules.max_mb:
            raise UnreadableFile("msg_too_large", value=f"{size_mb:.1f}", other=rules.max_mb)
        raw = to_long(read_sheets(data), rules.catalog)
        if raw.rows_read > rules.max_rows:
            raise UnreadableFile("msg_too_many_rows", value=raw.rows_read, other=rules.max_rows)
    except UnreadableFile as exc:
        values = {"value": source_name, **{k: str(v) for k, v in exc.values.items()}}
        zh, en = TEXT[exc.key]
        report.fatal = rp.fill(zh, 1, **values)[0]
        report.fatal_en = rp.fill(en, 1, **values)[0]
        return report
    return validate_raw(raw, report, rules)


def validate_raw(raw: RawUpload, report: rp.Report, rules: Rules) -> rp.Report:
    cat, v = rules.catalog, raw.values
    report.layout, report.rows_read = raw.layout, raw.rows_read
    report.ignored = raw.ignored + len(raw.totals)
    errors: list[pd.DataFrame] = []
    warnings: list[pd.DataFrame] = []
    for sheet, row, col in raw.missing:
        errors.append(rp.issues("missing_column", row=[row], column=col, sheet=sheet, value=col))
    for sheet, row, label in raw.unknown_headers:
        errors.append(rp.issues("unknown_element", row=[row], column=label, sheet=sheet, value=label))
    if len(raw.totals):
        t = raw.totals
        warnings.append(rp.issues("skipped_totals_row", row=t["row"], column=t["column"], sheet=t["sheet"],
                                  value=t["value"]))

    region, region_err, _ = _map_unique(v["region"], region_resolver(rules.hierarchy, rules.parent))
    matcher = ElementMatcher(cat)
    element, element_err, per_element = _map_unique(
        v["element"], lambda s: (c := matcher.match(s), None if c else "unknown_element"))
    period, period_err, _ = _map_unique(v["period"].astype(str).str.strip(), _parse_period)
    value, pct, parsed = parse_numbers(v["value"])
    bad = np.zeros(len(v), dtype=bool)

    def flag(code: str, mask: np.ndarray, column: pd.Series, **values) -> None:
        nonlocal bad
        if mask.any():
            m = pd.Series(mask, index=v.index)
            errors.append(rp.issues(code, row=v["row"][m], column=column[m], sheet=v["sheet"][m],
                                    **{k: (x[m] if isinstance(x, pd.Series) else x) for k, x in values.items()}))
            bad |= mask

    for code in ("unknown_region", "ambiguous_region_name"):
        flag(code, region_err == code, v["region_column"], value=v["region"])
    flag("unknown_element", element_err == "unknown_element", v["element_column"], value=v["element"])
    period_column = v["period_column"]
    flag("bad_period", period_err == "bad_period", period_column, value=v["period"])
    last = rules.last_period or periods.last_complete_quarter()
    period_s = pd.Series(period, index=v.index, dtype=object)
    flag("future_period", (period_s > last).to_numpy() & (period_err != "bad_period"), period_column, value=period_s)
    flag("period_locked", period_s.isin(rules.locked).to_numpy(), period_column, value=period_s)

    percent = per_element({e.code: e.percent for e in cat.elements.values()}).astype(bool)
    nan = float("nan")
    lo = per_element({e.code: (bounds(e)[0] if bounds(e)[0] is not None else nan)
                      for e in cat.elements.values()}, nan).astype(float)
    hi = per_element({e.code: (bounds(e)[1] if bounds(e)[1] is not None else nan)
                      for e in cat.elements.values()}, nan).astype(float)
    flag("not_a_number", ~parsed | (pct & ~percent & (element_err != "unknown_element")), v["column"], value=v["value"])
    with np.errstate(invalid="ignore"):
        flag("rate_out_of_range", parsed & percent & ((value < lo) | (value > hi)), v["column"], value=v["value"])
        flag("negative_value", parsed & ~percent & (value < lo), v["column"], value=v["value"])

    coder = KeyCoder(rules.hierarchy, cat)
    resolved = (region_err == None) & (element_err == None) & (period_err == None)  # noqa: E711
    keys = np.where(resolved, coder.encode(region, element, period), -1)
    facts = pd.DataFrame({"region_code": _obj(region), "element_code": _obj(element), "period": _obj(period),
                          "value": value, "row": v["row"].to_numpy(), "sheet": _obj(v["sheet"]),
                          "column": _obj(v["column"]), "key": keys})
    rk = pd.Series(keys[resolved])
    dup = rk.duplicated(keep=False).to_numpy()
    if dup.any():
        rows = v["row"].to_numpy()[resolved][dup]
        first = pd.Series(rows).groupby(rk[dup].to_numpy()).transform("min").to_numpy()
        later = (rows != first) | pd.Series(rk[dup].to_numpy() * 10_000_000 + rows).duplicated().to_numpy()
        mask = np.zeros(len(v), dtype=bool)
        mask[np.flatnonzero(resolved)[np.flatnonzero(dup)[later]]] = True
        first_of = pd.Series("", index=v.index, dtype=object)
        first_of[mask] = first[later].astype(str)
        flag("duplicate_row", mask, v["column"], first=first_of)

    ok = ~bad
    good = facts[ok]
    pairs = [(coder.element_id[a], coder.element_id[b]) for a, b in ratio_pairs(cat).itertuples(index=False)]
    current = _lookup_current(rules, coder, good, pairs)
    if len(good) and pairs:
        good_pos = np.flatnonzero(ok)
        for frame, positions in _ratio_errors(good, current, pairs, coder, cat):
            errors.append(frame)
            ok[good_pos[positions]] = False

    report.errors = rp.concat_issues(errors)
    report.facts = facts[ok].reset_index(drop=True)
    report.current = current
    if report.errors.empty and len(report.facts):
        warnings += _warnings(report, current, rules)
    report.warnings = rp.concat_issues(warnings)
    return report


class KeyCoder:
    """(region, element, quarter) as one int64, so cross-row look-ups are integer hash look-ups:
    ``(region_id * n_elements + element_id) * 4096 + quarter_id`` (quarter_id counts from 1900Q1)."""

    P = 4096
    BASE = 1900 * 4

    def __init__(self, hierarchy: Hierarchy, catalog: Catalog):
        self.regions = np.array(list(hierarchy.by_code), dtype=object)
        self.elements = np.array(list(catalog.elements), dtype=object)
        self.region_index = pd.Index(self.regions)
        self.element_index = pd.Index(self.elements)
        self.element_id = {c: i for i, c in enumerate(self.elements)}
        self.n_el = len(self.elements)

    def encode(self, region, element, period) -> np.ndarray:
        ri = self.region_index.get_indexer(pd.Index(region, dtype=object))
        ei = self.element_index.get_indexer(pd.Index(element, dtype=object))
        idx, uniq = pd.factorize(pd.Series(period, dtype=object), use_na_sentinel=False)
        pids = np.array([periods.to_index(p) - self.BASE if isinstance(p, str) else -1 for p in uniq] + [-1],
                        dtype=np.int64)
        pi = pids[idx]
        out = (ri.astype(np.int64) * self.n_el + ei) * self.P + pi
        return np.where((ri >= 0) & (ei >= 0) & (pi >= 0), out, -1)

    def decode(self, keys: np.ndarray, categorical: bool = False) -> pd.DataFrame:
        """Keys back to (region_code, element_code, period): object strings, or ``categorical``
        columns (an integer per row: for the millions of keys a look-up in the store needs)."""
        keys = np.asarray(keys, dtype=np.int64)
        pi, rest = keys % self.P, keys // self.P
        uniq, inv = np.unique(pi, return_inverse=True)
        labels = np.array([periods.from_index(int(p) + self.BASE) for p in uniq], dtype=object)
        if categorical:
            return pd.DataFrame({
                "region_code": pd.Categorical.from_codes(rest // self.n_el, categories=pd.Index(self.regions)),
                "element_code": pd.Categorical.from_codes(rest % self.n_el, categories=pd.Index(self.elements)),
                "period": pd.Categorical.from_codes(inv.astype(np.int64), categories=pd.Index(labels))})
        return pd.DataFrame({"region_code": _obj(self.regions[rest // self.n_el]),
                             "element_code": _obj(self.elements[rest % self.n_el]), "period": _obj(labels[inv])})

    def element_delta(self, a: int, b: int) -> int:
        return (b - a) * self.P


class KeyTable:
    """Values by int64 key (keys unique), sorted once; look-ups are a vectorised binary search."""

    def __init__(self, keys: np.ndarray, values: np.ndarray):
        order = np.argsort(keys, kind="stable")
        self.keys = np.asarray(keys, dtype=np.int64)[order]
        self.values = np.asarray(values, dtype=float)[order]

    @classmethod
    def of(cls, frame: pd.DataFrame) -> KeyTable:
        return cls(frame["key"].to_numpy(dtype=np.int64), frame["value"].to_numpy(dtype=float))

    def get(self, keys: np.ndarray) -> np.ndarray:
        if not len(self.keys):
            return np.full(len(keys), np.nan)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return np.where(self.keys[pos] == keys, self.values[pos], np.nan)


def lookup(keys: np.ndarray, table: pd.DataFrame | KeyTable) -> np.ndarray:
    """Values of ``table`` (columns key, value; keys unique) at ``keys``, NaN where absent."""
    return (table if isinstance(table, KeyTable) else KeyTable.of(table)).get(np.asarray(keys, dtype=np.int64))


def _lookup_current(rules: Rules, coder: KeyCoder, good: pd.DataFrame, pairs: list[tuple[int, int]]) -> pd.DataFrame:
    """Current store values of the file's keys, last quarter's keys and ratio partners (one call)."""
    gk = good["key"].to_numpy()
    if rules.current_values is None:
        return pd.DataFrame({"key": np.array([], dtype=np.int64), "value": np.array([], dtype=float)})
    eid = (gk // coder.P) % coder.n_el
    parts = [gk, gk - 1]
    for num, den in pairs:
        parts.append(gk[eid == num] + coder.element_delta(num, den))
        parts.append(gk[eid == den] + coder.element_delta(den, num))
    needed = pd.unique(np.concatenate(parts)) if len(gk) else np.array([], dtype=np.int64)
    frame = coder.decode(needed, categorical=True)
    if rules.current_values is None or frame.empty:
        return frame.assign(value=np.nan, key=needed)
    got = rules.current_values(frame)     # one row per key, in the keys' order (they are unique)
    found = got["value"].notna().to_numpy()
    if len(got) == len(needed):
        return pd.DataFrame({"key": needed[found], "value": got["value"].to_numpy(dtype=float)[found]})
    got = got[found]                      # a source that does not keep the order: encode again
    return pd.DataFrame({"key": coder.encode(np.asarray(got["region_code"], dtype=object),
                                             np.asarray(got["element_code"], dtype=object),
                                             np.asarray(got["period"], dtype=object)),
                         "value": got["value"].to_numpy(dtype=float)})


def _ratio_errors(good: pd.DataFrame, current: pd.DataFrame, pairs: list[tuple[int, int]], coder: KeyCoder,
                  cat: Catalog):
    """The part cannot exceed the whole: numerator vs denominator, in the file or already published."""
    names = {e.code: e.name_zh for e in cat.elements.values()}
    gk, value = good["key"].to_numpy(), good["value"].to_numpy(dtype=float)
    eid = (gk // coder.P) % coder.n_el
    in_file, current = KeyTable(gk, value), KeyTable.of(current)
    for num, den in pairs:
        pos = np.flatnonzero(eid == num)
        if len(pos):
            partner = gk[pos] + coder.element_delta(num, den)
            from_file = lookup(partner, in_file)
            whole = np.where(np.isnan(from_file), lookup(partner, current), from_file)
            over = pos[value[pos] > whole * (1 + 1e-9) + 1e-9]
            if len(over):
                f = good.iloc[over]
                stored = np.isnan(from_file[np.isin(pos, over)])
                other = names[coder.elements[den]] + pd.Series(np.where(stored, "（已发布）", ""), index=f.index)
                yield (rp.issues("numerator_exceeds_denominator", row=f["row"], column=f["column"], sheet=f["sheet"],
                                 value=f["value"], other=other), over)
        pos = np.flatnonzero(eid == den)
        if len(pos):
            partner = gk[pos] + coder.element_delta(den, num)
            part_stored = np.where(np.isnan(lookup(partner, in_file)), lookup(partner, current), np.nan)
            under = pos[part_stored > value[pos] * (1 + 1e-9) + 1e-9]
            if len(under):
                f = good.iloc[under]
                yield (rp.issues("numerator_exceeds_denominator", row=f["row"], column=f["column"], sheet=f["sheet"],
                                 key="msg_denominator_below_numerator", value=f["value"],
                                 other=names[coder.elements[num]]), under)


def _warnings(report: rp.Report, current: pd.DataFrame, rules: Rules) -> list[pd.DataFrame]:
    """large_change and decreasing_cumulative against last quarter (in the file, else in the store)."""
    cat, facts = rules.catalog, report.facts
    keys = facts["key"].to_numpy()
    in_file, current = KeyTable.of(facts), KeyTable.of(current)
    from_file = lookup(keys - 1, in_file)
    prev_value = np.where(np.isnan(from_file), lookup(keys - 1, current), from_file)
    value = facts["value"].to_numpy(dtype=float)
    per_element = PerValue.of(facts["element_code"])
    stock = per_element({e.code: e.temporal == "stock" for e in cat.elements.values()})
    cumulative = per_element({e.code: e.cumulative for e in cat.elements.values()})
    out = []
    factor = float(rules.large_change_factor)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(prev_value > 0, value / prev_value, np.nan)
        large = stock & (prev_value > 0) & ((ratio > factor) | (ratio < 1 / factor))
        decreasing = cumulative & (value < prev_value)
    for code, mask in (("large_change", large & ~decreasing), ("decreasing_cumulative", decreasing)):
        if mask.any():
            f = facts[mask]
            out.append(rp.issues(code, row=f["row"], column=f["column"], sheet=f["sheet"],
                                 value=f["value"], other=pd.Series(prev_value[mask], index=f.index)))
    return out


def _obj(values) -> pd.Series:
    """Object-dtype strings: no conversion to Arrow strings for frames that only carry them."""
    return pd.Series(np.asarray(values, dtype=object), dtype=object)


