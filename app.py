"""乡村振兴目标监测 — entry point: page config, sidebar filters, navigation.

The page list is built on every run (st.navigation), so the user's role can decide which
pages exist once accounts arrive.
"""

import os

import streamlit as st

from metrics.auth import User
from metrics.i18n import tr
from pages import auth_ui, common

# browser tests only, until sign-in lands: RRTT_TEST_USER=name:role acts as that user
if os.environ.get("RRTT_TEST_USER") and "user" not in st.session_state:
    _name, _, _role = os.environ["RRTT_TEST_USER"].partition(":")
    st.session_state["user"] = User(_name, _role or "analyst")

st.set_page_config(page_title="乡村振兴目标监测", page_icon=":material/agriculture:", layout="wide")
common.st_css()
filters = common.st_sidebar_filters()
st.session_state["filters"] = filters
st.session_state["_app_entry"] = True
lg = filters.lang

pages = [
    st.Page("pages/overview.py", title=tr("page_overview", lg), icon=":material/dashboard:", url_path="overview", default=True),
    st.Page("pages/indicator.py", title=tr("page_indicator", lg), icon=":material/monitoring:", url_path="indicator"),
    st.Page("pages/compare.py", title=tr("page_compare", lg), icon=":material/grid_view:", url_path="compare"),
]
_user = auth_ui.current_user()
if _user is not None and _user.can("analyst"):   # analyst pages (the access work builds the full role menu)
    pages += [
        st.Page("pages/upload.py", title=tr("page_upload", lg), icon=":material/upload_file:", url_path="upload"),
        st.Page("pages/history.py", title=tr("page_history", lg), icon=":material/history:", url_path="history"),
        st.Page("pages/targets.py", title=tr("page_targets", lg), icon=":material/flag:", url_path="targets"),
    ]
st.sidebar.caption(tr("app_title", lg))
st.navigation(pages, position="top").run()
