"""目标管理 Targets — (to be built)."""

import streamlit as st

from pages import auth_ui, common

f = common.page_filters()
user = auth_ui.st_require("analyst")
st.title("目标管理" if f.lang == "zh" else "Targets")
st.info("建设中 / Under construction")
