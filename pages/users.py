"""用户 Users — (to be built)."""

import streamlit as st

from pages import auth_ui, common

f = common.page_filters()
user = auth_ui.st_require("admin")
st.title("用户" if f.lang == "zh" else "Users")
st.info("建设中 / Under construction")
