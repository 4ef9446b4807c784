"""数据版本 History — snapshots with who/when/rows/comment, a diff between any two, retract and
restore (nothing is ever deleted)."""

import streamlit as st

from metrics.i18n import tr
from metrics.ingest import adapter, publish
from pages import auth_ui, common, widgets

f = common.page_filters()
user = auth_ui.st_require("analyst")
lg = f.lang
s = f.store
st.title(tr("page_history", lg))

done = st.session_state.pop("history_done", None)
if done:
    st.success(tr(done[0], lg, id=done[1]), icon=":material/check_circle:")

snaps = adapter.snapshots_frame(s)
if snaps.empty:
    st.info(tr("no_data_yet", lg))
    st.stop()

shown = snaps.assign(state=snaps["retracted"].map(
    lambda r: tr("state_retracted", lg) if r else tr("state_active", lg))).drop(columns=["retracted"])
shown.columns = [tr(k, lg) for k in ("snap_id", "snap_when", "snap_who", "snap_rows", "snap_comment", "snap_file",
                                     "snap_state")]
st.subheader(tr("snapshots", lg))
widgets.st_table(shown, stem="snapshots", lang=lg, hide_index=True, width="stretch")


def label(sid: int) -> str:
    row = snaps[snaps["id"] == sid].iloc[0]
    flag = f" · {tr('state_retracted', lg)}" if row["retracted"] else ""
    return f"#{sid} · {row['created_at']} · {row['source_name']}{flag}"


# -- retract / restore ----------------------------------------------------------------------------------
st.subheader(f"{tr('retract', lg)} / {tr('restore', lg)}")
ids = snaps["id"].tolist()
picked = st.selectbox(tr("pick_snapshot", lg), ids, format_func=label, key="history_pick")
comment = st.text_input(tr("snap_comment", lg), key="history_comment")
retracted = bool(snaps.loc[snaps["id"] == picked, "retracted"].iloc[0])
action = "restore" if retracted else "retract"
if st.button(tr(action, lg), key="history_action", type="primary"):
    try:
        fn = publish.restore if retracted else publish.retract
        fn(s, int(picked), user=user, comment=comment or None)
    except Exception as exc:  # noqa: BLE001 - the store's refusal, shown to the user
        st.error(str(exc))
    else:
        st.session_state["history_done"] = ("restored_ok" if retracted else "retracted_ok", int(picked))
        st.rerun()

# -- diff ---------------------------------------------------------------------------------------------
st.subheader(tr("diff", lg))
c1, c2 = st.columns(2)
a = c1.selectbox(tr("diff_a", lg), ids, index=min(1, len(ids) - 1), format_func=label, key="diff_a")
b = c2.selectbox(tr("diff_b", lg), ids, index=0, format_func=label, key="diff_b")
if a != b:
    changes = adapter.diff(s, int(a), int(b))
    names = {e.code: (e.name_en if lg == "en" else e.name_zh) for e in s.catalog.elements.values()}
    if "element_code" in changes:
        changes = changes.assign(element=changes["element_code"].map(names))
    st.caption(f"{len(changes):,}")
    widgets.st_table(changes.head(5000), stem=f"diff_{a}_{b}", lang=lg, hide_index=True, width="stretch")
