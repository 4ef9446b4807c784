"""Plotly figures shared by the pages and the exports: data in, figure out.

One theme (Noto Sans CJK SC, the colour-blind-safe status palette, large enough type for a
projector); every figure's text comes from ``i18n``.
"""

from __future__ import annotations

import plotly.graph_objects as go

from metrics import i18n, periods, progress

FONT = "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
ACTUAL = "#0072B2"
EXPECTED = "#777777"
TARGET = "#D55E00"


def apply_theme(fig: go.Figure, height: int = 380) -> go.Figure:
    fig.update_layout(
        font={"family": FONT, "size": 14, "color": "#222"},
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


def target_path_figure(status, base: str, lang: str = "zh", benchmark=None) -> go.Figure:
    """Actual vs target path: baseline, expected path, milestones, target line, projection."""
    ind, target, a = status.indicator, status.target, status.assessment
    fig = go.Figure()
    series = [(p, v) for p, v in status.series if p <= status.period]   # already in the indicator's basis
    unit = i18n.unit(ind, lang)
    fig.add_trace(go.Scatter(
        x=[p for p, _ in series], y=[v for _, v in series], mode="lines+markers",
        name=i18n.tr("actual", lang), line={"color": ACTUAL, "width": 3},
        hovertemplate=f"%{{x}}: %{{y:,.{ind.decimals}f}} {unit}<extra></extra>"))
    if target is not None:
        T = target.target_period
        if target.kind == "milestones":
            first = f"{min(target.milestones)}Q1"
            xs = _quarters(first, T)
            fig.add_trace(go.Scatter(
                x=xs, y=progress.milestone_path(target, status.measured or status.series, xs), mode="lines",
                name=i18n.tr("expected_path", lang), line={"color": EXPECTED, "dash": "dot"}))
            cum, marks = 0.0, []
            for year in sorted(target.milestones):
                cum += target.milestones[year]
                marks.append((f"{year}Q4", cum, target.milestones[year]))
            fig.add_trace(go.Scatter(
                x=[m[0] for m in marks], y=[m[1] for m in marks], mode="markers+text",
                name=i18n.tr("milestone", lang), marker={"symbol": "diamond", "size": 12, "color": TARGET},
                text=[f"+{m[2]:,.0f}" for m in marks], textposition="top left",
                hovertemplate="%{x}: %{y:,.0f}<extra></extra>"))
        elif target.kind == "schedule":
            xs = _quarters(base, T)
            fig.add_trace(go.Scatter(
                x=xs, y=[progress.expected_schedule(target.schedule, base, q) for q in xs], mode="lines",
                name=i18n.tr("expected_path", lang), line={"color": EXPECTED, "dash": "dot"}))
            fig.add_trace(go.Scatter(
                x=list(target.schedule), y=list(target.schedule.values()), mode="markers",
                name=i18n.tr("milestone", lang), marker={"symbol": "diamond", "size": 12, "color": TARGET}))
        elif target.kind == "relative" and benchmark:
            fig.add_trace(go.Scatter(
                x=[p for p, _ in benchmark if p <= status.period], y=[v for p, v in benchmark if p <= status.period],
                mode="lines", name=i18n.tr("benchmark", lang), line={"color": TARGET, "dash": "dash"}))
        elif a.baseline is not None and a.target is not None:
            start = a.base_period or target.baseline_period or base   # the base actually used
            fig.add_trace(go.Scatter(
                x=[start, T], y=[a.baseline, a.target], mode="lines+markers",
                name=i18n.tr("expected_path", lang), line={"color": EXPECTED, "dash": "dot"}))
        if a.target is not None and target.kind != "relative":
            fig.add_hline(y=a.target, line={"color": TARGET, "width": 1.5, "dash": "dash"},
                          annotation_text=f"{i18n.tr('target_line', lang)} {a.target:,.{ind.decimals}f}",
                          annotation_position="top left", annotation_font={"color": TARGET})
        if a.projection is not None and series:
            last_p, last_v = series[-1]
            fig.add_trace(go.Scatter(
                x=[last_p, T], y=[last_v, a.projection], mode="lines+markers",
                name=i18n.tr("projection_line", lang), line={"color": ACTUAL, "dash": "dash", "width": 1.5},
                marker={"symbol": "circle-open"}))
    # every quarter on the axis, evenly spaced, from the first shown to the target period
    xs = [p for trace in fig.data for p in (trace.x or [])]
    if xs:
        fig.update_xaxes(type="category", categoryorder="array",
                         categoryarray=periods.period_range(min(xs), max(xs)))
    fig.update_layout(yaxis_title=unit)
    return apply_theme(fig)


def ranking_figure(rows: list[dict], target_value: float | None, unit: str, decimals: int,
                   lang: str = "zh", direction: str = "higher") -> go.Figure:
    """Horizontal bars of sub-regions, coloured by status, with the target line."""
    rows = [r for r in rows if r["value"] is not None]
    rows.sort(key=lambda r: r["value"], reverse=(direction == "lower"))
    fig = go.Figure(go.Bar(
        y=[r["name"] for r in rows], x=[r["value"] for r in rows], orientation="h",
        marker={"color": [i18n.status_colour(r["status"]) for r in rows]},
        text=[f"{r['value']:,.{decimals}f}  {i18n.status_label(r['status'], lang)}" for r in rows],
        textposition="auto", insidetextanchor="start",
        hovertemplate=f"%{{y}}: %{{x:,.{decimals}f}} {unit}<extra></extra>"))
    if target_value is not None:
        fig.add_vline(x=target_value, line={"color": TARGET, "dash": "dash", "width": 2},
                      annotation_text=f"{i18n.tr('target_line', lang)} {target_value:,.{decimals}f}",
                      annotation_position="top")
    fig.update_layout(xaxis_title=unit, showlegend=False)
    return apply_theme(fig, height=max(260, 34 * len(rows) + 90))


def heatmap_figure(regions: list[str], indicators: list[str], statuses: list[list[str]],
                   hover: list[list[str]], lang: str = "zh") -> go.Figure:
    """Scorecard: indicators (rows, labels read horizontally) × sub-regions (columns).

    ``statuses``/``hover`` are indexed [region][indicator]; each cell is coloured and carries
    its status icon, so colour is never the only signal.
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
    fig = go.Figure(go.Heatmap(
        z=z, x=regions, y=indicators, zmin=-0.5, zmax=n - 0.5, colorscale=scale, showscale=False,
        text=[[i18n.STATUS[s][2] for s in row] for row in by_ind], texttemplate="%{text}",
        textfont={"size": 13, "color": "#111"},
        customdata=[list(r) for r in hover_t], hovertemplate="%{x}<br>%{y}<br>%{customdata}<extra></extra>",
        xgap=2, ygap=2))
    fig.update_layout(xaxis={"side": "top"}, yaxis={"autorange": "reversed"})
    return apply_theme(fig, height=max(320, 26 * len(indicators) + 120))


def sparkline_svg(points: list[tuple[str, float]], colour: str, width: int = 140, height: int = 34) -> str:
    """A tiny inline SVG line (cards show dozens of them; an SVG costs the browser nothing)."""
    values = [v for _, v in points if v is not None]
    if len(values) < 2:
        return ""
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    step = (width - 6) / (len(values) - 1)
    xy = [(3 + i * step, height - 3 - (v - lo) / span * (height - 6)) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    last_x, last_y = xy[-1]
    title = " · ".join(f"{p} {v:,.1f}" for p, v in points)
    return (f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
            f"<title>{title}</title>"
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>'
            f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="3" fill="{colour}"/></svg>')
