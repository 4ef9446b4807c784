"""数据上传 Upload — (to be built)."""

import streamlit as st

from pages import auth_ui, common

f = common.page_filters()
user = auth_ui.st_require("analyst")
st.title("数据上传" if f.lang == "zh" else "Upload")
st.info("建设中 / Under construction")
