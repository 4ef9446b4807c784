"""报告 Report — (to be built)."""

import streamlit as st

from pages import auth_ui, common

f = common.page_filters()
user = auth_ui.st_require("viewer")
st.title("报告" if f.lang == "zh" else "Report")
st.info("建设中 / Under construction")
