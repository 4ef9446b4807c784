"""报告 Report — region + quarter + plan (sidebar) + sections → DOCX and PDF; every sub-region as a ZIP."""

import time

import streamlit as st

from metrics.export import report
from metrics.export.charts import ExportUnavailable
from metrics.i18n import tr
from pages import auth_ui, common

f = common.page_filters()
user = auth_ui.st_require("viewer")
lg = f.lang
common.st_header(f, "report_page")


def st_build(label: str, build, state_key: str) -> None:
    """Run ``build(progress)`` under a progress bar; keep (name, mime, bytes) for the download."""
    bar = st.progress(0.0, text=label)
    started = time.perf_counter()
    try:
        name, mime, body = build(lambda fraction, message: bar.progress(min(max(fraction, 0.0), 1.0), text=message))
    except report.ReportError as exc:
        bar.empty()
        st.error(exc.message(lg))
        return
    except ExportUnavailable as exc:
        bar.empty()
        st.error(exc.message(lg))
        return
    bar.empty()
    st.session_state[state_key] = (name, mime, body, time.perf_counter() - started)


def st_download(state_key: str) -> None:
    built = st.session_state.get(state_key)
    if built:
        name, mime, body, secs = built
        st.success(tr("report_built", lg, name=name, size=len(body) // 1024, secs=secs))
        st.download_button(tr("report_download", lg, name=name), body, file_name=name, mime=mime,
                           key=f"dl_{state_key}", on_click="ignore", icon=":material/download:", type="primary")


if common.ready(f):
    s = f.store
    sections = st.multiselect(tr("report_sections", lg), list(report.SECTIONS), default=list(report.SECTIONS),
                              format_func=lambda key: tr(f"report_section_{key}", lg), key=common.wkey("report_sections"))

    def one(fmt: str):
        def build(progress):
            data, body = report.build_report(s, f.region, f.period, f.plan.id, fmt, lg, sections=sections,
                                             progress=progress)
            return report.file_name(data, fmt, lg), report.MIME[fmt], body
        return build

    c1, c2 = st.columns(2)
    if c1.button(tr("report_build_docx", lg), icon=":material/description:", key="build_docx"):
        with c1:
            st_build(tr("report_build_docx", lg), one("docx"), "report_docx")
    if c2.button(tr("report_build_pdf", lg), icon=":material/picture_as_pdf:", key="build_pdf"):
        with c2:
            st_build(tr("report_build_pdf", lg), one("pdf"), "report_pdf")
    with c1:
        st_download("report_docx")
    with c2:
        st_download("report_pdf")

    st.divider()
    kids = s.hierarchy.children(f.region)
    if not kids:
        st.caption(tr("report_children_none", lg))
    else:
        zip_fmt = st.radio(tr("report_zip_format", lg), list(report.FORMATS), horizontal=True, key="zip_fmt",
                           format_func=str.upper)

        def build_zip(progress):
            body = report.build_children_zip(s, f.region, f.period, f.plan.id, zip_fmt, lg, sections=sections,
                                             progress=progress)
            return f"{f.region}_{f.period}_{zip_fmt}.zip", report.MIME["zip"], body

        if st.button(f"{tr('report_build_zip', lg)} · {len(kids)}", icon=":material/folder_zip:", key="build_zip"):
            st_build(tr("report_build_zip", lg), build_zip, "report_zip")
        st_download("report_zip")
