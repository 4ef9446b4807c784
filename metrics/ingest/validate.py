"""Validation of an upload, column-wise (no Python loop per row): DESIGN.md "Ingest rules".

``validate_bytes`` reads the file (``read``), resolves regions, elements and quarters (one
look-up per distinct value, then mapped onto every row), parses numbers and applies the row
and cross-row checks. The result is a ``Report``: errors and warnings with Excel row numbers,
and the facts that would be published.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics import periods
from metrics.catalog import Catalog, Element
from metrics.ingest import report as rp
from metrics.ingest.read import ElementMatcher, RawUpload, UnreadableFile, read_sheets, to_long
from metrics.ingest.text import TEXT
from metrics.regions import Hierarchy

KEY = ["region_code", "element_code", "period"]
CurrentValues = Callable[[pd.DataFrame], pd.DataFrame]   # keys -> keys + value
_NUM_STRIP = re.compile(r"[\s,_']")


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
             if i.kind == "ratio" and i.formula.get("scale", 100) == 100}
    return pd.DataFrame(sorted(pairs), columns=["num", "den"])


def _map_unique(series: pd.Series, resolve: Callable[[str], tuple[str | None, str | None]]) -> tuple[np.ndarray, np.ndarray]:
    """Resolve each distinct value once; return (resolved, error code) arrays for every row."""
    idx, uniques = pd.factorize(series, use_na_sentinel=False)
    out = [resolve(u) for u in uniques]
    resolved = np.array([o[0] for o in out] + [None], dtype=object)[idx]
    errs = np.array([o[1] for o in out] + [None], dtype=object)[idx]
    return resolved, errs


def region_resolver(hierarchy: Hierarchy, parent: str | None) -> Callable[[str], tuple[str | None, str | None]]:
    if parent:
        scope = [hierarchy[parent]] + hierarchy.descendants(parent)
    else:
        scope = list(hierarchy.by_code.values())
    codes = {r.code for r in scope}
    names: dict[str, list[str]] = {}
    for r in scope:
        names.setdefault(r.name, []).append(r.code)

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
    """Text → (value, had %, parsed ok): ``1,234``, ``85%``, full-width ``８５``, spaces."""
    s = raw.astype(str)
    wide = ~s.str.isascii()
    if wide.any():
        s = s.where(~wide, s[wide].str.normalize("NFKC"))
    s = s.str.replace(_NUM_STRIP, "", regex=True)
    pct = s.str.endswith("%").to_numpy(dtype=bool)
    s = s.str.removesuffix("%")
    value = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
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

    region, region_err = _map_unique(v["region"], region_resolver(rules.hierarchy, rules.parent))
    matcher = ElementMatcher(cat)
    element, element_err = _map_unique(v["element"], lambda s: (c := matcher.match(s), None if c else "unknown_element"))
    period, period_err = _map_unique(v["period"].astype(str).str.strip(), _parse_period)
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
    period_s = pd.Series(period, index=v.index)
    flag("future_period", (period_s > last).to_numpy() & (period_err != "bad_period"), period_column, value=period_s)
    flag("period_locked", period_s.isin(rules.locked).to_numpy(), period_column, value=period_s)

    el_series = pd.Series(element, index=v.index)
    percent = el_series.map({e.code: e.percent for e in cat.elements.values()}).fillna(False).to_numpy(dtype=bool)
    lo = el_series.map({e.code: bounds(e)[0] for e in cat.elements.values()}).to_numpy(dtype=float)
    hi = el_series.map({e.code: bounds(e)[1] for e in cat.elements.values()}).to_numpy(dtype=float)
    flag("not_a_number", ~parsed | (pct & ~percent & (element_err != "unknown_element")), v["column"], value=v["value"])
    with np.errstate(invalid="ignore"):
        flag("rate_out_of_range", parsed & percent & ((value < lo) | (value > hi)), v["column"], value=v["value"])
        flag("negative_value", parsed & ~percent & (value < lo), v["column"], value=v["value"])

    facts = pd.DataFrame({"region_code": region, "element_code": element, "period": period, "value": value,
                          "row": v["row"].to_numpy(), "sheet": v["sheet"].to_numpy(), "column": v["column"].to_numpy()})
    resolved = pd.Series((region_err == None) & (element_err == None) & (period_err == None), index=v.index)  # noqa: E711
    dup = facts[resolved.to_numpy()].duplicated(KEY, keep=False)
    if dup.any():
        d = facts[resolved.to_numpy()][dup.to_numpy()]
        first = d.groupby(KEY, sort=False)["row"].transform("min")
        later = (d["row"] != first).to_numpy() | d.duplicated(KEY + ["row"]).to_numpy()
        mask = np.zeros(len(v), dtype=bool)
        mask[np.flatnonzero(resolved.to_numpy())[np.flatnonzero(dup.to_numpy())[later]]] = True
        first_of = pd.Series(np.nan, index=v.index)
        first_of[mask] = first[later].to_numpy()
        flag("duplicate_row", mask, v["column"], first=first_of.astype("Int64").astype(str))

    ok = ~bad
    good = facts[ok]
    pairs = ratio_pairs(cat)
    current = _lookup_current(rules, good, pairs)
    if len(good) and len(pairs):
        for frame, labels in _ratio_errors(good, current, pairs, cat):
            errors.append(frame)
            ok[v.index.get_indexer(labels)] = False

    report.errors = rp.concat_issues(errors)
    report.facts = facts[ok].reset_index(drop=True)
    report.current = current
    if report.errors.empty and len(report.facts):
        warnings += _warnings(report, current, rules)
    report.warnings = rp.concat_issues(warnings)
    return report


def _partner_keys(good: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    num_side = good.merge(pairs, left_on="element_code", right_on="num")[["region_code", "den", "period"]]
    den_side = good.merge(pairs, left_on="element_code", right_on="den")[["region_code", "num", "period"]]
    return pd.concat([num_side.rename(columns={"den": "element_code"}),
                      den_side.rename(columns={"num": "element_code"})], ignore_index=True)[KEY]


def _lookup_current(rules: Rules, good: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Current store values of the file's keys, last quarter's keys and ratio partners (one call)."""
    prev_of = {p: periods.shift(p, -1) for p in good["period"].unique()}
    keys = pd.concat([good[KEY], good[KEY].assign(period=good["period"].map(prev_of)), _partner_keys(good, pairs)],
                     ignore_index=True).drop_duplicates()
    if rules.current_values is None or keys.empty:
        return keys.assign(value=np.nan)
    return rules.current_values(keys)[KEY + ["value"]]


def _ratio_errors(good: pd.DataFrame, current: pd.DataFrame, pairs: pd.DataFrame, cat: Catalog):
    """The part cannot exceed the whole: numerator vs denominator, in the file or already published."""
    names = {e.code: e.name_zh for e in cat.elements.values()}
    labelled = good.reset_index()
    in_file = good[KEY + ["value"]]
    stored = current.rename(columns={"value": "stored"})
    num = labelled.merge(pairs, left_on="element_code", right_on="num")
    num = num.merge(in_file.rename(columns={"element_code": "den", "value": "den_file"}),
                    on=["region_code", "period", "den"], how="left").merge(
        stored.rename(columns={"element_code": "den", "stored": "den_stored"}), on=["region_code", "period", "den"],
        how="left")
    den_value = num["den_file"].fillna(num["den_stored"])
    over = num[(num["value"] > den_value * (1 + 1e-9) + 1e-9).to_numpy()]
    if len(over):
        other = over["den"].map(names) + np.where(over["den_file"].isna(), "（已发布）", "")
        yield (rp.issues("numerator_exceeds_denominator", row=over["row"], column=over["column"], sheet=over["sheet"],
                         value=over["value"], other=other), over["index"])
    den = labelled.merge(pairs, left_on="element_code", right_on="den")
    den = den.merge(in_file.rename(columns={"element_code": "num", "value": "num_file"}),
                    on=["region_code", "period", "num"], how="left").merge(
        stored.rename(columns={"element_code": "num", "stored": "num_stored"}), on=["region_code", "period", "num"],
        how="left")
    under = den[(den["num_file"].isna() & (den["num_stored"] > den["value"] * (1 + 1e-9) + 1e-9)).to_numpy()]
    if len(under):
        yield (rp.issues("numerator_exceeds_denominator", row=under["row"], column=under["column"],
                         sheet=under["sheet"], key="msg_denominator_below_numerator", value=under["value"],
                         other=under["num"].map(names)), under["index"])


def _warnings(report: rp.Report, current: pd.DataFrame, rules: Rules) -> list[pd.DataFrame]:
    """large_change and decreasing_cumulative against last quarter (in the file, else in the store)."""
    cat, facts = rules.catalog, report.facts
    prev_of = {p: periods.shift(p, -1) for p in facts["period"].unique()}
    prev_keys = facts[KEY].assign(period=facts["period"].map(prev_of))
    in_file = facts[KEY + ["value"]]
    prev = prev_keys.merge(in_file, on=KEY, how="left").merge(
        current.rename(columns={"value": "stored"}), on=KEY, how="left")
    prev_value = prev["value"].fillna(prev["stored"]).to_numpy(dtype=float)
    value = facts["value"].to_numpy(dtype=float)
    stock = facts["element_code"].map({e.code: e.temporal == "stock" for e in cat.elements.values()}).to_numpy(dtype=bool)
    cumulative = facts["element_code"].map({e.code: e.cumulative for e in cat.elements.values()}).to_numpy(dtype=bool)
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
