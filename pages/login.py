"""登录 Sign in — user name and password (and single sign-on when [auth] is configured)."""

import runpy

import streamlit as st

from metrics import paths
from metrics.auth import sessions
from metrics.auth.accounts import INITIAL_PASSWORD_FILE, Accounts, LoginRefused
from metrics.i18n import tr
from pages import auth_ui

if not st.session_state.pop("_app_entry", False):
    # opened by URL before any session ran st.navigation: run the app (and its gate) instead
    runpy.run_path(str(paths.REPO_DIR / "app.py"), run_name="__main__")
    st.stop()

signed_in = auth_ui.current_user()
if signed_in is not None and st.session_state.get(auth_ui.VIA_KEY) != sessions.VIA_ANONYMOUS:
    st.switch_page("pages/overview.py", query_params=dict(st.query_params))

if "lang_widget" in st.session_state:   # anonymous session: the sidebar has the language switch
    lg = auth_ui.lang()
else:                                   # nobody signed in: no sidebar, the switch is here
    picked = st.radio("语言 / Language", ["中文", "English"], horizontal=True, key="login_lang",
                      index=1 if auth_ui.lang() == "en" else 0)
    lg = "en" if picked == "English" else "zh"
    if (st.query_params.get("lang") == "en") != (lg == "en"):
        st.query_params["lang"] = lg   # the sidebar starts in this language after signing in

st.title(tr("auth_login_title", lg))
st.caption(tr("auth_login_intro", lg))

notice = st.session_state.pop(auth_ui.NOTICE_KEY, None)
if notice:
    (st.success if notice == "logout" else st.warning)(tr(f"auth_ended_{notice}", lg))
if st.session_state.get("auth_setup_error"):
    st.error(tr("auth_login_setup_failed", lg).format(error=st.session_state["auth_setup_error"]))

data_dir = paths.data_dir()
if (data_dir / INITIAL_PASSWORD_FILE).exists():
    st.info(tr("auth_login_first_admin", lg))

if auth_ui.sso_configured():
    denied = st.session_state.get("auth_sso_denied")
    if denied is not None:
        st.error(tr("auth_sso_denied", lg).format(email=denied))
        if st.button(tr("auth_sso_logout", lg), key="auth_sso_logout"):
            st.session_state.pop("auth_sso_denied", None)
            st.logout()
    else:
        from metrics.auth import sso
        for provider in sso.providers(auth_ui.auth_section()):
            label = tr("auth_sso_button", lg) + (f" · {provider}" if provider else "")
            if st.button(label, key=f"auth_sso_{provider}", icon=":material/key:", type="primary"):
                st.login(provider) if provider else st.login()
    st.caption(tr("auth_sso_or", lg))

with st.form("login_form", clear_on_submit=True):
    name = st.text_input(tr("auth_login_name", lg), key="login_name", max_chars=64,
                         autocomplete="username")
    password = st.text_input(tr("auth_login_password", lg), type="password", key="login_password",
                             max_chars=256, autocomplete="current-password")
    submitted = st.form_submit_button(tr("auth_login_submit", lg), type="primary", key="login_submit")

if submitted:
    if not name.strip() or not password:
        st.error(tr("auth_login_missing", lg))
    else:
        try:
            user = Accounts(data_dir).authenticate(name, password)
        except OSError as exc:
            st.error(tr("auth_login_setup_failed", lg).format(error=exc))
        except LoginRefused as exc:
            if exc.reason == "locked":
                st.error(tr("auth_login_locked", lg).format(minutes=max(1, -(-exc.retry_after // 60))))
            else:
                st.error(tr(f"auth_login_{exc.reason}", lg))
        else:
            auth_ui.sign_in(user, sessions.VIA_PASSWORD)
            st.rerun()   # the next run builds this role's navigation, then leaves this page
