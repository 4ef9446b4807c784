"""指标详情 Indicator — target path, sub-region ranking and table, definition, source, provenance."""

import html

import pandas as pd
import streamlit as st

from metrics import chart_svg, charts, i18n, query
from metrics.i18n import tr
from pages import common, widgets

f = common.page_filters()
lg = f.lang
common.st_header(f, "page_indicator")


def formula_in_words(ind, cat) -> str:
    fm = ind.formula
    el = lambda code: i18n.name(cat.elements[code], lg)  # noqa: E731
    if fm["type"] == "ratio":
        return tr("formula_ratio", lg, num=el(fm["numerator"]), den=el(fm["denominator"]), scale=fm.get("scale", 100))
    if fm["type"] == "yoy_growth":
        return tr("formula_yoy", lg, el=el(fm["element"]))
    if fm["type"] == "coverage":
        return tr("formula_coverage", lg, el=el(fm["element"]), level=i18n.level_name(fm["level"], lg))
    element = cat.elements[fm["element"]]
    agg = tr("agg_sum", lg) if element.aggregation == "sum" else tr(
        "agg_weighted_mean", lg, w=el(element.weight))
    return tr("formula_value", lg, el=el(fm["element"]), agg=agg)


def document_html(doc) -> str:
    """A source document by its short title, the code and full title on hover."""
    if doc is None:
        return "—"
    short = (doc.short_en if lg == "en" else doc.short_zh) or (doc.title_en if lg == "en" else doc.title_zh)
    full = doc.title_en if lg == "en" else doc.title_zh
    return f'<abbr title="{html.escape(doc.id)} · {html.escape(full)}">{html.escape(short)}</abbr>'


if common.ready(f):
    s = f.store
    cat = s.catalog
    rows = common.cached_assess_region(f.data_dir, f.version, f.region, f.period, f.plan.id)
    codes = [r.indicator.code for r in rows]
    wanted = st.session_state.get(common.wkey("indicator")) or st.session_state.get("indicator")
    if wanted and wanted not in codes and wanted in cat.indicators:
        why = query.not_applicable_reason(s, wanted, f.region, lg)
        if why:   # below the indicator's lowest meaningful level: not listed, and say why
            st.info(f"{i18n.name(cat.indicators[wanted], lg)}{i18n.colon(lg)}{why}")
    if st.session_state.get(common.wkey("indicator")) not in codes:
        with_target = [r for r in rows if r.target is not None]
        st.session_state[common.wkey("indicator")] = wanted if wanted in codes else (with_target or rows)[0].indicator.code
    code = st.selectbox(tr("pick_indicator", lg), codes, key=common.wkey("indicator"),
                        format_func=lambda c: f"{i18n.name(cat.indicators[c], lg)}")
    st.session_state["indicator"] = code
    common.sync_url()
    row = rows[codes.index(code)]
    ind, a, t = row.indicator, row.assessment, row.target
    d = ind.decimals
    unit = i18n.unit(ind, lg)

    basis = i18n.basis_label(a.basis if t is not None else ind.basis, lg)
    reason = common.reason_text(a, lg, d)
    st.markdown(f"### {html.escape(i18n.name(ind, lg))} {common.status_badge(a.status, lg)}"
                + (f' <span class="rr-reason">{html.escape(reason)}</span>' if reason else ""),
                unsafe_allow_html=True)
    if row.current is None and a.value is None:
        st.info(tr("no_data_region", lg))
    v = lambda x: i18n.with_unit(x, d, unit, lg)  # noqa: E731
    if a.final and t is not None:
        # after the target year: the judged value at the target year, the latest value beside it
        figures = [(tr("judged_at", lg, year=t.target_period[:4]), v(a.value), None, None),
                   (tr("latest_value", lg) + i18n.paren(i18n.period_label(f.period, lg), lg),
                    v(common.latest_value(row)), None, None),
                   (tr("target", lg) + i18n.paren(i18n.year_label(t.target_period[:4], lg), lg), v(a.target), None, None),
                   (tr("progress", lg), i18n.percent(a.progress), None, tr("progress_help", lg))]
    else:
        value = a.value if a.value is not None else row.current
        figures = [(tr("value", lg) + (i18n.paren(basis, lg) if basis else ""), v(value),
                    None if row.change_quarter is None else
                    f"{i18n.with_unit(row.change_quarter, d, unit, lg, signed=True)} {tr('vs_prev_q', lg)}", None),
                   (tr("target", lg) + (i18n.paren(i18n.year_label(t.target_period[:4], lg), lg) if t else ""),
                    v(a.target), None, None),
                   (tr("expected", lg), v(a.expected), None, None),
                   (tr("progress", lg), i18n.percent(a.progress), None, tr("progress_help", lg)),
                   (tr("projection", lg), v(a.projection), None, None)]
    st.html(widgets.figures_html(figures))   # one block, not five st.metric elements
    notes = []
    if t is None:
        notes.append(tr("no_target_here", lg))
    if row.target_region and row.target_region != f.region:
        notes.append(f"{tr('inherited_target', lg)}{i18n.colon(lg)}{i18n.region_name(s.hierarchy[row.target_region], lg)}")
    if "too_few_points" in a.notes and not reason:
        notes.append(tr("too_few_points", lg))
    if a.final:
        notes.append(tr("final_note", lg))
    if notes:
        st.caption(" · ".join(notes))

    trace = {"region": f.region, "period": f.period, "snapshot": f.version}
    bench = query.benchmark_series(s, f.region, t.benchmark) if t is not None and t.kind == "relative" else None
    # drawn as SVG in Python (nothing to load in the browser); the plotly figure on request
    interactive = st.toggle(tr("interactive_chart", lg), key="interactive_chart", help=tr("interactive_help", lg))
    plotly_kw = {"width": "stretch", "config": {"displaylogo": False, "displayModeBar": False}, "theme": None}
    path_figure = lambda: charts.target_path_figure(row, f.plan.base, lg, benchmark=bench)  # noqa: E731
    if interactive:
        widgets.st_chart(path_figure(), key="path_chart", lang=lg, trace=trace, **plotly_kw)
    else:
        path = charts.target_path(row, f.plan.base, lg, benchmark=bench)
        widgets.st_static_chart(chart_svg.target_path_svg(path), path_figure, key="path_chart", lang=lg, trace=trace)

    children = common.cached_assess_children(f.data_dir, f.version, f.region, f.period, f.plan.id, code)
    st.subheader(tr("ranking", lg))
    if not children:
        st.info(tr("no_children", lg))
    else:
        h = s.hierarchy
        child_rows = [{"code": c.region_code, "name": i18n.region_name(h[c.region_code], lg),
                       "status": c.assessment.status,
                       "value": c.assessment.value if c.assessment.value is not None else c.current,
                       "expected": c.assessment.expected, "target": c.assessment.target,
                       "progress": c.assessment.progress, "reason": common.reason_text(c.assessment, lg, d)}
                      for c in children]
        target_line = a.target if t is not None and t.kind != "milestones" else None
        ranking_figure = lambda: charts.ranking_figure(child_rows, target_line, unit, d, lg, ind.direction)  # noqa: E731
        if interactive:
            widgets.st_chart(ranking_figure(), key="ranking_chart", lang=lg, trace=trace, **plotly_kw)
        else:
            widgets.st_static_chart(charts.ranking_html(child_rows, target_line, unit, d, lg, ind.direction),
                                    ranking_figure, key="ranking_chart", lang=lg, trace=trace)
        st.subheader(tr("subregion_table", lg))
        table = pd.DataFrame([{
            tr("region_col", lg): r["name"],
            tr("value", lg): v(r["value"]),
            tr("target", lg): v(r["target"]),
            tr("expected", lg): v(r["expected"]),
            tr("progress", lg): i18n.percent(r["progress"]),
            tr("status", lg): i18n.status_label(r["status"], lg),
            **({tr("reason", lg): r["reason"]} if any(x["reason"] for x in child_rows) else {}),
        } for r in child_rows])
        widgets.st_table(table, stem=f"{code}_{f.region}_{f.period}", lang=lg, static=True)

    left, right = st.columns(2)
    esc, colon = html.escape, i18n.colon(lg)

    def lines(*parts: str) -> str:   # one markdown element per block: fewer elements to draw
        return "  \n".join(p for p in parts if p)

    with left:
        st.subheader(tr("definition", lg))
        st.markdown(lines(
            esc(ind.definition_en if lg == "en" else ind.definition_zh),
            f"**{tr('formula', lg)}**{colon}{esc(formula_in_words(ind, cat))}",
            f"**{tr('department', lg)}**{colon}{esc(ind.department_en if lg == 'en' else ind.department_zh)}"
            f" · **{tr('pillar', lg)}**{colon}{esc(i18n.pillar_name(ind.pillar, lg))}"), unsafe_allow_html=True)
    with right:
        st.subheader(tr("source", lg))
        if t is None:
            st.write("—")
        else:
            src = t.source
            doc = cat.documents.get(src.get("document") or "")
            note = t.note_zh if (t.note_zh and lg == "zh") else (tr("illustrative_plan", lg) if f.plan.illustrative else "")
            st.markdown(lines(
                f"**{tr('document', lg)}**{colon}{document_html(doc)}",
                f"**{tr('clause', lg)}**{colon}{esc(src.get('clause') or '—')}",
                f"**{tr('quote', lg)}**{colon}「{esc(src['quote_zh'])}」" if src.get("quote_zh") else "",
                f'<span class="rr-note">{esc(note)}</span>' if note else ""), unsafe_allow_html=True)
        st.subheader(tr("provenance", lg))
        snap = query.provenance(s, f.region, f.period, code)
        if snap is None:
            st.write("—")
        else:   # the file name and user come from uploads: escaped
            st.markdown(f"**{tr('snapshot', lg)}** #{snap.id} · **{tr('file', lg)}** {esc(snap.source_name)}  \n"
                        f"**{tr('uploaded', lg)}** {esc(i18n.local_time(snap.created_at, lg))} · "
                        f"**{tr('uploaded_by', lg)}** {esc(snap.user)}", unsafe_allow_html=True)
