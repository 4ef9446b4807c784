"""One target assessed for many regions at once — the pages' path (issue 9: page calls < 25 ms).

``assess_batch`` returns, for every row of a (region × quarter) array, exactly the ``Assessment``
that ``progress.assess`` returns for that region's series (status, p, expected, projection, reason
and its arguments, base period, notes). Threshold, trajectory and coverage targets
(``progress._level``) are batched: the lookups (value at the judged quarter, baseline and its
fallback) and the least-squares projection run with numpy over the whole array, in the scalar
code's order of floating-point operations; the judging runs ``progress._judge`` on the numbers.
Milestones, schedule and relative targets go through ``progress.assess`` row by row.
"""

from __future__ import annotations

from bisect import bisect_right

import numpy as np

from metrics import periods
from metrics.expectation import PROJECTION_MIN_POINTS, PROJECTION_WINDOW, PROJECTION_YEARS, clamp, elapsed_fraction
from metrics.progress import Assessment, _Context, _judge, _set, assess, meets, progress_ratio, shown, sign_of

SCALAR_KINDS = ("milestones", "relative", "schedule")


def is_batched(target) -> bool:
    """Does ``assess_batch`` compute this target's kind with numpy (else: row by row)?"""
    return target.kind not in SCALAR_KINDS


def assess_batch(target, direction: str, quarters: list[str], values: np.ndarray, t: str, base: str,
                 percent: bool = False, *, decimals: int | None = None, basis: str = "stock",
                 limits: tuple[float | None, float | None] | None = None,
                 benchmarks: list[list[tuple[str, float]]] | None = None) -> list[Assessment]:
    """``progress.assess`` for every row of ``values`` (regions × ``quarters``: consecutive,
    ascending; NaN where a region has no value); ``benchmarks``: each row's benchmark series (relative
    targets). Other arguments as ``progress.assess``."""
    if not is_batched(target):
        rows = values.tolist()
        return [assess(target, direction, [(q, v) for q, v in zip(quarters, row) if v == v], t, base,
                       benchmark=benchmarks[i] if benchmarks is not None else None,
                       percent=percent, decimals=decimals, basis=basis, limits=limits)
                for i, row in enumerate(rows)]
    T = target.target_period
    final = t >= T
    if limits is None:
        limits = (0.0, 100.0) if percent else (None, None)
    ctx = _Context(sign_of(direction, target.comparison), target.comparison in ("gt", "lt"), decimals,
                   percent, limits, basis, T, final)
    at = T if final else t
    judged = at
    base = target.baseline_period or base
    annual_year = None
    x = values
    if basis == "ytd":
        # a year-to-date level is judged on full years: the last Q4 up to t
        if periods.quarter_of(at) != 4:
            at = f"{periods.year_of(at) - 1}Q4"
        annual_year = periods.year_of(at)
        q4 = np.fromiter((q[5] == "4" for q in quarters), dtype=bool, count=len(quarters))
        x = np.where(q4, x, np.nan)
    n_obs = bisect_right(quarters, at)              # observed: the quarters up to the judged one
    observed = x[:, :n_obs]
    present = ~np.isnan(observed)
    n = len(x)
    nan = np.full(n, np.nan)
    value = observed[:, n_obs - 1] if n_obs and quarters[n_obs - 1] == at else nan
    bases, baselines, fallback = _baselines(target, quarters, observed, present, base)
    projections = [None] * n
    if not final and n_obs:
        projections = _projections(quarters, observed, at, T, basis)
    g = float(target.target_value)
    d = decimals
    out = []
    fractions: dict[str, float] = {}
    for v, b, base_i, moved, projected in zip(value.tolist(), baselines, bases, fallback, projections):
        a = Assessment("no_data", final=final, basis=basis, judged_period=judged)
        if annual_year is not None:
            a.judged_period = at
            a.reason_args["annual_year"] = annual_year
        if moved:
            a.notes.append("baseline_fallback")
        a.target, a.baseline, a.base_period, a.expected_mode = g, b, base_i, "linear"
        out.append(a)
        if v != v:
            _set(a, "no_data", "no_value")
            continue
        a.value = v
        if at < base_i and not meets(v, g, ctx.sign, ctx.strict, ctx.percent, d):
            _set(a, "not_started", "not_started", start=base_i)
            continue
        f = fractions.get(base_i)
        if f is None:
            f = fractions[base_i] = elapsed_fraction(base_i, at, T)
        e = b + (g - b) * f                 # expectation.expected_linear
        a.expected = e
        projection = None if final else clamp(projected, limits)
        if at == base_i and moved and not final:
            # the only value is the one standing in for the baseline: nothing to measure yet
            if meets(v, g, ctx.sign, ctx.strict, ctx.percent, d):
                _set(a, "achieved", "achieved")
            else:
                _set(a, "no_data", "single_point")
            continue
        if at <= base_i and not final:
            _judge(a, v, g, e, None, ctx, projection, nothing_required_status="not_started")
            a.reason_args["start"] = base_i
            continue
        _judge(a, v, g, e, progress_ratio(shown(v, d), shown(b, d), shown(e, d), ctx.sign), ctx, projection)
    return out


def _baselines(target, quarters: list[str], observed: np.ndarray, present: np.ndarray, base: str
               ) -> tuple[list[str], list, list[bool]]:
    """Per row: the base period, the baseline (None: none) and whether the first observed value
    after the base (else the last one) stands in for it."""
    n, n_obs = observed.shape
    if target.baseline_value is not None:
        return [base] * n, [target.baseline_value] * n, [False] * n
    j = bisect_right(quarters, base, hi=n_obs) - 1
    b = observed[:, j] if j >= 0 and quarters[j] == base else np.full(n, np.nan)
    baselines = [None if v != v else v for v in b.tolist()]
    bases, fallback = [base] * n, [False] * n
    missing = np.flatnonzero(np.isnan(b) & present.any(axis=1))
    if len(missing):
        after = bisect_right(quarters, base, hi=n_obs)
        later = present[missing, after:]
        last = n_obs - 1 - present[missing, ::-1].argmax(axis=1)
        cols = np.where(later.any(axis=1), after + later.argmax(axis=1), last) if after < n_obs else last
        for i, c, v in zip(missing.tolist(), cols.tolist(), observed[missing, cols].tolist()):
            bases[i], baselines[i], fallback[i] = quarters[c], v, True
    return bases, baselines, fallback


def _projections(quarters: list[str], observed: np.ndarray, at: str, T: str, basis: str) -> list[float | None]:
    """``linear_projection`` (``annual_projection`` for year-to-date levels) of every row."""
    n_obs = observed.shape[1]
    first = periods.to_index(quarters[0])
    ti = periods.to_index(at)
    if basis == "ytd":
        year_t = periods.year_of(at)
        points = [(j, periods.year_of(quarters[j])) for j in range(n_obs)
                  if quarters[j][5] == "4" and year_t - PROJECTION_YEARS < periods.year_of(quarters[j])]
        x = periods.year_of(T)
    else:
        points = [(j, first + j - ti) for j in range(n_obs) if ti - PROJECTION_WINDOW < first + j <= ti]
        x = periods.to_index(T) - ti
    return _least_squares_at(observed, points, x)


def _least_squares_at(values: np.ndarray, points: list[tuple[int, int]], x: int) -> list[float | None]:
    """``expectation._least_squares_at`` for every row: the same sums in the same order (a
    missing point adds exact zeros), so the result is the scalar one bit for bit."""
    n_rows = len(values)
    count = np.zeros(n_rows, dtype=np.int64)
    sx, sy, sxx, sxy = (np.zeros(n_rows) for _ in range(4))
    for j, px in points:
        y = values[:, j]
        have = ~np.isnan(y)
        y = np.where(have, y, 0.0)
        count += have
        sx += np.where(have, float(px), 0.0)
        sy += y
        sxx += np.where(have, float(px * px), 0.0)
        sxy += np.where(have, px * y, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = sxx - sx * sx / count
        slope = (sxy - sx * sy / count) / var
        at_x = sy / count + slope * (x - sx / count)
    ok = (count >= PROJECTION_MIN_POINTS) & (var > 0)
    return [float(v) if k else None for v, k in zip(at_x.tolist(), ok.tolist())]
