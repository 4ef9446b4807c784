"""审计日志 Audit log — (to be built)."""

import streamlit as st

from pages import auth_ui, common

f = common.page_filters()
user = auth_ui.st_require("admin")
st.title("审计日志" if f.lang == "zh" else "Audit log")
st.info("建设中 / Under construction")
