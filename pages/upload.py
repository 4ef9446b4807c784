"""数据上传 Upload — templates, upload, validation report, preview of what would change, publish.

Admins also find the quarter locks and the region hierarchy import here.
"""

import streamlit as st

from metrics import i18n
from metrics.i18n import tr
from metrics.ingest import dryrun, locks, publish, templates
from metrics.ingest import regions as region_import
from pages import auth_ui, common, ingest_ui

f = common.page_filters()
user = auth_ui.st_require("analyst")
lg = f.lang
s = f.store
st.title(tr("page_upload", lg))


@st.cache_data(show_spinner=False, max_entries=16)
def cached_template(data_dir: str, version: int, layout: str, fmt: str, level: str) -> bytes:
    store = common.get_store(data_dir)
    return templates.template(store.catalog, store.hierarchy, layout=layout, fmt=fmt, level=level)


# -- templates --------------------------------------------------------------------------------------
with st.expander(tr("templates", lg), icon=":material/download:"):
    levels = [lv for lv in i18n.LEVEL if any(r.level == lv for r in s.hierarchy.in_order())]
    level = st.selectbox(tr("template_level", lg), levels, index=len(levels) - 1,
                         format_func=lambda lv: i18n.level_name(lv, lg), key="template_level")
    c1, c2 = st.columns(2)
    c1.download_button(tr("template_wide", lg), cached_template(f.data_dir, f.version, "wide", "xlsx", level),
                       file_name=f"template_wide_{level}.xlsx", key="dl_template_wide",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    c2.download_button(tr("template_long", lg), cached_template(f.data_dir, f.version, "long", "csv", level),
                       file_name=f"template_long_{level}.csv", mime="text/csv", key="dl_template_long")

# -- upload and validation ---------------------------------------------------------------------------
parents = [""] + [r.code for r in s.hierarchy.in_order() if s.hierarchy.children(r.code)]
parent = st.selectbox(tr("parent_region", lg), parents, key="upload_parent",
                      format_func=lambda c: tr("any_parent", lg) if not c else i18n.region_name(s.hierarchy[c], lg))
upload = st.file_uploader(tr("upload_file", lg), type=["csv", "xlsx", "xls", "txt", "tsv"], key="upload_file")

done = st.session_state.pop("upload_published", None)
if done:
    st.success(tr("published", lg, id=done["id"], rows=done["rows"]), icon=":material/check_circle:")

if upload is not None:
    data = upload.getvalue()
    cache_key = (upload.file_id, parent, f.version)
    if st.session_state.get("upload_check_key") != cache_key:
        with st.spinner("…"):
            report = dryrun.check(s, data, upload.name, parent=parent or None)
            summary = dryrun.summarize(s, report, lang=lg)
        st.session_state.update(upload_check_key=cache_key, upload_report=report, upload_summary=summary)
    report = st.session_state["upload_report"]
    summary = st.session_state["upload_summary"]

    if report.fatal:
        st.error(report.fatal_en if lg == "en" else report.fatal, icon=":material/error:")
    elif not report.ok:
        st.error(tr("validation_failed", lg, n=len(report.errors)), icon=":material/error:")
    else:
        st.success(tr("validation_ok", lg, rows=f"{report.rows_valid:,}"), icon=":material/task_alt:")
    ingest_ui.st_issues(report.errors, "errors", "upload_errors", lg)
    ingest_ui.st_issues(report.warnings, "warnings", "upload_warnings", lg)
    if not report.errors.empty or not report.warnings.empty or report.fatal:
        st.download_button(tr("download_report", lg), report.to_xlsx(lg), file_name="validation_report.xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           key="dl_validation_report")

    if report.ok:
        st.subheader(tr("summary", lg))
        ingest_ui.st_counts(summary.counts(), lg, rows_read=report.rows_read)
        st.markdown(f"**{tr('status_moves', lg)}**")
        if summary.status_moves.empty:
            st.caption(tr("no_status_moves", lg))
        else:
            st.dataframe(ingest_ui.status_moves_frame(summary.status_moves, lg), hide_index=True,
                         width="stretch")
        if not summary.changes.empty:
            with st.expander(f"{tr('changed_values', lg)}（{summary.changed}）"):
                st.dataframe(summary.changes, hide_index=True, width="stretch")
        comment = st.text_input(tr("comment", lg), key="upload_comment")
        ack = True
        if not report.warnings.empty:
            ack = st.checkbox(tr("acknowledge", lg), key="upload_ack")
        if st.button(tr("publish", lg), type="primary", key="upload_publish"):
            try:
                snap = publish.publish(s, report, user=user, comment=comment, acknowledge_warnings=ack, summary=summary)
            except publish.PublishRefused as exc:
                st.error(exc.message(lg))
            else:
                st.session_state["upload_published"] = {"id": snap.id, "rows": snap.rows}
                st.session_state.pop("upload_check_key", None)
                st.rerun()

# -- admin: quarter locks and the region hierarchy --------------------------------------------------
if user.can("admin"):
    with st.expander(tr("locks", lg), icon=":material/lock:"):
        locked = sorted(locks.locked_periods(s.dir))
        st.caption(tr("locked_periods", lg, periods="、".join(locked) or "—"))
        choices = list(reversed(s.periods_with_data()))
        c1, c2 = st.columns(2)
        to_lock = c1.selectbox(tr("lock", lg), [p for p in choices if p not in locked], key="lock_period")
        if c1.button(tr("lock", lg), key="lock_button") and to_lock:
            locks.lock(s.dir, to_lock, user)
            st.rerun()
        to_unlock = c2.selectbox(tr("unlock", lg), locked, key="unlock_period")
        if c2.button(tr("unlock", lg), key="unlock_button") and to_unlock:
            locks.unlock(s.dir, to_unlock, user)
            st.rerun()
    with st.expander(tr("regions_import", lg), icon=":material/account_tree:"):
        region_file = st.file_uploader("CSV (code, name, level, parent)", type=["csv", "xlsx", "txt"],
                                       key="regions_file")
        if region_file is not None:
            result = region_import.check(region_file.getvalue(), region_file.name)
            if result.ok:
                st.success(tr("regions_ok", lg, n=len(result.regions)))
                if st.button(tr("import", lg), key="regions_import_button"):
                    region_import.install(s, result, user=user)
                    st.cache_resource.clear()
                    st.cache_data.clear()
                    st.success(tr("regions_imported", lg, n=len(result.regions)))
            else:
                if result.fatal:
                    st.error(result.fatal)
                ingest_ui.st_issues(result.errors, "errors", "regions_errors", lg)
