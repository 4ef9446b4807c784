"""The session's user, for pages: who is acting, and the role check at the top of a page.

Owned by the access-control work. Privileged pages start with ``user = auth_ui.st_require("analyst")``
and pass ``user`` to every core function that changes data.
"""

from __future__ import annotations

import streamlit as st

from metrics.auth import User


def current_user() -> User | None:
    return st.session_state.get("user")


def st_require(role: str) -> User:
    """The session's user if it holds ``role``; otherwise an error and ``st.stop()``."""
    user = current_user()
    if user is None or not user.can(role):
        st.error("无权访问此页面 / You may not open this page.")
        st.stop()
    return user
