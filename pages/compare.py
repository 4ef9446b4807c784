"""地区对比 Comparison — scorecard heatmap of sub-regions × indicators, sortable table, click-through."""

import pandas as pd
import streamlit as st

from metrics import charts, i18n
from metrics.i18n import tr
from pages import common, widgets

f = common.page_filters()
lg = f.lang
common.st_header(f, "page_compare")

def open_indicator(region: str, indicator: str) -> None:
    """Go to the indicator page for one sub-region (the sidebar follows)."""
    common.goto_region(region)
    st.session_state.update({"region": region, "indicator": indicator, common.wkey("indicator"): indicator})
    st.switch_page("pages/indicator.py", query_params={
        "lang": lg, "region": region, "period": f.period, "plan": f.plan.id, "indicator": indicator})


def clicked_cell(event, region_codes: list[str], indicator_codes: list[str]) -> tuple[str, str] | None:
    """The (region, indicator) of a clicked heatmap cell, from plotly's selection event."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    for point in points:
        data = point.get("customdata")
        if point.get("curve_number") == 1 and data:
            return region_codes[int(data[0])], indicator_codes[int(data[1])]
    return None


if common.ready(f):
    s = f.store
    h = s.hierarchy
    children = common.cached_assess_subregions(f.data_dir, f.version, f.region, f.period, f.plan.id)
    if not children:
        st.info(tr("no_children", lg))
        st.stop()
    codes = list(children)
    first = children[codes[0]]
    with_target = [i for i, r in enumerate(first) if r.target is not None]
    cols = with_target or list(range(len(first)))
    ind_names = [i18n.name(first[i].indicator, lg) for i in cols]
    region_names = [i18n.region_name(h[c], lg) for c in codes]
    statuses = [[children[c][i].assessment.status for i in cols] for c in codes]

    def hover(r) -> str:
        a = r.assessment
        d = r.indicator.decimals
        value = a.value if a.value is not None else r.current
        return (f"{common.fmt(value, d)} {i18n.unit(r.indicator, lg)} · {tr('target', lg)} "
                f"{common.fmt(a.target, d)} · {i18n.status_label(a.status, lg)}")

    hovers = [[hover(children[c][i]) for i in cols] for c in codes]
    st.subheader(tr("heatmap", lg))
    st.caption(tr("heatmap_hint", lg))
    fig = charts.heatmap_figure(region_names, ind_names, statuses, hovers, lg)
    event = widgets.st_chart(fig, key="heatmap", lang=lg, width="stretch",
                             trace={"region": f.region, "period": f.period, "snapshot": f.version},
                             on_select="rerun", selection_mode="points",
                             config={"displaylogo": False, "displayModeBar": False}, theme=None)
    clicked = clicked_cell(event, codes, [first[i].indicator.code for i in cols])
    if clicked is not None:
        open_indicator(*clicked)

    st.subheader(tr("table", lg))
    records = []
    column_config = {}
    for c, name in zip(codes, region_names):
        rec = {tr("region_col", lg): name}
        for i in cols:
            r = children[c][i]
            value = r.assessment.value if r.assessment.value is not None else r.current
            header = i18n.name(r.indicator, lg) + i18n.paren(i18n.unit(r.indicator, lg), lg)
            rec[header] = None if value is None else round(value, r.indicator.decimals)
            column_config[header] = st.column_config.NumberColumn(header, format=f"%.{r.indicator.decimals}f")
        rec[tr("lagging_count", lg)] = sum(i18n.STATUS_SEVERITY[children[c][i].assessment.status] >= i18n.LAGGING
                                           for i in cols)
        records.append(rec)
    table = pd.DataFrame(records)
    widgets.st_table(table, stem=f"compare_{f.region}_{f.period}", lang=lg, hide_index=True, width="stretch",
                     column_config=column_config)

    st.subheader(tr("open_indicator", lg))
    a, b, c3 = st.columns([2, 3, 1], vertical_alignment="bottom")
    pick_region = a.selectbox(tr("region_col", lg), codes, format_func=lambda x: i18n.region_name(h[x], lg),
                              key="cmp_region")
    pick_ind = b.selectbox(tr("indicator", lg), [first[i].indicator.code for i in cols],
                           format_func=lambda x: i18n.name(s.catalog.indicators[x], lg), key="cmp_indicator")
    if c3.button(tr("open_indicator", lg), key="cmp_open"):
        open_indicator(pick_region, pick_ind)
