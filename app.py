"""乡村振兴目标监测 — entry point: page config, sidebar filters, navigation.

The page list is built on every run (st.navigation), so the user's role can decide which
pages exist once accounts arrive.
"""

import streamlit as st

from metrics.i18n import tr
from pages import common

st.set_page_config(page_title="乡村振兴目标监测", page_icon=common.FAVICON, layout="wide")
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
st.sidebar.caption(tr("app_title", lg))
st.navigation(pages, position="top").run()
