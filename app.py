"""乡村振兴目标监测 — entry point: page config, the sign-in gate, sidebar filters, navigation.

The page list is built from the session's role on every run (st.navigation), so a page the
role may not use does not exist for that session. Its URL (a bookmark, a shared link) opens the
sign-in page instead, which sends a signed-in user on to the overview — or, after signing in
with a role that may use it, to the page itself. Nobody signed in (anonymous mode off): the
sign-in page is the only page, under every URL.
"""

import streamlit as st

from metrics.i18n import tr
from pages import auth_ui, common

# url path: (title key, icon, the lowest role that may use the page)
PAGES = {
    "overview": ("page_overview", ":material/dashboard:", "viewer"),
    "indicator": ("page_indicator", ":material/monitoring:", "viewer"),
    "compare": ("page_compare", ":material/grid_view:", "viewer"),
    "report": ("auth_nav_report", ":material/description:", "viewer"),
    "upload": ("auth_nav_upload", ":material/upload_file:", "analyst"),
    "history": ("auth_nav_history", ":material/history:", "analyst"),
    "targets": ("auth_nav_targets", ":material/flag:", "analyst"),
    "users": ("auth_nav_users", ":material/group:", "admin"),
    "audit": ("auth_nav_audit", ":material/policy:", "admin"),
}

st.set_page_config(page_title="乡村振兴目标监测", page_icon=common.FAVICON, layout="wide")
st.session_state.pop("_app_entry", None)
common.st_css()
user = auth_ui.st_gate()


def sign_in_page(url: str, lg: str, **kw) -> st.Page:
    return st.Page("pages/login.py", title=tr("auth_nav_login", lg), icon=":material/login:",
                   url_path=url, **kw)


if user is None:
    lg = auth_ui.lang()
    st.session_state["_app_entry"] = True
    st.navigation([sign_in_page("login", lg, default=True)]
                  + [sign_in_page(url, lg, visibility="hidden") for url in PAGES],
                  position="hidden").run()
    st.stop()

filters = common.st_sidebar_filters()
st.session_state["filters"] = filters
lg = filters.lang
pages = [st.Page(f"pages/{url}.py", title=tr(key, lg), icon=icon, url_path=url, default=url == "overview")
         for url, (key, icon, role) in PAGES.items() if user.can(role)]
# the sign-in page (hidden; first, so links to pages/login.py mean /login), and under the URL
# of each page the role may not use, so such a URL leads somewhere sensible — never to the page
pages.append(sign_in_page("login", lg, visibility="hidden"))
pages += [sign_in_page(url, lg, visibility="hidden")
          for url, (_, _, role) in PAGES.items() if not user.can(role)]

st.sidebar.caption(tr("app_title", lg))
nav = st.navigation(pages, position="top")
auth_ui.st_sidebar_user(lg)   # after st.navigation: its sign-in link needs the page registered
st.session_state["_app_entry"] = True
nav.run()
