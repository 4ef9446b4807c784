"""The session's user, for pages: who is acting, the gate app.py runs first, the role check
at the top of a page, the sidebar's sign-out.

Privileged pages start with ``user = auth_ui.st_require("analyst")`` (after
``common.page_filters()``) and pass ``user`` to every core function that changes data.

Session-state keys (stable; tests seed them through tests/auth_support.py):

- ``user``            the ``metrics.auth.User`` this session acts as. Written only by
                      ``st_gate`` and ``sign_in``; re-read from the accounts file on every run
                      (role changes apply at once, a disabled account is signed out).
- ``auth_via``        how it signed in: ``"password"``, ``"sso"`` or ``"anonymous"``.
- ``auth_last_seen``  time.time() of the session's last run (idle expiry).
- ``auth_notice``     why the last sign-in ended (``expired``, ``disabled``, ``unknown``,
                      ``logout``), shown once on the sign-in page.
- ``auth_sso_denied`` the SSO e-mail no active account carries (the sign-in page says so).
- ``auth_setup_error`` why the accounts file cannot be read or written (None when it can).
- ``_app_entry``      set by app.py just before the navigation runs a page (see
                      ``common.page_filters``); a page run without it hands over to app.py.
"""

from __future__ import annotations

import time

import streamlit as st

from metrics import paths
from metrics.auth import User, audit, sessions, sso
from metrics.auth.accounts import ensure_admin, warm_up
from metrics.i18n import tr

USER_KEY = "user"
VIA_KEY = "auth_via"
LAST_SEEN_KEY = "auth_last_seen"
NOTICE_KEY = "auth_notice"


def lang() -> str:
    """The UI language before the sidebar exists (sign-in page): the sidebar's choice, else ?lang=."""
    if "lang_widget" in st.session_state:
        return "en" if st.session_state["lang_widget"] == "English" else "zh"
    return "en" if st.query_params.get("lang") == "en" else "zh"


def current_user() -> User | None:
    user = st.session_state.get(USER_KEY)
    return user if isinstance(user, User) else None


def st_require(role: str) -> User:
    """The session's user if it holds ``role``; otherwise an error and ``st.stop()``."""
    user = current_user()
    if user is None or user.role not in ("viewer", "analyst", "admin") or not user.can(role):
        st.error(tr("auth_forbidden", lang()))
        st.stop()
    return user


def _first_start(data_dir: str) -> str | None:
    """Create the first admin when no account exists (None, or the error text)."""
    try:
        ensure_admin(data_dir)
        warm_up()   # the dummy hash exists before the first unknown name arrives (timing)
    except OSError as exc:
        return str(exc)
    return None


def auth_section():
    """The ``[auth]`` section of .streamlit/secrets.toml (empty when there is none)."""
    try:
        section = st.secrets.get("auth", {})
    except Exception:  # noqa: BLE001 - no secrets file, or an unreadable one: no SSO
        return {}
    return section if hasattr(section, "get") else {}


def sso_configured() -> bool:
    return sso.configured(auth_section())


def st_gate() -> User | None:
    """Run first by app.py on every run: who this session acts as (None: sign in first)."""
    data_dir = str(paths.data_dir())
    error = _first_start(data_dir)
    st.session_state["auth_setup_error"] = error
    state = st.session_state
    user, via = state.get(USER_KEY), state.get(VIA_KEY)
    if not isinstance(user, User):
        user = via = None
    try:
        if via in (None, sessions.VIA_ANONYMOUS) and sso_configured() and st.user.get("is_logged_in"):
            _sso_sign_in(data_dir)
            user, via = state.get(USER_KEY), state.get(VIA_KEY)
        verdict = sessions.resolve(data_dir, user, via, state.get(LAST_SEEN_KEY))
    except OSError as exc:   # unreadable accounts file: nobody is signed in (anonymous still reads)
        state["auth_setup_error"] = str(exc)
        anonymous = bool(paths.settings()["anonymous"])
        verdict = sessions.Verdict(sessions.ANONYMOUS if anonymous else None,
                                   sessions.VIA_ANONYMOUS if anonymous else None)
    if verdict.ended:
        audit.record(data_dir, user, "session_end", reason=verdict.ended)
        state[NOTICE_KEY] = verdict.ended
        if via == sessions.VIA_SSO and sso_configured():
            st.logout()
    state[USER_KEY], state[VIA_KEY] = verdict.user, verdict.via
    state[LAST_SEEN_KEY] = time.time()
    return verdict.user


def _sso_sign_in(data_dir: str) -> None:
    """The identity provider vouched for an e-mail: map it to an account (or refuse)."""
    email = st.user.get("email")
    user = sso.sso_user(data_dir, email, verified=st.user.get("email_verified"))
    if user is None:
        if st.session_state.get("auth_sso_denied") != email:
            audit.record(data_dir, "<sso>", "login_failed", via="sso", email=email)
        st.session_state["auth_sso_denied"] = email
        return
    from metrics.auth.accounts import Accounts
    Accounts(data_dir).record_sso_login(user, email)
    sign_in(user, sessions.VIA_SSO)


def sign_in(user: User, via: str) -> None:
    st.session_state[USER_KEY] = user
    st.session_state[VIA_KEY] = via
    st.session_state[LAST_SEEN_KEY] = time.time()
    st.session_state.pop(NOTICE_KEY, None)
    st.session_state.pop("auth_sso_denied", None)


def sign_out() -> None:
    """Forget the user (audited); an SSO session also drops the provider's cookie."""
    user, via = current_user(), st.session_state.get(VIA_KEY)
    if user is not None and via in (sessions.VIA_PASSWORD, sessions.VIA_SSO):
        audit.record(paths.data_dir(), user, "logout")
    for key in (USER_KEY, VIA_KEY, LAST_SEEN_KEY):
        st.session_state.pop(key, None)
    st.session_state[NOTICE_KEY] = "logout"
    if via == sessions.VIA_SSO and sso_configured():
        st.logout()


def st_sidebar_user(lg: str) -> None:
    """Who is signed in and a sign-out button; in anonymous mode a sign-in link."""
    user = current_user()
    sb = st.sidebar
    if user is None:
        return
    if st.session_state.get(VIA_KEY) == sessions.VIA_ANONYMOUS:
        sb.caption(tr("auth_anonymous_mode", lg))
        sb.page_link("pages/login.py", label=tr("auth_sign_in", lg), icon=":material/login:")
        return
    sb.caption(tr("auth_signed_in_as", lg).format(name=user.name, role=tr(f"auth_role_{user.role}", lg)))
    sb.button(tr("auth_logout", lg), key="auth_logout", icon=":material/logout:", on_click=sign_out)
    if st.session_state.get(VIA_KEY) == sessions.VIA_PASSWORD:
        st_own_password(user, lg)


def st_own_password(user: User, lg: str) -> None:
    """The sidebar's form for changing one's own password."""
    from metrics.auth.accounts import AccountError, Accounts, LoginRefused
    from metrics.auth.text import account_error
    with st.sidebar.expander(tr("auth_own_password", lg)):
        with st.form("auth_own_password", clear_on_submit=True):
            current = st.text_input(tr("auth_own_current", lg), type="password", key="own_current",
                                    max_chars=256, autocomplete="current-password")
            new = st.text_input(tr("auth_own_new", lg), type="password", key="own_new",
                                max_chars=256, autocomplete="new-password")
            if not st.form_submit_button(tr("auth_own_submit", lg), key="own_submit"):
                return
        try:
            Accounts(paths.data_dir()).change_own_password(user, current, new)
        except AccountError as exc:
            st.error(account_error(exc, lg))
        except LoginRefused as exc:
            st.error(tr("auth_login_locked", lg).format(minutes=max(1, -(-exc.retry_after // 60)))
                     if exc.reason == "locked" else tr("auth_own_wrong", lg))
        else:
            st.success(tr("auth_own_done", lg))
