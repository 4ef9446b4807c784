"""地区对比 Comparison — scorecard heatmap of sub-regions × indicators, sortable table, click-through."""

import pandas as pd
import streamlit as st

from metrics import charts, i18n
from metrics.i18n import tr
from pages import common

f = common.page_filters()
lg = f.lang
common.st_header(f, "page_compare")

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
    st.caption("  ".join(i18n.status_label(sn, lg) for sn in i18n.STATUS_ORDER))
    st.plotly_chart(charts.heatmap_figure(region_names, ind_names, statuses, hovers, lg),
                    width="stretch", config={"displaylogo": False}, key="heatmap")

    st.subheader(tr("table", lg))
    records = []
    for c, name in zip(codes, region_names):
        rec = {tr("region_col", lg): name}
        for i in cols:
            r = children[c][i]
            value = r.assessment.value if r.assessment.value is not None else r.current
            rec[i18n.name(r.indicator, lg)] = None if value is None else round(value, r.indicator.decimals)
        worst = sum(i18n.STATUS_SEVERITY[children[c][i].assessment.status] >= 3 for i in cols)
        rec[i18n.status_label("accelerate", lg, icon=False) + "+"] = worst
        records.append(rec)
    table = pd.DataFrame(records)
    st.dataframe(table, hide_index=True, width="stretch")
    common.st_table_downloads(table, f"compare_{f.region}_{f.period}", lg)

    st.subheader(tr("open_indicator", lg))
    a, b, c3 = st.columns([2, 3, 1])
    pick_region = a.selectbox(tr("region_col", lg), codes, format_func=lambda x: i18n.region_name(h[x], lg),
                              key="cmp_region")
    pick_ind = b.selectbox(tr("indicator", lg), [first[i].indicator.code for i in cols],
                           format_func=lambda x: i18n.name(s.catalog.indicators[x], lg), key="cmp_indicator")
    if c3.button(tr("open_indicator", lg), key="cmp_open"):
        common.goto_region(pick_region)
        st.session_state.update({"region": pick_region, "indicator": pick_ind, common.wkey("indicator"): pick_ind})
        st.switch_page("pages/indicator.py", query_params={
            "lang": lg, "region": pick_region, "period": f.period, "plan": f.plan.id, "indicator": pick_ind})
