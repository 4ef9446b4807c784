"""目标管理 Targets — the targets in force with their sources; upload targets through the same
check → preview → publish path as data; target versions with retract and restore."""

import pandas as pd
import streamlit as st

from metrics.i18n import tr
from metrics.ingest import targets
from pages import auth_ui, common, ingest_ui, widgets

f = common.page_filters()
user = auth_ui.st_require("analyst")
lg = f.lang
s = f.store
st.title(tr("page_targets", lg))

done = st.session_state.pop("targets_done", None)
if done:
    st.success(done, icon=":material/check_circle:")

catalog = targets.catalog_with_uploaded_targets(s.dir)
st.subheader(tr("targets_current", lg))
widgets.st_table(targets.targets_frame(catalog, s.hierarchy, lg), stem="targets", lang=lg, hide_index=True,
                 width="stretch")

st.subheader(tr("targets_upload", lg))
st.download_button(tr("targets_template", lg), targets.template_csv(), file_name="targets_template.csv",
                   mime="text/csv", key="dl_targets_template")
upload = st.file_uploader(tr("upload_file", lg), type=["csv", "xlsx", "txt"], key="targets_file")
if upload is not None:
    result = targets.check(s, upload.getvalue(), upload.name)
    if result.fatal:
        st.error(result.fatal)
    elif not result.ok:
        st.error(tr("validation_failed", lg, n=len(result.errors)))
    else:
        st.success(tr("targets_ok", lg, n=len(result.targets)))
    ingest_ui.st_issues(result.errors, "errors", "targets_errors", lg)
    ingest_ui.st_issues(result.warnings, "warnings", "targets_warnings", lg)
    if result.ok:
        st.dataframe(pd.DataFrame(result.targets).drop(columns=["source"], errors="ignore"), hide_index=True,
                     width="stretch")
        moves = targets.status_moves(s, result, lg)
        st.markdown(f"**{tr('status_moves', lg)}**")
        if moves.empty:
            st.caption(tr("no_status_moves", lg))
        else:
            st.dataframe(ingest_ui.status_moves_frame(moves, lg), hide_index=True, width="stretch")
        comment = st.text_input(tr("comment", lg), key="targets_comment")
        ack = st.checkbox(tr("acknowledge", lg), key="targets_ack") if not result.warnings.empty else True
        if st.button(tr("publish", lg), type="primary", key="targets_publish"):
            if not comment.strip():
                st.error(tr("comment_required", lg))
            elif not ack:
                st.error(tr("ack_required", lg))
            else:
                version = targets.publish(s.dir, result, user=user, comment=comment)
                st.session_state["targets_done"] = tr("targets_published", lg, id=version, n=len(result.targets))
                common.drop_assessments_if_targets_changed(str(s.dir))   # no new store version: drop them
                st.rerun()

versions = targets.versions(s.dir)
if versions:
    st.subheader(tr("targets_versions", lg))
    frame = pd.DataFrame(versions)[["version", "at", "user", "count", "file", "comment", "retracted"]]
    st.dataframe(frame, hide_index=True, width="stretch")
    picked = st.selectbox(tr("pick_snapshot", lg), frame["version"].tolist(), key="targets_version")
    is_retracted = bool(frame.loc[frame["version"] == picked, "retracted"].iloc[0])
    if st.button(tr("restore" if is_retracted else "retract", lg), key="targets_version_action"):
        (targets.restore if is_retracted else targets.retract)(s.dir, int(picked), user=user)
        common.drop_assessments_if_targets_changed(str(s.dir))
        st.session_state["targets_done"] = tr("restored_ok" if is_retracted else "retracted_ok", lg, id=picked)
        st.rerun()
