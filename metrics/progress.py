"""Progress against target — the method of DESIGN.md, in one place.

Pure functions over numbers and quarters; no I/O. ``assess`` takes a target, the
indicator's direction and its quarterly series, and returns an ``Assessment``.

b baseline, g target at target period T, v current value at t,
f = quarters(base → t) / quarters(base → T).
expected e: threshold/trajectory b + (g − b)·f; milestones: finished years' milestones plus
this year's × quarters elapsed / 4; schedule: interpolated %; relative: the benchmark at t.
p = (v − b)/(e − b) (milestones and schedule: actual ÷ expected, b = 0).
Projection: least-squares line through the last 8 quarters (≥ 3 points), extended to T.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from metrics import periods

# Thresholds (UNSD progress chart / Open SDG: on track at >= 95% of the required progress).
ON_TRACK = 0.95
ACCELERATE = 0.60
RATE_TOLERANCE = 0.5      # a rate within 0.5 points of a 100% target counts as met
PROJECTION_WINDOW = 8     # quarters
PROJECTION_MIN_POINTS = 3

STATUSES = ("achieved", "on_track", "accelerate", "off_track", "regressing", "no_data",
            "met", "not_met", "no_target")


@dataclass
class Assessment:
    status: str
    value: float | None = None          # v (cumulative for milestones)
    target: float | None = None         # g
    expected: float | None = None       # e
    baseline: float | None = None       # b
    progress: float | None = None       # p
    projection: float | None = None     # projected value at T
    final: bool = False                 # after the target period: met / not met
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in asdict(self).items()}


def sign_of(direction: str, comparison: str | None = None) -> int:
    if comparison in ("ge", "gt"):
        return 1
    if comparison in ("le", "lt"):
        return -1
    return 1 if direction == "higher" else -1


def meets(v: float, g: float, sign: int, strict: bool = False, percent_100: bool = False) -> bool:
    """Does v meet target g in the improving direction ``sign``?"""
    if percent_100 and sign > 0 and g >= 100:
        return v >= g - RATE_TOLERANCE
    a, b = sign * v, sign * g
    return a > b if strict else a >= b - 1e-9


def elapsed_fraction(base: str, t: str, target_period: str) -> float:
    total = periods.quarters_between(base, target_period)
    if total <= 0:
        return 1.0
    return min(max(periods.quarters_between(base, t) / total, 0.0), 1.0)


def expected_linear(b: float, g: float, base: str, t: str, target_period: str) -> float:
    return b + (g - b) * elapsed_fraction(base, t, target_period)


def expected_milestones(milestones: dict[int, float], t: str) -> float:
    """Cumulative expected by quarter t: finished years in full, this year pro rata."""
    year, q = periods.year_of(t), periods.quarter_of(t)
    done = sum(v for y, v in milestones.items() if y < year)
    return done + milestones.get(year, 0.0) * q / 4


def expected_schedule(schedule: dict[str, float], base: str, t: str) -> float:
    """Completion % at t, linear between (base, 0) and the schedule's dated points."""
    points = [(periods.to_index(base), 0.0)] + sorted(
        (periods.to_index(p), float(v)) for p, v in schedule.items())
    ti = periods.to_index(t)
    if ti <= points[0][0]:
        return 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if ti <= x1:
            return y0 + (y1 - y0) * (ti - x0) / (x1 - x0) if x1 > x0 else y1
    return points[-1][1]


def linear_projection(series: list[tuple[str, float]], t: str, target_period: str) -> float | None:
    """Least-squares trend over the last 8 quarters up to t (>= 3 points), at the target period."""
    ti = periods.to_index(t)
    pts = [(periods.to_index(p), v) for p, v in series
           if v is not None and math.isfinite(v) and ti - PROJECTION_WINDOW < periods.to_index(p) <= ti]
    if len(pts) < PROJECTION_MIN_POINTS:
        return None
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    if sxx == 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in pts) / sxx
    return my + slope * (periods.to_index(target_period) - mx)


def progress_ratio(v: float, b: float, e: float, sign: int) -> float:
    """p = (v − b)/(e − b), direction-aware; when nothing is required yet, 1 if not lost ground."""
    required = sign * (e - b)
    gained = sign * (v - b)
    if required > 1e-12:
        return gained / required
    if sign * (v - e) >= -1e-9:
        return 1.0
    return -1.0 if gained < 0 else 0.0


def classify(p: float | None) -> str:
    if p is None:
        return "no_data"
    if p >= ON_TRACK:
        return "on_track"
    if p >= ACCELERATE:
        return "accelerate"
    if p >= 0:
        return "off_track"
    return "regressing"


def _value_at(series: list[tuple[str, float]], period: str) -> float | None:
    for p, v in series:
        if p == period:
            return v
    return None


def cumulative_series(series: list[tuple[str, float]], first_year: int) -> list[tuple[str, float]]:
    """Running total of a flow series from Q1 of ``first_year``."""
    out, total = [], 0.0
    for p, v in sorted(series):
        if periods.year_of(p) < first_year or v is None:
            continue
        total += v
        out.append((p, total))
    return out


def assess(target, direction: str, series: list[tuple[str, float]], t: str, base: str,
           benchmark: list[tuple[str, float]] | None = None, percent: bool = False) -> Assessment:
    """Assess one target at quarter t.

    ``target``: a ``catalog.Target``; ``series``: (period, value) of the indicator, any order;
    ``base``: the plan's base period (the target's baseline_period wins when given);
    ``benchmark``: the benchmark series of a relative target; ``percent``: the indicator is a %.
    """
    series = sorted([pv for pv in series if pv[1] is not None and math.isfinite(pv[1])])
    T = target.target_period
    final = t >= T
    at = T if final else t                      # after the target year, judge the value at T
    sign = sign_of(direction, target.comparison)
    strict = target.comparison in ("gt", "lt")
    base = target.baseline_period or base

    if target.kind == "milestones":
        first_year = min(target.milestones)
        base = f"{first_year - 1}Q4"
        series = cumulative_series(series, first_year)
        b, g = 0.0, float(sum(target.milestones.values()))
        e = expected_milestones(target.milestones, at)
        observed = [(p, v) for p, v in series if p <= at]
    elif target.kind == "schedule":
        b, g = 0.0, float(target.schedule[max(target.schedule)])
        e = expected_schedule(target.schedule, base, at)
        observed = [(p, v) for p, v in series if p <= at]
    else:
        observed = [(p, v) for p, v in series if p <= at]
        if target.kind == "relative":
            bench = _value_at(benchmark or [], at)
            if bench is None:
                return Assessment("no_data", value=_value_at(observed, at), final=final,
                                  notes=["no_benchmark"])
            g = e = bench + target.margin
        else:
            g = float(target.target_value)
            e = None
        b = target.baseline_value
        if b is None:
            b = _value_at(observed, base)
        if b is None and observed:
            b = observed[0][1]
        if e is None and b is not None:
            e = expected_linear(b, g, base, at, T)

    v = _value_at(observed, at)
    if v is None:
        return Assessment("no_data", target=g, expected=e, baseline=b, final=final, notes=["no_value"])
    projection = None if final else linear_projection(observed, at, T)
    notes = [] if final or projection is not None else ["too_few_points"]
    result = Assessment("no_data", value=v, target=g, expected=e, baseline=b,
                        projection=projection, final=final, notes=notes)

    percent_100 = percent and target.kind not in ("milestones",)
    achieved = meets(v, g, sign, strict, percent_100)
    if target.kind in ("milestones", "schedule"):
        result.progress = v / e if e else (1.0 if v >= 0 else None)
    else:
        pv, pb, pe = v, b, e
        if target.kind == "relative":
            # against a moving benchmark, progress is measured on the gap to it:
            # the gap at the base period must close to zero by t
            bench_base = _value_at(benchmark or [], base) or next(
                (bv for bp, bv in sorted(benchmark or []) if bp >= base), e)
            pv, pb, pe = v - e, b - bench_base, 0.0
        result.progress = progress_ratio(pv, pb, pe, sign)

    if final:
        result.status = "met" if achieved else "not_met"
    elif achieved:
        result.status = "achieved"
    elif result.progress is not None and result.progress >= ON_TRACK:
        result.status = "on_track"
    elif projection is not None and meets(projection, g, sign, strict):
        result.status = "on_track"
        result.notes.append("projection_meets_target")
    else:
        result.status = classify(result.progress)
    return result
