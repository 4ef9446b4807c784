"""One target assessed for many regions at once — the pages' path (issue 9: page calls < 25 ms).

``assess_jobs`` returns, for every row of a (region × quarter) array, exactly the ``Assessment``
that ``progress.assess`` returns for that region's series (status, p, expected, projection, reason
and its arguments, base period, notes). Threshold, trajectory and coverage targets
(``progress._level``) are batched: the lookups (value at the judged quarter, baseline and its
fallback) and the least-squares projection run with numpy over the whole array, in the scalar
code's order of floating-point operations; the judging runs ``progress._judge`` on the numbers.
Milestones, schedule and relative targets go through ``progress.assess`` row by row.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from metrics import periods
from metrics.catalog import Target
from metrics.expectation import PROJECTION_MIN_POINTS, PROJECTION_WINDOW, PROJECTION_YEARS, clamp, elapsed_fraction
from metrics.progress import (
    Assessment,
    _Context,
    _judge,
    _set,
    assess,
    meets,
    meets_shown,
    progress_ratio,
    shown,
    sign_of,
)
from metrics.values import series_of

SCALAR_KINDS = ("milestones", "relative", "schedule")


def is_batched(target) -> bool:
    """Does ``assess_jobs`` compute this target's kind with numpy (else: row by row)?"""
    return target.kind not in SCALAR_KINDS


@dataclass
class Job:
    """One target for some regions (the arguments of ``progress.assess`` but the series:
    ``values`` has one row per region over the quarters of ``assess_jobs``, NaN where none)."""
    target: Target
    direction: str
    values: np.ndarray
    percent: bool = False
    decimals: int | None = None
    basis: str = "stock"
    limits: tuple[float | None, float | None] | None = None
    benchmarks: list[list[tuple[str, float]]] | None = None     # each row's, for relative targets


def assess_jobs(quarters: list[str], t: str, base: str, jobs: list[Job]) -> list[list[Assessment]]:
    """Every job's assessments at quarter ``t`` (``base``: the plan's base period). Jobs whose
    lookups coincide (same target period, base and basis) share one pass of numpy."""
    out: list[list[Assessment]] = [[] for _ in jobs]
    groups: dict[tuple, list[int]] = {}
    for k, job in enumerate(jobs):
        if is_batched(job.target):
            key = (job.target.target_period, job.target.baseline_period or base, job.basis)
            groups.setdefault(key, []).append(k)
        else:
            out[k] = [assess(job.target, job.direction, series, t, base,
                             benchmark=job.benchmarks[i] if job.benchmarks is not None else None,
                             percent=job.percent, decimals=job.decimals, basis=job.basis, limits=job.limits)
                      for i, series in enumerate(series_of(quarters, job.values))]
    for (T, group_base, basis), ks in groups.items():
        stacked = jobs[ks[0]].values if len(ks) == 1 else np.concatenate([jobs[k].values for k in ks])
        look = _Lookups(quarters, stacked, t, T, group_base, basis)
        start = 0
        for k in ks:
            end = start + len(jobs[k].values)
            out[k] = _level(jobs[k], look, start, end)
            start = end
    return out


class _Lookups:
    """What ``progress._level`` looks up in each row's series, for many rows at once: the judged
    quarter, the value there, the base period and baseline (with its fallback), the projection."""

    def __init__(self, quarters: list[str], values: np.ndarray, t: str, T: str, base: str, basis: str):
        self.final = final = t >= T
        self.judged = at = T if final else t
        self.annual_year = None
        x = values
        if basis == "ytd":
            # a year-to-date level is judged on full years: the last Q4 up to t
            if periods.quarter_of(at) != 4:
                at = f"{periods.year_of(at) - 1}Q4"
            self.annual_year = periods.year_of(at)
            q4 = np.fromiter((q[5] == "4" for q in quarters), dtype=bool, count=len(quarters))
            x = np.where(q4, x, np.nan)
        self.at, self.base = at, base
        n_obs = bisect_right(quarters, at)              # observed: the quarters up to the judged one
        observed = x[:, :n_obs]
        present = ~np.isnan(observed)
        n = len(x)
        value = observed[:, n_obs - 1] if n_obs and quarters[n_obs - 1] == at else np.full(n, np.nan)
        self.values = value.tolist()
        self.bases, self.baselines, self.fallback = _baselines(quarters, observed, present, base)
        self.projections = [None] * n
        if not final and n_obs:
            self.projections = _projections(quarters, observed, at, T, basis)


def _level(job: Job, look: _Lookups, start: int, end: int) -> list[Assessment]:
    """``progress._level`` for rows ``start:end`` of ``look`` (the same steps, in the same order)."""
    target, basis, d = job.target, job.basis, job.decimals
    T, final, at, judged = target.target_period, look.final, look.at, look.judged
    limits = job.limits
    if limits is None:
        limits = (0.0, 100.0) if job.percent else (None, None)
    ctx = _Context(sign_of(job.direction, target.comparison), target.comparison in ("gt", "lt"), d,
                   job.percent, limits, basis, T, final)
    g = float(target.target_value)
    g_shown = shown(g, d)           # the target as shown, once for every row
    if target.baseline_value is None:
        bases, baselines, fallback = look.bases[start:end], look.baselines[start:end], look.fallback[start:end]
    else:
        n = end - start
        bases, baselines, fallback = [look.base] * n, [target.baseline_value] * n, [False] * n
    annual_year = look.annual_year
    if annual_year is not None:
        judged = at                 # a year-to-date level is judged at the last Q4
    out = []
    fractions: dict[str, float] = {}
    for v, b, base_i, moved, projected in zip(look.values[start:end], baselines, bases, fallback,
                                              look.projections[start:end]):
        a = Assessment("no_data", target=g, baseline=b, final=final, base_period=base_i, basis=basis,
                       judged_period=judged, expected_mode="linear")
        if annual_year is not None:
            a.reason_args["annual_year"] = annual_year
        if moved:
            a.notes.append("baseline_fallback")
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
        v_shown = shown(v, d)
        achieved = meets_shown(v_shown, g_shown, g, ctx.sign, ctx.strict, ctx.percent)
        _judge(a, v, g, e, progress_ratio(v_shown, shown(b, d), shown(e, d), ctx.sign), ctx, projection,
               achieved=achieved)
    return out


def _baselines(quarters: list[str], observed: np.ndarray, present: np.ndarray, base: str
               ) -> tuple[list[str], list, list[bool]]:
    """Per row: the base period, the baseline (None: none) and whether the first observed value
    after the base (else the last one) stands in for it."""
    n, n_obs = observed.shape
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
