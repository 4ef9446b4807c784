"""Plotly figures shared by the pages and the exports: data in, figure out.

One theme (Noto Sans CJK SC, the colour-blind-safe status palette, large enough type for a
projector); every figure's text comes from ``i18n``.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass

import plotly.graph_objects as go

from metrics import i18n, periods, progress

FONT = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
ACTUAL = "#0072B2"
EXPECTED = "#777777"
TARGET = "#D55E00"
TEXT = "#222222"          # every chart text: ≥ 4.5:1 on the white paper
TARGET_TEXT = "#A04000"   # the target colour, dark enough for text on white
MAX_TICKS = 6             # quarter labels on an axis (thinned so they never overlap)


def apply_theme(fig: go.Figure, height: int = 380) -> go.Figure:
    fig.update_layout(
        font={"family": FONT, "size": 14, "color": TEXT},
        paper_bgcolor="white", plot_bgcolor="white", height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hoverlabel={"font": {"family": FONT}},
    )
    fig.update_xaxes(showgrid=False, linecolor="#bbb", automargin=True)
    fig.update_yaxes(gridcolor="#eee", zeroline=False, automargin=True)
    return fig


def sparkline(points: list[tuple[str, float]], colour: str) -> go.Figure:
    fig = go.Figure(go.Scatter(
        x=[p for p, _ in points], y=[v for _, v in points], mode="lines+markers",
        line={"color": colour, "width": 2}, marker={"size": 4}, hovertemplate="%{x}: %{y:,.1f}<extra></extra>"))
    fig.update_layout(height=60, margin={"l": 0, "r": 0, "t": 0, "b": 0}, showlegend=False,
                      xaxis={"visible": False}, yaxis={"visible": False},
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    return fig


def _quarters(first: str, last: str) -> list[str]:
    return periods.period_range(first, last)


def quarter_ticks(quarters: list[str], lang: str, max_ticks: int = MAX_TICKS) -> list[tuple[str, str]]:
    """The labelled quarters of an axis: (quarter, label), at most ``max_ticks`` of them.

    Up to ``max_ticks`` quarters each get a label (2023年三季度 / 2023 Q3); a longer span is
    labelled by year at its first quarter (2023年 / 2023), every n-th year, so labels never
    overlap even on a phone.
    """
    if len(quarters) <= max_ticks:
        return [(q, i18n.period_label(q, lang)) for q in quarters]
    q1 = [q for q in quarters if q.endswith("Q1")] or quarters[:1]
    step = -(-len(q1) // max_ticks)
    return [(q, i18n.year_label(q[:4], lang)) for q in q1[::step]]


def quarter_axis(fig: go.Figure, quarters: list[str], lang: str) -> None:
    """A category axis of quarters in the UI's language, labelled by ``quarter_ticks``."""
    ticks = quarter_ticks(quarters, lang)
    fig.update_xaxes(type="category", categoryorder="array",
                     categoryarray=[i18n.period_label(q, lang) for q in quarters],
                     tickmode="array", tickvals=[i18n.period_label(q, lang) for q, _ in ticks],
                     ticktext=[text for _, text in ticks], tickangle=0)


def _x(periods_: list[str], lang: str) -> list[str]:
    return [i18n.period_label(p, lang) for p in periods_]


@dataclass
class Trace:
    """One series of the target-path chart, whatever draws it (plotly or ``chart_svg``)."""
    key: str                                  # actual | expected | milestone | benchmark | projection | expected_now
    name: str
    points: list[tuple[str, float | None]]    # (quarter, value in the indicator's basis)
    colour: str
    dash: str | None = None                   # None (solid) | "dot" | "dash"
    width: float = 2.0
    line: bool = True
    marker: str | None = "circle"             # None | "circle" | "circle-open" | "diamond"
    labels: list[str] | None = None           # text beside each marker (milestone increments)


@dataclass
class TargetPath:
    """What the target-path chart shows: its series, the quarter axis and the target line."""
    title: str
    traces: list[Trace]
    quarters: list[str]                       # every quarter on the axis, first shown to last
    unit: str
    decimals: int
    target: float | None = None               # the horizontal target line
    target_label: str = ""
    lang: str = "zh"


def target_path(status, base: str, lang: str = "zh", benchmark=None) -> TargetPath:
    """Actual vs target path: baseline, expected path, milestones, target line, projection."""
    ind, target, a = status.indicator, status.target, status.assessment
    d = ind.decimals
    unit = i18n.unit(ind, lang)
    series = [(p, v) for p, v in status.series if p <= status.period]   # already in the indicator's basis
    traces = [Trace("actual", i18n.tr("actual", lang), series, ACTUAL, width=3)]
    expected = i18n.tr("expected_path", lang)
    target_line = None
    if target is not None:
        T = target.target_period
        if target.kind == "milestones":
            xs = _quarters(f"{min(target.milestones)}Q1", T)
            ys = progress.milestone_path(target, status.measured or status.series, xs)
            traces.append(Trace("expected", expected, list(zip(xs, ys)), EXPECTED, dash="dot", marker=None))
            cum, marks = 0.0, []
            for year in sorted(target.milestones):
                cum += target.milestones[year]
                marks.append((f"{year}Q4", cum, target.milestones[year]))
            traces.append(Trace("milestone", i18n.tr("milestone", lang), [(m[0], m[1]) for m in marks], TARGET,
                                line=False, marker="diamond", labels=[f"+{i18n.number(m[2], d)}" for m in marks]))
        elif target.kind == "schedule":
            xs = _quarters(base, T)
            traces.append(Trace("expected", expected,
                                [(q, progress.expected_schedule(target.schedule, base, q)) for q in xs],
                                EXPECTED, dash="dot", marker=None))
            traces.append(Trace("milestone", i18n.tr("milestone", lang), list(target.schedule.items()), TARGET,
                                line=False, marker="diamond"))
        elif target.kind == "relative" and benchmark:
            traces.append(Trace("benchmark", i18n.tr("benchmark", lang),
                                [(p, v) for p, v in benchmark if p <= status.period], TARGET, dash="dash", marker=None))
        elif a.baseline is not None and a.target is not None:
            start = a.base_period or target.baseline_period or base   # the base actually used
            traces.append(Trace("expected", expected, [(start, a.baseline), (T, a.target)], EXPECTED, dash="dot"))
        if a.target is not None and target.kind != "relative":
            target_line = a.target
        if a.expected is not None and status.period and not a.final:
            traces.append(Trace("expected_now", f"{i18n.tr('expected', lang)} {i18n.period_label(status.period, lang)}",
                                [(status.period, a.expected)], EXPECTED, line=False, marker="circle-open"))
        if a.projection is not None and series:
            last_p, last_v = series[-1]
            traces.append(Trace("projection", i18n.tr("projection_line", lang), [(last_p, last_v), (T, a.projection)],
                                ACTUAL, dash="dash", width=1.5, marker="circle-open"))
    shown = [p for tr_ in traces for p, _ in tr_.points]
    quarters = periods.period_range(min(shown), max(shown)) if shown else []
    label = "" if target_line is None else \
        f"{i18n.tr('target_line', lang)} {i18n.with_unit(target_line, d, unit, lang)}"
    return TargetPath(i18n.name(ind, lang), traces, quarters, unit, d, target_line, label, lang)


def target_path_figure(status, base: str, lang: str = "zh", benchmark=None) -> go.Figure:
    """The target path as a plotly figure (the interactive chart and the exports)."""
    path = target_path(status, base, lang, benchmark)
    fig = go.Figure()
    hover = f"%{{x}}: %{{y:,.{path.decimals}f}} {path.unit}<extra>%{{fullData.name}}</extra>"
    for t in path.traces:
        mode = "+".join(m for m, on in (("lines", t.line), ("markers", t.marker), ("text", t.labels)) if on)
        kwargs: dict = {}
        if t.line:
            kwargs["line"] = {"color": t.colour, "width": t.width, **({"dash": t.dash} if t.dash else {})}
        if t.marker:
            kwargs["marker"] = {"symbol": t.marker, "color": t.colour,   # Trace's names are plotly's
                                **({"size": 12} if t.marker == "diamond" else {})}
        if t.labels:
            kwargs.update(text=t.labels, textposition="top left", textfont={"color": TARGET_TEXT})
        fig.add_trace(go.Scatter(x=_x([p for p, _ in t.points], lang), y=[v for _, v in t.points], mode=mode,
                                 name=t.name, hovertemplate=hover, **kwargs))
    if path.target is not None:
        fig.add_hline(y=path.target, line={"color": TARGET, "width": 1.5, "dash": "dash"},
                      annotation_text=path.target_label, annotation_position="top left",
                      annotation_font={"color": TARGET_TEXT})
    # every quarter on the axis, evenly spaced, from the first shown to the target period
    if path.quarters:
        quarter_axis(fig, path.quarters, lang)
    if path.unit:   # upright above the value labels, as on the page (a rotated CJK unit reads sideways)
        fig.add_annotation(text=path.unit, x=0, y=1, xref="paper", yref="paper", xanchor="right",
                           yanchor="bottom", showarrow=False, xshift=-6, yshift=6, name="unit")
    return apply_theme(fig)


def ranking_figure(rows: list[dict], target_value: float | None, unit: str, decimals: int,
                   lang: str = "zh", direction: str = "higher") -> go.Figure:
    """Horizontal bars of sub-regions, coloured by status, with the target line."""
    rows = [r for r in rows if r["value"] is not None]
    rows.sort(key=lambda r: r["value"], reverse=(direction == "lower"))
    fig = go.Figure(go.Bar(
        y=[r["name"] for r in rows], x=[r["value"] for r in rows], orientation="h",
        marker={"color": [i18n.status_colour(r["status"]) for r in rows]},
        text=[f"{i18n.with_unit(r['value'], decimals, unit, lang)}  {i18n.status_label(r['status'], lang)}"
              for r in rows],
        textposition="auto", insidetextanchor="start",
        insidetextfont={"color": i18n.TEXT_ON_STATUS}, outsidetextfont={"color": TEXT},
        hovertemplate=f"%{{y}}: %{{x:,.{decimals}f}} {unit}<extra></extra>"))
    if target_value is not None:
        fig.add_vline(x=target_value, line={"color": TARGET, "dash": "dash", "width": 2},
                      annotation_text=f"{i18n.tr('target_line', lang)} {i18n.with_unit(target_value, decimals, unit, lang)}",
                      annotation_position="top", annotation_font={"color": TARGET_TEXT})
    fig.update_layout(xaxis_title=unit, showlegend=False)
    return apply_theme(fig, height=max(260, 34 * len(rows) + 90))


def short_label(text: str, limit: int = 12) -> str:
    """A long axis label cut to ``limit`` characters (the full text stays in the hover)."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def heatmap_figure(regions: list[str], indicators: list[str], statuses: list[list[str]],
                   hover: list[list[str]], lang: str = "zh") -> go.Figure:
    """Scorecard: indicators (rows, labels read horizontally) × sub-regions (columns).

    ``statuses``/``hover`` are indexed [region][indicator]; each cell is coloured and carries
    its status icon, so colour is never the only signal; the legend names every status shown.
    Clicking a cell selects it (trace 1; ``customdata`` carries [region index, indicator index]).
    """
    order = i18n.STATUS_ORDER
    n = len(order)
    by_ind = list(zip(*statuses)) if statuses else []
    hover_t = list(zip(*hover)) if hover else []
    z = [[order.index(s) for s in row] for row in by_ind]
    scale = []
    for i, s in enumerate(order):
        c = i18n.status_colour(s)
        scale += [(i / n, c), ((i + 1) / n, c)]
    # short row labels and upright column labels leave room for every cell on a 390 px phone
    y_labels = [short_label(name, 22 if lang == "en" else 10) for name in indicators]
    # identical cut labels would merge rows: keep the full names where a cut collides
    clashes = {lab for lab in y_labels if y_labels.count(lab) > 1}
    y_labels = [full if lab in clashes else lab for lab, full in zip(y_labels, indicators)]
    if len(set(y_labels)) < len(y_labels):
        y_labels = indicators
    fig = go.Figure(go.Heatmap(
        z=z, x=regions, y=y_labels, zmin=-0.5, zmax=n - 0.5, colorscale=scale, showscale=False,
        text=[[i18n.STATUS[s][2] for s in row] for row in by_ind], texttemplate="%{text}",
        textfont={"size": 13, "color": i18n.TEXT_ON_STATUS}, hoverinfo="skip", xgap=2, ygap=2, name=""))
    # plotly selects no heatmap cell on click: an invisible marker on every cell carries the
    # hover text and the click (trace 1; customdata = [region index, indicator index, hover])
    cells = [(ri, ii) for ii in range(len(indicators)) for ri in range(len(regions))]
    fig.add_trace(go.Scatter(
        x=[regions[ri] for ri, _ in cells], y=[y_labels[ii] for _, ii in cells], mode="markers",
        marker={"symbol": "square", "size": 22, "opacity": 0}, showlegend=False, name="",
        selected={"marker": {"opacity": 0}}, unselected={"marker": {"opacity": 0}},
        customdata=[[ri, ii, hover_t[ii][ri] if hover_t else ""] for ri, ii in cells],
        hovertemplate="%{x}<br>%{customdata[2]}<extra></extra>"))
    present = [s for s in order if any(s in row for row in statuses)]
    for s in present:   # legend entries: one square per status shown
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=i18n.status_label(s, lang),
                                 marker={"symbol": "square", "size": 12, "color": i18n.status_colour(s)},
                                 hoverinfo="skip"))
    # fixed ranges: the invisible markers must not pad the axes
    fig.update_layout(xaxis={"side": "top", "tickangle": -90, "tickfont": {"size": 12},
                             "range": [-0.5, len(regions) - 0.5], "autorange": False},
                      yaxis={"range": [len(indicators) - 0.5, -0.5], "autorange": False,
                             "tickfont": {"size": 12}},
                      showlegend=True,
                      legend={"orientation": "h", "yanchor": "top", "y": -0.02, "x": 0,
                              "font": {"size": 12}})
    fig.update_xaxes(showgrid=False, zeroline=False)
    fig.update_yaxes(showgrid=False, zeroline=False)
    return apply_theme(fig, height=max(360, 26 * len(indicators) + 190)).update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.02, "x": 0})


def sparkline_svg(points: list[tuple[str, float]], colour: str, width: int = 140, height: int = 34,
                  decimals: int = 1, lang: str = "zh", title: bool = True) -> str:
    """A tiny inline SVG line (cards show dozens of them; an SVG costs the browser nothing).
    ``title``: the values as its tooltip (an <img> of it carries them in alt/title instead)."""
    values = [v for _, v in points if v is not None]
    if len(values) < 2:
        return ""
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    step = (width - 6) / (len(values) - 1)
    xy = [(3 + i * step, height - 3 - (v - lo) / span * (height - 6)) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    last_x, last_y = xy[-1]
    tip = f"<title>{html.escape(_sparkline_title(points, decimals, lang))}</title>" if title else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img">{tip}'
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>'
            f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="3" fill="{colour}"/></svg>')


def _sparkline_title(points: list[tuple[str, float]], decimals: int, lang: str) -> str:
    return " · ".join(f"{i18n.period_label(p, lang)} {i18n.number(v, decimals)}" for p, v in points if v is not None)


def ranking_html(rows: list[dict], target_value: float | None, unit: str, decimals: int,
                 lang: str = "zh", direction: str = "higher") -> str:
    """The sub-region ranking as HTML bars (what the page shows; ``ranking_figure`` exports).

    One row per sub-region with a value, best first: name, a bar coloured by status from zero
    to the value, a dashed tick at the target, and the value with its status in words (colour
    is never the only signal).
    """
    rows = [r for r in rows if r["value"] is not None]
    rows.sort(key=lambda r: r["value"], reverse=(direction != "lower"))   # best first
    if not rows:
        return ""
    values = [r["value"] for r in rows] + ([target_value] if target_value is not None else [])
    lo, hi = min(0.0, *values), max(0.0, *values)
    span = (hi - lo) or 1.0
    pos = lambda v: (v - lo) / span * 100  # noqa: E731
    zero = pos(0.0)
    tick = "" if target_value is None else f'<div class="rr-rank-target" style="left:{pos(target_value):.1f}%"></div>'
    cells = []
    if target_value is not None:
        label = f"{i18n.tr('target_line', lang)} {i18n.with_unit(target_value, decimals, unit, lang)}"
        at = pos(target_value)   # the label ends at the tick on the right half, starts there on the left
        anchor = f"right:{100 - at:.1f}%" if at > 50 else f"left:{at:.1f}%"
        cells.append(f'<div></div><div class="rr-rank-track rr-rank-head">{tick}'
                     f'<span class="rr-rank-label" style="{anchor}">{html.escape(label)}</span>'
                     f'</div><div></div>')
    for r in rows:
        v = r["value"]
        left, width = min(pos(v), zero), abs(pos(v) - zero)
        text = f"{i18n.with_unit(v, decimals, unit, lang)} {i18n.status_label(r['status'], lang)}"
        tip = r.get("reason") or ""
        cells.append(
            f'<div class="rr-rank-name">{html.escape(r["name"])}</div>'
            f'<div class="rr-rank-track" title="{html.escape(tip)}"><div class="rr-rank-bar" style="left:{left:.1f}%;'
            f'width:{max(width, 0.5):.1f}%;background:{i18n.status_colour(r["status"])}"></div>{tick}</div>'
            f'<div class="rr-rank-value">{html.escape(text)}</div>')
    return f'<div class="rr-rank">{"".join(cells)}</div>'


def sparkline_img(points: list[tuple[str, float]], colour: str, decimals: int = 1, lang: str = "zh") -> str:
    """The sparkline as an <img> of its SVG (st.html keeps images, not inline SVG); the values
    read as its alt text and tooltip."""
    svg = sparkline_svg(points, colour, decimals=decimals, lang=lang, title=False)
    if not svg:
        return ""
    title = html.escape(_sparkline_title(points, decimals, lang))
    data = base64.b64encode(svg.encode()).decode()
    return (f'<img class="rr-spark" width="140" height="34" loading="lazy" alt="{title}" title="{title}" '
            f'src="data:image/svg+xml;base64,{data}">')
