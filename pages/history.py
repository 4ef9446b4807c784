"""数据版本 History — (to be built)."""

import streamlit as st

from pages import auth_ui, common

f = common.page_filters()
user = auth_ui.st_require("analyst")
st.title("数据版本" if f.lang == "zh" else "History")
st.info("建设中 / Under construction")
