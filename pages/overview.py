"""总览 Overview — status strip, KPI cards by pillar, most-lagging indicators and sub-regions."""

import html

import pandas as pd
import streamlit as st

from metrics import charts, i18n, periods
from metrics.catalog import PILLAR_ORDER
from metrics.i18n import tr
from pages import common

f = common.page_filters()
lg = f.lang
common.st_header(f, "page_overview")

if common.ready(f):
    rows, children = common.cached_assess_overview(f.data_dir, f.version, f.region, f.period, f.plan.id)
    if all(r.current is None for r in rows):
        st.info(tr("no_data_region", lg))
        st.stop()

    # -- status strip (click to filter) -----------------------------------------------------
    counts = pd.Series([r.assessment.status for r in rows]).value_counts()
    present = [s for s in i18n.STATUS_ORDER if s in counts]
    picked = st.pills(tr("status_strip", lg), present, selection_mode="single", key="status_filter",
                      format_func=lambda s: f"{i18n.status_label(s, lg)}  {counts[s]}")
    shown = [r for r in rows if picked is None or r.assessment.status == picked]

    # -- KPI cards grouped by pillar ----------------------------------------------------------
    def card(r) -> str:
        ind, a, t = r.indicator, r.assessment, r.target
        d = ind.decimals
        value = a.value if a.value is not None else r.current
        label = ""
        if t is not None and t.kind == "milestones":
            label = i18n.paren(tr("cumulative", lg), lg)
        target = "" if a.target is None else (
            f"{tr('target', lg)} {common.fmt(a.target, d)}"
            + (f" · {t.target_period[:4]}" if t is not None else ""))
        expected = "" if a.expected is None else f" · {tr('expected', lg)} {common.fmt(a.expected, d)}"
        spark = charts.sparkline_svg(r.sparkline(), i18n.status_colour(a.status))
        return (
            f'<div class="rr-name">{html.escape(i18n.name(ind, lg))}{label}</div>'
            f'<div><span class="rr-value">{common.fmt(value, d)}</span>'
            f'<span class="rr-unit">{html.escape(i18n.unit(ind, lg))}</span></div>'
            f'<div class="rr-small">{target}{expected}</div>'
            f"{common.progress_bar_html(value, a.expected, a.target, a.baseline, a.status)}"
            f"<div>{common.status_badge(a.status, lg)}</div>"
            f"<div>{spark}</div>"
            f'<div class="rr-small">{tr("vs_prev_q", lg)} {common.fmt_delta(r.change_quarter, d)} · '
            f'{tr("vs_last_year", lg)} {common.fmt_delta(r.change_year, d)}</div>'
        )

    for pillar in PILLAR_ORDER:
        # indicators with a target first: a leader looks for what is lagging, not for 无目标
        group = sorted((r for r in shown if r.indicator.pillar == pillar),
                       key=lambda r: r.assessment.status in ("no_target", "no_data"))
        if not group:
            continue
        st.subheader(f"{i18n.pillar_name(pillar, lg)} · {tr('n_indicators', lg, n=len(group))}")
        per_row = 4
        for start in range(0, len(group), per_row):
            cols = st.columns(per_row)
            for col, r in zip(cols, group[start:start + per_row]):
                with col.container(border=True):
                    st.markdown(card(r), unsafe_allow_html=True)

    # -- most lagging -------------------------------------------------------------------------
    st.divider()
    left, right = st.columns(2)
    lagging = sorted((r for r in rows if i18n.STATUS_SEVERITY[r.assessment.status] >= 3),
                     key=lambda r: (-i18n.STATUS_SEVERITY[r.assessment.status],
                                    r.assessment.progress if r.assessment.progress is not None else 0))
    with left:
        st.subheader(tr("most_lagging_ind", lg))
        table = pd.DataFrame([{
            tr("indicator", lg): i18n.name(r.indicator, lg),
            tr("value", lg): common.fmt(r.assessment.value, r.indicator.decimals),
            tr("expected", lg): common.fmt(r.assessment.expected, r.indicator.decimals),
            tr("progress", lg): common.fmt(r.assessment.progress, 2),
            tr("status", lg): i18n.status_label(r.assessment.status, lg),
        } for r in lagging[:8]])
        if table.empty:
            st.success(i18n.status_label("on_track", lg))
        else:
            st.dataframe(table, hide_index=True, width="stretch")
    with right:
        st.subheader(tr("most_lagging_reg", lg))
        if not children:
            st.info(tr("no_children", lg))
        else:
            h = f.store.hierarchy
            summary = []
            for code, statuses in children.items():
                bad = [s for s in statuses if i18n.STATUS_SEVERITY[s.assessment.status] >= 3]
                gap = sum(max(0.0, 1 - (s.assessment.progress or 0)) for s in bad)
                summary.append({
                    tr("region_col", lg): i18n.region_name(h[code], lg),
                    i18n.status_label("off_track", lg): sum(s.assessment.status in ("off_track", "not_met") for s in statuses),
                    i18n.status_label("regressing", lg): sum(s.assessment.status == "regressing" for s in statuses),
                    i18n.status_label("accelerate", lg): sum(s.assessment.status == "accelerate" for s in statuses),
                    tr("gap", lg): round(gap, 2),
                })
            frame = pd.DataFrame(summary).sort_values(tr("gap", lg), ascending=False)
            st.dataframe(frame.head(8), hide_index=True, width="stretch")
    st.caption(f"{periods.label_zh(f.period) if lg == 'zh' else f.period} · v{f.version}")
