"""Expected paths and projections: the arithmetic under ``progress.assess``.

Pure functions over quarters (``YYYYQn``) and numbers; no I/O, no statuses.
"""

from __future__ import annotations

import math

from metrics import periods

PROJECTION_WINDOW = 8       # quarters of trend behind a projection
PROJECTION_YEARS = 4        # annual values behind a year-to-date projection
PROJECTION_MIN_POINTS = 3
SEASONAL_MIN_YEARS = 2      # complete earlier years needed before the seasonal profile is used


def elapsed_fraction(base: str, t: str, target_period: str) -> float:
    total = periods.quarters_between(base, target_period)
    if total <= 0:
        return 1.0
    return min(max(periods.quarters_between(base, t) / total, 0.0), 1.0)


def expected_linear(b: float, g: float, base: str, t: str, target_period: str) -> float:
    return b + (g - b) * elapsed_fraction(base, t, target_period)


def seasonal_profile(series: list[tuple[str, float]], before_year: int) -> tuple[float, float, float, float] | None:
    """Average share of a year's flow done by the end of each quarter, from complete earlier years.

    None unless at least ``SEASONAL_MIN_YEARS`` years before ``before_year`` have all four
    quarters and a positive total.
    """
    by_year: dict[int, list[float | None]] = {}
    for p, v in series:
        year = int(p[:4])
        if year < before_year and v is not None and math.isfinite(v):
            by_year.setdefault(year, [None, None, None, None])[int(p[5]) - 1] = v
    shares = []
    for quarters in by_year.values():
        if None in quarters:
            continue
        total = sum(quarters)  # type: ignore[arg-type]
        if total > 0:
            running, acc = [], 0.0
            for x in quarters:
                acc += x  # type: ignore[operator]
                running.append(acc / total)
            shares.append(running)
    if len(shares) < SEASONAL_MIN_YEARS:
        return None
    return tuple(sum(s[k] for s in shares) / len(shares) for k in range(4))  # type: ignore[return-value]


def expected_milestones(milestones: dict[int, float], t: str,
                        profile: tuple[float, ...] | None = None) -> float:
    """Cumulative expected by quarter t: finished years in full, this year's along ``profile``
    (cumulative share by quarter end) or, without one, pro rata (quarters elapsed / 4)."""
    year, q = periods.year_of(t), periods.quarter_of(t)
    done = sum(v for y, v in milestones.items() if y < year)
    share = profile[q - 1] if profile else q / 4
    return done + milestones.get(year, 0.0) * share


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


def _least_squares_at(pts: list[tuple[int, float]], x: int) -> float | None:
    n = len(pts)
    if n < PROJECTION_MIN_POINTS:
        return None
    sx = sy = sxx = sxy = 0.0
    for px, py in pts:
        sx += px
        sy += py
        sxx += px * px
        sxy += px * py
    var = sxx - sx * sx / n
    if var <= 0:
        return None
    slope = (sxy - sx * sy / n) / var
    return sy / n + slope * (x - sx / n)


def linear_projection(series: list[tuple[str, float]], t: str, target_period: str) -> float | None:
    """Least-squares trend over the last 8 quarters up to t (>= 3 points), at the target period."""
    ti = periods.to_index(t)
    lo = ti - PROJECTION_WINDOW
    pts = []
    for p, v in series:
        i = periods.to_index(p)
        if lo < i <= ti and v is not None and math.isfinite(v):
            pts.append((i - ti, v))          # centred on t: no precision lost on large indices
    return _least_squares_at(pts, periods.to_index(target_period) - ti)


def annual_projection(series: list[tuple[str, float]], t: str, target_period: str) -> float | None:
    """Year-to-date values compared like for like: the trend of the last 4 full-year (Q4) values
    up to t, at the target year's Q4 (>= 3 years)."""
    year_t = periods.year_of(t)
    pts = [(periods.year_of(p), v) for p, v in series
           if periods.quarter_of(p) == 4 and p <= t and v is not None and math.isfinite(v)
           and year_t - PROJECTION_YEARS < periods.year_of(p)]
    return _least_squares_at(pts, periods.year_of(target_period))


def clamp(x: float | None, limits: tuple[float | None, float | None]) -> float | None:
    if x is None:
        return None
    lo, hi = limits
    if lo is not None:
        x = max(x, lo)
    if hi is not None:
        x = min(x, hi)
    return x


def missing_quarters(series: list[tuple[str, float]], first: str, last: str) -> list[str]:
    """Quarters from ``first`` to ``last`` with no value in ``series``."""
    have = {periods.to_index(p) for p, v in series if v is not None}
    return [periods.from_index(i) for i in range(periods.to_index(first), periods.to_index(last) + 1)
            if i not in have]


def cumulative_series(series: list[tuple[str, float]], start: int | str) -> list[tuple[str, float]]:
    """Running total of a flow from ``start`` (a year: its Q1; or a quarter), stopping at the first
    missing quarter — a gap is unknown, never zero."""
    first = f"{start}Q1" if isinstance(start, int) else start
    out: list[tuple[str, float]] = []
    total, expect = 0.0, periods.to_index(first)
    for p, v in sorted(series):
        if p < first or v is None or not math.isfinite(v):
            continue
        if periods.to_index(p) != expect:
            break
        total += v
        out.append((p, total))
        expect += 1
    return out
