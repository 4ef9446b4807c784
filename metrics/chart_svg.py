"""The target-path chart as inline SVG, drawn in Python: what the indicator page shows first.

A plotly figure costs the browser a 4.7 MB script and a layout pass before anything is drawn;
this SVG is a few kilobytes of markup the page paints at once. It draws the same
``charts.TargetPath`` as ``charts.target_path_figure`` (axes, thinned quarter ticks in the UI's
language, the actual line, expected path, milestones or benchmark, the expected value now,
projection, target line, legend) with real text in the CJK font stack, and a tooltip on every
point. Two sizes go out together, the CSS shows one: a wide one, and a narrow one for a phone
so its text is not scaled down to nothing.

Pure: data in, markup out; the page decides where it goes.
"""

from __future__ import annotations

import math
from html import escape

from metrics import charts, i18n

GRID = "#e6e6e6"
AXIS = "#bbbbbb"
WIDE = {"width": 900, "height": 380, "font": 14, "ticks": charts.MAX_TICKS, "css": "rr-svg-wide"}
NARROW = {"width": 380, "height": 300, "font": 12, "ticks": 4, "css": "rr-svg-narrow"}


def text_width(text: str, size: float) -> float:
    """Rough width of ``text`` in px: a CJK character is one em, anything else about 0.6 em."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.6 for ch in text)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round values (steps of 1, 2, 2.5 or 5 × 10ⁿ) covering lo..hi."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi - lo < 1e-12:
        pad = abs(hi) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(count - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw - 1e-12)
    first = math.floor(lo / step + 1e-9) * step
    ticks, v = [], first
    while v < hi + step * 0.999:
        ticks.append(round(v, 10) + 0.0)
        v += step
    if ticks[-1] < hi:
        ticks.append(ticks[-1] + step)
    return ticks


def _tick_decimals(ticks: list[float]) -> int:
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    return max(0, min(3, -math.floor(math.log10(step) + 1e-9))) if step < 1 else 0


def _marker(shape: str | None, x: float, y: float, colour: str, tip: str) -> str:
    title = f"<title>{escape(tip)}</title>"
    if shape == "diamond":
        r = 7
        return (f'<path d="M{x:.1f} {y - r:.1f}L{x + r:.1f} {y:.1f}L{x:.1f} {y + r:.1f}L{x - r:.1f} {y:.1f}Z" '
                f'fill="{colour}">{title}</path>')
    if shape == "circle-open":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="white" stroke="{colour}" stroke-width="2">{title}</circle>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">{title}</circle>'


_DASH = {"dot": "2 4", "dash": "8 5"}


def _svg(path: charts.TargetPath, size: dict) -> str:
    W, H, fs = size["width"], size["height"], size["font"]
    lang, d, unit = path.lang, path.decimals, path.unit
    values = [v for t in path.traces for _, v in t.points if v is not None and math.isfinite(v)]
    if path.target is not None:
        values.append(path.target)
    ticks = nice_ticks(min(values), max(values)) if values else [0.0, 1.0]
    tick_d = max(_tick_decimals(ticks), 0)
    tick_text = [i18n.number(v, tick_d) for v in ticks]

    # legend: one row of swatches and names at the top, wrapped to the width
    legend, lx, ly = [], 0.0, fs + 2
    for t in path.traces:
        w = 26 + text_width(t.name, fs) + 16
        if lx and lx + w > W - 8:
            lx, ly = 0.0, ly + fs + 8
        sx = 8 + lx
        if t.line:
            dash = f' stroke-dasharray="{_DASH[t.dash]}"' if t.dash else ""
            legend.append(f'<line x1="{sx:.1f}" y1="{ly - fs / 3:.1f}" x2="{sx + 20:.1f}" y2="{ly - fs / 3:.1f}" '
                          f'stroke="{t.colour}" stroke-width="{t.width}"{dash}/>')
        if t.marker:
            legend.append(_marker(t.marker, sx + 10, ly - fs / 3, t.colour, t.name))
        legend.append(f'<text x="{sx + 26:.1f}" y="{ly:.1f}">{escape(t.name)}</text>')
        lx += w
    top = ly + fs + 14 + (fs + 6 if unit else 0)   # legend, then the unit above the value labels
    left = 14 + max([text_width(s, fs) for s in tick_text] + [text_width(unit, fs) - 8])
    right, bottom = 16, fs + 16
    pw, ph = W - left - right, H - top - bottom
    lo, hi = ticks[0], ticks[-1]
    n = len(path.quarters)
    index = {q: i for i, q in enumerate(path.quarters)}
    X = lambda q: left + (pw / 2 if n < 2 else 8 + index[q] * (pw - 16) / (n - 1))  # noqa: E731
    Y = lambda v: top + ph - (v - lo) / ((hi - lo) or 1.0) * ph  # noqa: E731

    out = [f'<rect width="{W}" height="{H}" fill="white"/>']
    for v, s in zip(ticks, tick_text):   # horizontal grid and value labels
        y = Y(v)
        out.append(f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{W - right:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        out.append(f'<text x="{left - 6:.1f}" y="{y + fs / 3:.1f}" text-anchor="end">{escape(s)}</text>')
    if unit:   # upright, above the value labels (a rotated CJK unit reads sideways)
        out.append(f'<text x="{left - 6:.1f}" y="{top - fs:.1f}" text-anchor="end">{escape(unit)}</text>')
    base_y = top + ph
    out.append(f'<line x1="{left:.1f}" y1="{base_y:.1f}" x2="{W - right:.1f}" y2="{base_y:.1f}" stroke="{AXIS}"/>')
    for q, label in charts.quarter_ticks(path.quarters, lang, size["ticks"]):
        x = X(q)
        anchor = "start" if x - text_width(label, fs) / 2 < 2 else "end" if x + text_width(label, fs) / 2 > W - 2 else "middle"
        out.append(f'<line x1="{x:.1f}" y1="{base_y:.1f}" x2="{x:.1f}" y2="{base_y + 5:.1f}" stroke="{AXIS}"/>')
        out.append(f'<text x="{x:.1f}" y="{base_y + fs + 6:.1f}" text-anchor="{anchor}">{escape(label)}</text>')
    if path.target is not None:
        y = Y(path.target)
        out.append(f'<line class="rr-target" x1="{left:.1f}" y1="{y:.1f}" x2="{W - right:.1f}" y2="{y:.1f}" '
                   f'stroke="{charts.TARGET}" stroke-width="1.5" stroke-dasharray="{_DASH["dash"]}"/>')
        out.append(f'<text x="{left + 4:.1f}" y="{y - 5:.1f}" fill="{charts.TARGET_TEXT}">{escape(path.target_label)}</text>')
    for t in path.traces:
        pts = [(q, v) for q, v in t.points if v is not None and math.isfinite(v) and q in index]
        if t.line and len(pts) > 1:
            dash = f' stroke-dasharray="{_DASH[t.dash]}"' if t.dash else ""
            coords = " ".join(f"{X(q):.1f},{Y(v):.1f}" for q, v in pts)
            out.append(f'<polyline class="rr-{t.key}" fill="none" stroke="{t.colour}" stroke-width="{t.width}" '
                       f'stroke-linejoin="round"{dash} points="{coords}"/>')
        if t.marker:
            out += [_marker(t.marker, X(q), Y(v), t.colour,
                            f"{t.name} · {i18n.period_label(q, lang)}: {i18n.with_unit(v, d, unit, lang)}")
                    for q, v in pts]
        for (q, v), label in zip(pts, t.labels or []):
            out.append(f'<text x="{X(q) - 8:.1f}" y="{Y(v) - 10:.1f}" text-anchor="end" '
                       f'fill="{charts.TARGET_TEXT}">{escape(label)}</text>')
    title = escape(path.title)
    return (f'<svg class="rr-chart {size["css"]}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" '
            f'width="100%" role="img" aria-label="{title}" font-family="{charts.FONT}" font-size="{fs}" '
            f'fill="{charts.TEXT}"><title>{title}</title>{"".join(out)}{"".join(legend)}</svg>')


def target_path_svg(path: charts.TargetPath) -> str:
    """The chart in both sizes (CSS shows the wide one, or the narrow one on a phone)."""
    return _svg(path, WIDE) + _svg(path, NARROW)
