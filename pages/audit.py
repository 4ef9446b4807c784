"""审计日志 Audit log (admin) — who did what and when: filter by user, action, dates, text;
export what is shown (CSV, XLSX)."""

import datetime as dt

import pandas as pd
import streamlit as st

from metrics.auth import audit
from metrics.i18n import tr
from pages import auth_ui, common, widgets

f = common.page_filters()
user = auth_ui.st_require("admin")
lg = f.lang
st.title(tr("auth_audit_title", lg))

entries = audit.read(f.data_dir)
users = sorted({str(e.get("user")) for e in entries if e.get("user")})
actions = sorted({str(e.get("action")) for e in entries if e.get("action")})
days = sorted(e["at"][:10] for e in entries if e.get("at"))
first = dt.date.fromisoformat(days[0]) if days else dt.date.today()
last = max(dt.date.fromisoformat(days[-1]), dt.date.today()) if days else dt.date.today()

c1, c2, c3, c4, c5 = st.columns([2, 3, 2, 2, 3])
who = c1.selectbox(tr("auth_audit_user", lg), [""] + users, key="audit_user",
                   format_func=lambda u: tr("filter_all", lg) if u == "" else u)
what = c2.multiselect(tr("auth_audit_action", lg), actions, key="audit_actions")
since = c3.date_input(tr("auth_audit_since", lg), value=first, key="audit_since")
until = c4.date_input(tr("auth_audit_until", lg), value=last, key="audit_until")
text = c5.text_input(tr("auth_audit_text", lg), key="audit_text", max_chars=200)

shown = audit.filter_entries(entries, user=who or None, actions=what or None,
                             since=since, until=until, text=text)
st.caption(tr("auth_audit_count", lg).format(shown=len(shown), total=len(entries)))
if not shown:
    st.info(tr("auth_audit_empty", lg))
else:
    newest_first = list(reversed(shown))
    widgets.st_table(pd.DataFrame([{
        tr("auth_audit_at", lg): e.get("at"), tr("auth_audit_user", lg): e.get("user"),
        tr("auth_audit_role", lg): e.get("role"), tr("auth_audit_action", lg): e.get("action"),
        tr("auth_audit_detail", lg): audit.detail_text(e)} for e in newest_first]),
        stem=f"audit_{dt.date.today().isoformat()}", lang=lg, hide_index=True, width="stretch")
