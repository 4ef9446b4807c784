"""乡村振兴目标监测 — entry point: page config, the sign-in gate, sidebar filters, navigation.

The page list is built from the session's role on every run (st.navigation), so a page the
role may not use does not exist for that session: its URL falls back to the default page.
Nobody signed in (and anonymous mode off): the sign-in page is the only page.
"""

import streamlit as st

from metrics.i18n import tr
from pages import auth_ui, common

st.set_page_config(page_title="乡村振兴目标监测", page_icon=":material/agriculture:", layout="wide")
st.session_state.pop("_app_entry", None)
common.st_css()
user = auth_ui.st_gate()

if user is None:
    st.session_state["_app_entry"] = True
    st.navigation([st.Page("pages/login.py", title=tr("auth_nav_login", auth_ui.lang()),
                           icon=":material/login:", url_path="login", default=True)],
                  position="hidden").run()
    st.stop()

filters = common.st_sidebar_filters()
st.session_state["filters"] = filters
lg = filters.lang


def page(path: str, key: str, icon: str, url: str, **kw) -> st.Page:
    return st.Page(path, title=tr(key, lg), icon=icon, url_path=url, **kw)


# viewer: the leadership pages
pages = [
    page("pages/overview.py", "page_overview", ":material/dashboard:", "overview", default=True),
    page("pages/indicator.py", "page_indicator", ":material/monitoring:", "indicator"),
    page("pages/compare.py", "page_compare", ":material/grid_view:", "compare"),
    page("pages/report.py", "auth_nav_report", ":material/description:", "report"),
]
if user.can("analyst"):
    pages += [
        page("pages/upload.py", "auth_nav_upload", ":material/upload_file:", "upload"),
        page("pages/history.py", "auth_nav_history", ":material/history:", "history"),
        page("pages/targets.py", "auth_nav_targets", ":material/flag:", "targets"),
    ]
if user.can("admin"):
    pages += [
        page("pages/users.py", "auth_nav_users", ":material/group:", "users"),
        page("pages/audit.py", "auth_nav_audit", ":material/policy:", "audit"),
    ]
# the sign-in page stays routable (hidden) so the run right after signing in can leave it
pages.append(st.Page("pages/login.py", title=tr("auth_nav_login", lg), url_path="login", visibility="hidden"))

st.sidebar.caption(tr("app_title", lg))
auth_ui.st_sidebar_user(lg)
st.session_state["_app_entry"] = True
st.navigation(pages, position="top").run()
