"""总览 Overview — first screen: status counts (click to filter), the lagging indicators and
sub-regions, then the KPI cards by pillar; cards without a target fold away at the end."""

import html

import pandas as pd
import streamlit as st

from metrics import charts, i18n
from metrics.catalog import PILLAR_ORDER
from metrics.i18n import tr
from pages import common, widgets

f = common.page_filters()
lg = f.lang
common.st_header(f, "page_overview")


def severity(r) -> int:
    return i18n.STATUS_SEVERITY[r.assessment.status]


def value_text(r, value) -> str:
    return i18n.with_unit(value, r.indicator.decimals, i18n.unit(r.indicator, lg), lg)


def basis_text(r) -> str:
    label = i18n.basis_label(r.assessment.basis if r.target is not None else r.indicator.basis, lg)
    return "" if not label else f' <span class="rr-basis">{html.escape(i18n.paren(label, lg))}</span>'


def card(r) -> str:
    """One KPI card as HTML (all cards of a pillar go out in one grid: one element, not 47)."""
    ind, a, t = r.indicator, r.assessment, r.target
    d, unit = ind.decimals, i18n.unit(ind, lg)
    parts = [f'<div class="rr-name">{html.escape(i18n.name(ind, lg))}{basis_text(r)}</div>']
    if a.final and t is not None:
        # after the target year: the judged value at the target year, the latest one beside it
        parts.append(f'<div class="rr-final">{html.escape(tr("judged_at", lg, year=t.target_period[:4]))}</div>')
        parts.append(f'<div><span class="rr-value">{common.fmt(a.value, d)}</span>'
                     f'<span class="rr-unit">{html.escape(unit)}</span></div>')
        parts.append(f'<div class="rr-small">{tr("latest_value", lg)}{i18n.paren(i18n.period_label(r.period, lg), lg)}'
                     f'{i18n.colon(lg)}{html.escape(value_text(r, common.latest_value(r)))}</div>')
    else:
        value = a.value if a.value is not None else r.current
        parts.append(f'<div><span class="rr-value">{common.fmt(value, d)}</span>'
                     f'<span class="rr-unit">{html.escape(unit)}</span></div>')
    facts = []
    if a.target is not None:
        facts.append(f"{tr('target', lg)} {value_text(r, a.target)}"
                     + (f" · {i18n.year_label(t.target_period[:4], lg)}" if t is not None else ""))
    if a.expected is not None and not a.final:
        facts.append(f"{tr('expected', lg)} {value_text(r, a.expected)}")
    if facts:
        parts.append(f'<div class="rr-small">{html.escape(" · ".join(facts))}</div>')
    parts.append(common.progress_bar_html(a.value, a.expected, a.target, a.baseline, a.status))
    progress = "" if a.progress is None else f' <span class="rr-small rr-progress">{tr("progress", lg)} {i18n.percent(a.progress)}</span>'
    parts.append(f"<div>{common.status_badge(a.status, lg)}{progress}</div>")
    reason = common.reason_text(a, lg, d)
    if reason:
        parts.append(f'<div class="rr-reason">{html.escape(reason)}</div>')
    parts.append(charts.sparkline_img(r.sparkline(), i18n.status_colour(a.status), decimals=d, lang=lg))
    parts.append(f'<div class="rr-small">{tr("vs_prev_q", lg)} {html.escape(i18n.with_unit(r.change_quarter, d, unit, lg, signed=True))}'
                 f' · {tr("vs_last_year", lg)} {html.escape(i18n.with_unit(r.change_year, d, unit, lg, signed=True))}</div>')
    return f'<div class="rr-card">{"".join(parts)}</div>'


def cards_html(group) -> str:
    return f'<div class="rr-grid">{"".join(card(r) for r in group)}</div>'


def lagging_indicators(rows) -> pd.DataFrame:
    lagging = sorted((r for r in rows if severity(r) >= i18n.LAGGING),
                     key=lambda r: (-severity(r), r.assessment.progress if r.assessment.progress is not None else 0))
    return pd.DataFrame([{
        tr("indicator", lg): i18n.name(r.indicator, lg),
        tr("status", lg): i18n.status_label(r.assessment.status, lg),
        tr("progress", lg): i18n.percent(r.assessment.progress),
        tr("value", lg): value_text(r, r.assessment.value),
        tr("expected", lg): value_text(r, r.assessment.expected),
    } for r in lagging[:8]])


def lagging_regions(children, final: bool) -> pd.DataFrame:
    h = f.store.hierarchy
    worst = "not_met" if final else "off_track"
    summary = []
    for code, statuses in children.items():
        bad = [s for s in statuses if i18n.STATUS_SEVERITY[s.assessment.status] >= i18n.LAGGING]
        if not bad:
            continue
        rec = {tr("region_col", lg): i18n.region_name(h[code], lg), tr("lagging_count", lg): len(bad),
               i18n.status_label(worst, lg): sum(s.assessment.status in ("off_track", "not_met") for s in statuses),
               i18n.status_label("regressing", lg): sum(s.assessment.status == "regressing" for s in statuses)}
        if not final:
            rec[i18n.status_label("accelerate", lg)] = sum(s.assessment.status == "accelerate" for s in statuses)
        summary.append(rec)
    frame = pd.DataFrame(summary)
    if frame.empty:
        return frame
    return frame.sort_values([tr("lagging_count", lg), i18n.status_label(worst, lg)], ascending=False).head(8)


@st.fragment
def st_body(rows, children, final: bool) -> None:
    """Everything below the header. A fragment: a click on a status reruns only this part."""
    # -- 1. counts by status (click one to filter) ------------------------------------------------
    counts = pd.Series([r.assessment.status for r in rows]).value_counts()
    present = [s for s in i18n.STATUS_ORDER if s in counts]
    picked = st.pills(tr("status_strip", lg), present, selection_mode="single", key="status_filter",
                      format_func=lambda s: f"{i18n.status_label(s, lg)}  {counts[s]}")
    shown = [r for r in rows if picked is None or r.assessment.status == picked]

    # -- 2. what lags: indicators and sub-regions (full width: no column of a table cut off) -------
    st.subheader(tr("most_lagging_ind", lg))
    table = lagging_indicators(shown)
    if table.empty:
        st.success(tr("no_lagging", lg))
    else:
        widgets.st_table(table, stem=f"lagging_{f.region}_{f.period}", lang=lg, static=True)
    st.subheader(tr("most_lagging_reg", lg))
    if not children:
        st.info(tr("no_children", lg))
    else:
        frame = lagging_regions(children, final)
        if frame.empty:
            st.success(tr("no_lagging_regions", lg))
        else:
            widgets.st_table(frame, stem=f"lagging_regions_{f.region}_{f.period}", lang=lg, static=True)

    # -- 3. the cards, by pillar; indicators without a target folded at the end --------------------
    with_target = [r for r in shown if r.target is not None]
    without = [r for r in shown if r.target is None]
    # every pillar's heading and cards in ONE html block: one element, not a heading and a grid each
    blocks = []
    for pillar in PILLAR_ORDER:
        group = sorted((r for r in with_target if r.indicator.pillar == pillar), key=lambda r: -severity(r))
        if group:
            title = f"{i18n.pillar_name(pillar, lg)} · {tr('n_indicators', lg, n=len(group))}"
            blocks.append(f'<h3 class="rr-pillar">{html.escape(title)}</h3>{cards_html(group)}')
    if blocks:
        st.html("".join(blocks))
    if without:
        with st.expander(tr("no_target_section", lg, n=len(without)), expanded=False):
            st.html(cards_html(sorted(without, key=lambda r: PILLAR_ORDER.index(r.indicator.pillar)
                            if r.indicator.pillar in PILLAR_ORDER else len(PILLAR_ORDER))))


if common.ready(f):
    rows, children = common.cached_assess_overview(f.data_dir, f.version, f.region, f.period, f.plan.id)
    if all(r.current is None and r.assessment.value is None for r in rows):
        st.info(tr("no_data_region", lg))
        st.stop()
    final = any(r.assessment.final for r in rows)

    st_body(rows, children, final)
