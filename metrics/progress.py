"""Progress against target — the method of DESIGN.md, in one place.

Pure functions over numbers and quarters; no I/O. ``assess`` takes a target, the
indicator's direction and its quarterly series, and returns an ``Assessment`` whose
``reason`` (a stable code) and ``reason_args`` explain its status in one line
(``metrics.reasons.reason_text``).

b baseline at base period (if the base has no value, the first observed value and its quarter),
g target at target period T, v value at t, f = quarters(base → t) / quarters(base → T).
expected e: threshold/trajectory b + (g − b)·f; milestones: finished years' milestones plus this
year's along the observed seasonal profile (≥ 2 complete earlier years) or pro rata; schedule:
interpolated %; relative: the benchmark at t (+ margin).
p = (v − b)/(e − b) (milestones and schedule: actual ÷ expected; relative with a base gap: share
of the gap closed ÷ f); None where undefined.
Projection: least-squares line through the last 8 quarters (≥ 3 points; year-to-date levels:
the last 4 full-year values), clamped to the indicator's natural limits; it lifts a status by one
level at most and never when p < 0.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from metrics import periods
from metrics.expectation import (  # noqa: F401  (re-exported: the method's public arithmetic)
    PROJECTION_MIN_POINTS,
    PROJECTION_WINDOW,
    PROJECTION_YEARS,
    SEASONAL_MIN_YEARS,
    annual_projection,
    clamp,
    cumulative_series,
    elapsed_fraction,
    expected_linear,
    expected_milestones,
    expected_schedule,
    linear_projection,
    missing_quarters,
    seasonal_profile,
)

# -- the one config place for thresholds and tolerances -------------------------------------
# (the projection window, 8 quarters / 4 full years, >= 3 points, and the 2 earlier years a
# seasonal profile needs are the arithmetic's own constants in metrics/expectation.py, re-exported above)
# UNSD progress chart / Open SDG: on track at >= 95% of the required progress.
ON_TRACK = 0.95
ACCELERATE = 0.60
# p is shown as a whole percent: statuses compare that shown percent with 95 / 60 / 0, so "95%"
# never carries 需加快.
P_DECIMALS = 2
# values are compared with the target (and the expected value) as the reader sees them: formatted
# to the indicator's decimals. Without decimals, a relative float tolerance.
FLOAT_TOLERANCE = 1e-9
RATE_TOLERANCE = 0.5      # a rate within 0.5 points of a 100% target counts as met

STATUSES = ("achieved", "on_track", "accelerate", "off_track", "regressing", "not_started", "no_data",
            "met", "not_met", "no_target")
_LIFT = {"off_track": "accelerate", "accelerate": "on_track"}


@dataclass
class Assessment:
    status: str
    value: float | None = None          # v (cumulative for milestones; the full year for ytd)
    target: float | None = None         # g
    expected: float | None = None       # e
    baseline: float | None = None       # b
    progress: float | None = None       # p, None where undefined
    projection: float | None = None     # projected value at T, within natural limits
    final: bool = False                 # after the target period: met / not met
    notes: list[str] = field(default_factory=list)
    reason: str = ""                    # stable code, see metrics.reasons
    reason_args: dict = field(default_factory=dict)
    base_period: str | None = None      # the base actually used (moved by the baseline fallback)
    basis: str = "stock"                # stock | cumulative | flow | ytd
    margin: float | None = None         # relative targets: v − (benchmark + margin) at the judged period
    judged_period: str | None = None    # the quarter whose value is judged (T after the target year)
    missing_quarters: list[str] = field(default_factory=list)
    expected_mode: str | None = None    # linear | seasonal | pro_rata | schedule | benchmark

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in asdict(self).items()}


def sign_of(direction: str, comparison: str | None = None) -> int:
    if comparison in ("ge", "gt"):
        return 1
    if comparison in ("le", "lt"):
        return -1
    return 1 if direction == "higher" else -1


def shown(x: float, decimals: int | None) -> float:
    """x as the reader sees it: formatted to ``decimals`` the way the pages format numbers
    (Python's format spec), read back (None: unchanged)."""
    if decimals is None:
        return x
    return round(x, decimals) + 0.0     # correctly rounded from the binary value, as format() does


def meets(v: float, g: float, sign: int, strict: bool = False, percent_100: bool = False,
          decimals: int | None = None) -> bool:
    """Does v meet target g in the improving direction ``sign``, as the reader sees both?"""
    return meets_shown(shown(v, decimals), shown(g, decimals), g, sign, strict, percent_100)


def meets_shown(v_shown: float, g_shown: float, g: float, sign: int, strict: bool = False,
                percent_100: bool = False) -> bool:
    """``meets`` of values already as shown (``shown(v, decimals)``, ``shown(g, decimals)``; ``g``
    as given, for the 100 % rule): the batch path rounds each target once, not once a row."""
    if percent_100 and sign > 0 and g >= 100:
        return v_shown >= g - RATE_TOLERANCE - FLOAT_TOLERANCE
    a, b = sign * v_shown, sign * g_shown
    eps = FLOAT_TOLERANCE * max(1.0, abs(a), abs(b))
    return a > b + eps if strict else a >= b - eps


def progress_ratio(v: float, b: float, e: float, sign: int) -> float | None:
    """p = (v − b)/(e − b), direction-aware; None when nothing is required (e at or behind b)."""
    required = sign * (e - b)
    if required <= FLOAT_TOLERANCE * max(1.0, abs(e), abs(b)):
        return None
    return sign * (v - b) / required


def classify(p: float | None) -> str:
    """Status of a progress ratio, compared as shown (a whole percent)."""
    if p is None:
        return "no_data"
    q = shown(p, P_DECIMALS)
    if q >= ON_TRACK:
        return "on_track"
    if q >= ACCELERATE:
        return "accelerate"
    if q >= 0:
        return "off_track"
    return "regressing"


def milestone_path(target, series: list[tuple[str, float]], quarters: list[str]) -> list[float]:
    """The expected cumulative count at each quarter, as ``assess`` computes it (each year along
    the seasonal profile of the complete years before it, else pro rata) — for charts."""
    return [expected_milestones(target.milestones, q, seasonal_profile(series, periods.year_of(q)))
            for q in quarters]


def _value_at(series: list[tuple[str, float]], period: str) -> float | None:
    for p, v in series:
        if p == period:
            return v
    return None


@dataclass
class _Context:
    sign: int
    strict: bool
    decimals: int | None
    percent: bool
    limits: tuple[float | None, float | None]
    basis: str
    T: str
    final: bool


def assess(target, direction: str, series: list[tuple[str, float]], t: str, base: str,
           benchmark: list[tuple[str, float]] | None = None, percent: bool = False, *,
           decimals: int | None = None, basis: str = "stock",
           limits: tuple[float | None, float | None] | None = None) -> Assessment:
    """Assess one target at quarter t.

    ``target``: a ``catalog.Target``; ``series``: (period, value) of the indicator as measured
    (flows for milestones, year-to-date levels for ``basis="ytd"``), any order; ``base``: the
    plan's base period (the target's baseline_period wins when given); ``benchmark``: the
    benchmark series of a relative target; ``percent``: the indicator is a % (rates: a 100%
    target is met within 0.5 points); ``decimals``: as displayed; ``limits``: natural limits
    of a projection (default 0–100 for a %, else none).
    """
    series = sorted([pv for pv in series if pv[1] is not None and math.isfinite(pv[1])])
    T = target.target_period
    final = t >= T
    if limits is None:
        limits = (0.0, 100.0) if percent else (None, None)
    ctx = _Context(sign_of(direction, target.comparison), target.comparison in ("gt", "lt"), decimals,
                   percent and target.kind != "milestones", limits, basis, T, final)
    a = Assessment("no_data", final=final, basis=basis, judged_period=T if final else t)
    at = T if final else t
    base = target.baseline_period or base
    if target.kind == "milestones":
        _milestones(a, target, series, at, ctx)
    elif target.kind == "relative":
        _relative(a, target, series, at, base, sorted(benchmark or []), ctx)
    elif target.kind == "schedule":
        _schedule(a, target, series, at, base, ctx)
    else:
        _level(a, target, series, at, base, ctx)
    return a


def _set(a: Assessment, status: str, reason: str, **args) -> Assessment:
    a.status, a.reason = status, reason
    a.reason_args.update(args)
    return a


def _judge(a: Assessment, v: float, g: float, e: float | None, p: float | None, ctx: _Context,
           projection: float | None, nothing_required_status: str | None = None,
           achieved: bool | None = None) -> Assessment:
    """Status from value, target, expected, p and projection (shared by level, milestones, schedule).
    ``achieved``: ``meets(v, g, …)`` when the caller has it already."""
    a.progress = p
    a.projection = projection
    year = periods.year_of(ctx.T)
    if achieved is None:
        achieved = meets(v, g, ctx.sign, ctx.strict, ctx.percent, ctx.decimals)
    if ctx.final:
        return _set(a, "met" if achieved else "not_met", "final_met" if achieved else "final_not_met",
                    year=year)
    if achieved:
        return _set(a, "achieved", "achieved")
    if projection is None:
        a.notes.append("too_few_points")
    if p is None:
        if nothing_required_status:
            return _set(a, nothing_required_status, nothing_required_status)
        if e is not None and meets(v, e, ctx.sign, False, False, ctx.decimals):
            return _set(a, "on_track", "due_reached")      # nothing measurable required, v is where due
        worse = ctx.sign * (v - (a.baseline or 0.0)) < 0
        return _set(a, "regressing" if worse else "off_track", "nothing_required")
    status = classify(p)
    if status in _LIFT and projection is not None and meets(projection, g, ctx.sign, ctx.strict, ctx.percent,
                                                             ctx.decimals):
        a.notes.append("projection_meets_target")
        return _set(a, _LIFT[status], "projection", year=year)
    reason = {"on_track": "on_track", "regressing": "regressing"}.get(status, "behind")
    return _set(a, status, reason, p=p)


def _share(v: float, e: float, decimals: int | None) -> float | None:
    """Actual ÷ expected as shown (milestones, schedule); None while nothing is expected."""
    vs, es = shown(v, decimals), shown(e, decimals)
    return vs / es if es > FLOAT_TOLERANCE else None


def _level(a: Assessment, target, series, at: str, base: str, ctx: _Context) -> None:
    """Threshold, trajectory and coverage targets."""
    if ctx.basis == "ytd":
        # a year-to-date level is judged on full years: the last Q4 up to t
        if periods.quarter_of(at) != 4:
            at = f"{periods.year_of(at) - 1}Q4"
        a.judged_period = at
        a.reason_args["annual_year"] = periods.year_of(at)
        series = [(p, v) for p, v in series if periods.quarter_of(p) == 4]
    observed = [(p, v) for p, v in series if p <= at]
    values = dict(observed)
    g = float(target.target_value)
    b = target.baseline_value
    if b is None:
        b = values.get(base)
    if b is None and observed:
        after = [(p, v) for p, v in observed if p > base]
        base, b = after[0] if after else observed[-1]
        a.notes.append("baseline_fallback")
    a.target, a.baseline, a.base_period, a.expected_mode = g, b, base, "linear"
    v = values.get(at)
    a.value = v
    if v is None:
        _set(a, "no_data", "no_value")
        return
    if at < base and not meets(v, g, ctx.sign, ctx.strict, ctx.percent, ctx.decimals):
        _set(a, "not_started", "not_started", start=base)
        return
    e = expected_linear(b, g, base, at, ctx.T)
    a.expected = e
    projection = None
    if not ctx.final:
        project = annual_projection if ctx.basis == "ytd" else linear_projection
        projection = clamp(project(observed, at, ctx.T), ctx.limits)
    if at == base and "baseline_fallback" in a.notes and not ctx.final:
        # the only value is the one standing in for the baseline: nothing to measure yet
        if meets(v, g, ctx.sign, ctx.strict, ctx.percent, ctx.decimals):
            _set(a, "achieved", "achieved")
        else:
            _set(a, "no_data", "single_point")
        return
    if at <= base and not ctx.final:
        _judge(a, v, g, e, None, ctx, projection, nothing_required_status="not_started")
        a.reason_args["start"] = base
        return
    # p from the numbers as the reader sees them, so "2 · 应达 2" is 100%, never 严重滞后
    d = ctx.decimals
    _judge(a, v, g, e, progress_ratio(shown(v, d), shown(b, d), shown(e, d), ctx.sign), ctx, projection)


def _milestones(a: Assessment, target, series, at: str, ctx: _Context) -> None:
    ms = target.milestones
    first_year = min(ms)
    start = f"{first_year}Q1"
    g = float(sum(ms.values()))
    a.target, a.baseline, a.base_period = g, 0.0, f"{first_year - 1}Q4"
    if at < start:
        a.value, a.expected = 0.0, 0.0
        _set(a, "not_started", "not_started", start=start)
        return
    counted = [(p, v) for p, v in series if start <= p <= at]
    if not counted:
        _set(a, "no_data", "no_value")
        return
    missing = missing_quarters(counted, start, at)
    profile = seasonal_profile(series, periods.year_of(at))
    a.expected_mode = "seasonal" if profile else "pro_rata"
    e = expected_milestones(ms, at, profile)
    a.expected = e
    if missing:
        # a gap is unknown, not zero; the partial total is a lower bound (flows are >= 0)
        a.missing_quarters = missing
        partial = sum(v for _, v in counted)
        if meets(partial, g, 1, False, False, ctx.decimals):
            a.value = partial
            _set(a, "met" if ctx.final else "achieved", "final_met" if ctx.final else "achieved",
                 year=periods.year_of(ctx.T))
        else:
            _set(a, "no_data", "missing_quarters", quarters=missing)
        return
    cumulative = cumulative_series(counted, start)
    v = cumulative[-1][1]
    a.value = v
    projection = None if ctx.final else clamp(linear_projection(cumulative, at, ctx.T), (0.0, None))
    p = _share(v, e, ctx.decimals)
    _judge(a, v, g, e, p, ctx, projection, nothing_required_status="not_started")


def _schedule(a: Assessment, target, series, at: str, base: str, ctx: _Context) -> None:
    g = float(target.schedule[max(target.schedule)])
    a.target, a.baseline, a.base_period, a.expected_mode = g, 0.0, base, "schedule"
    observed = [(p, v) for p, v in series if p <= at]
    v = _value_at(observed, at)
    a.value = v
    if v is None:
        _set(a, "no_data", "no_value")
        return
    e = expected_schedule(target.schedule, base, at)
    a.expected = e
    projection = None if ctx.final else clamp(linear_projection(observed, at, ctx.T), ctx.limits)
    p = _share(v, e, ctx.decimals)
    _judge(a, v, g, e, p, ctx, projection, nothing_required_status="not_started")
    if a.reason == "not_started":
        a.reason_args["start"] = base


def _relative(a: Assessment, target, series, at: str, base: str, bench: list[tuple[str, float]],
              ctx: _Context) -> None:
    """Judged per period: met or not against the benchmark (+ margin), the margin shown; where the
    base had a gap to close, p = share of the base gap closed ÷ share of the time elapsed."""
    observed = [(p, v) for p, v in series if p <= at]
    v = _value_at(observed, at)
    a.value, a.expected_mode = v, "benchmark"
    bench_at = _value_at(bench, at)
    if bench_at is None:
        a.notes.append("no_benchmark")
        _set(a, "no_data", "no_benchmark")
        return
    g = bench_at + target.margin
    a.target = a.expected = g
    if v is None:
        _set(a, "no_data", "no_value")
        return
    a.margin = v - g
    met = meets(v, g, ctx.sign, ctx.strict, False, ctx.decimals)
    args = {"benchmark": bench_at, "margin": a.margin, "strict": ctx.strict}
    if ctx.final:
        _set(a, "met" if met else "not_met", "final_met" if met else "final_not_met",
             year=periods.year_of(ctx.T), **args)
        return
    b = target.baseline_value
    if b is None:
        b = _value_at(observed, base)
    if b is None:
        after = [(p, x) for p, x in observed if p > base]
        if after:
            base, b = after[0]
            a.notes.append("baseline_fallback")
    a.baseline, a.base_period = b, base
    if met:
        _set(a, "achieved", "relative_met", **args)
        return
    bench_base = _value_at(bench, base)
    if bench_base is None:
        bench_base = next((x for p, x in bench if p >= base), None)
    tolerance = 0.5 * 10.0 ** -ctx.decimals if ctx.decimals is not None else FLOAT_TOLERANCE
    gap0 = None if b is None or bench_base is None else ctx.sign * (b - (bench_base + target.margin))
    f = elapsed_fraction(base, at, ctx.T)
    if gap0 is None or gap0 >= -tolerance or f <= 0:
        _set(a, "not_met", "relative_not_met", **args)
        return
    closed = (ctx.sign * (v - g) - gap0) / -gap0
    a.progress = closed / f
    status = classify(a.progress)
    _set(a, status, "relative_gap", closed=closed, due=f, **args)
