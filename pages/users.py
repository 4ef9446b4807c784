"""用户 Users (admin) — list accounts, add one, change role or SSO e-mail, reset a password,
disable or enable. Every change goes through metrics.auth.accounts with the acting admin."""

import pandas as pd
import streamlit as st

from metrics.auth import ROLES, PermissionDenied
from metrics.auth.accounts import AccountError, Accounts, random_password
from metrics.auth.text import account_error
from metrics.i18n import tr
from pages import auth_ui, common, widgets

f = common.page_filters()
user = auth_ui.st_require("admin")
lg = f.lang
accounts = Accounts(f.data_dir)
st.title(tr("auth_users_title", lg))


def role_label(role: str) -> str:
    return tr(f"auth_role_{role}", lg)


def attempt(change) -> None:
    """Run one account change; a refusal is a message in the user's language, never a trace."""
    try:
        done = change()
    except AccountError as exc:
        st.session_state["users_flash"] = ("error", account_error(exc, lg))
    except PermissionDenied as exc:
        st.session_state["users_flash"] = ("error", str(exc))
    else:
        st.session_state["users_flash"] = ("success", done)


flash = st.session_state.pop("users_flash", None)
if flash:
    kind, message = flash
    (st.success if kind == "success" else st.error)(message)
once = st.session_state.pop("users_password_once", None)
if once:   # a generated password: shown in this run only, never stored
    st.warning(tr("auth_users_password_once", lg).format(name=once[0]))
    st.code(once[1], language=None)

rows = accounts.list()
table = pd.DataFrame([{
    tr("auth_users_name", lg): a.name,
    tr("auth_users_role", lg): role_label(a.role),
    tr("auth_users_state", lg): tr("auth_state_disabled" if a.disabled else "auth_state_active", lg),
    tr("auth_users_email", lg): a.email or "",
    tr("auth_users_created", lg): a.created_at or "",
    tr("auth_users_last_login", lg): a.last_login_at or "",
} for a in rows])
widgets.st_table(table, stem="users", lang=lg, hide_index=True, width="stretch")


with st.expander(tr("auth_users_add", lg), expanded=not rows):
    with st.form("users_add", clear_on_submit=True):
        name = st.text_input(tr("auth_users_name", lg), max_chars=64, key="users_add_name")
        role = st.selectbox(tr("auth_users_role", lg), ROLES, format_func=role_label, key="users_add_role")
        email = st.text_input(tr("auth_users_email", lg), max_chars=254, key="users_add_email")
        password = st.text_input(tr("auth_users_password", lg), type="password", max_chars=256,
                                 key="users_add_password")
        if st.form_submit_button(tr("auth_users_add_submit", lg), type="primary", key="users_add_submit"):
            def add():
                st.session_state.pop("users_password_once", None)
                secret = password or random_password()
                a = accounts.add(user, name, role, secret, email=email or None)
                if not password:
                    st.session_state["users_password_once"] = (a.name, secret)
                return tr("auth_users_added", lg).format(name=a.name, role=role_label(a.role))
            attempt(add)
            st.rerun()

if rows:
    st.subheader(tr("auth_users_edit", lg))
    names = [a.name for a in rows]
    picked = st.selectbox(tr("auth_users_pick", lg), names, key="users_pick")
    acc = next(a for a in rows if a.name == picked)
    done = tr("auth_users_done", lg).format(name=acc.name)
    c1, c2 = st.columns(2)
    with c1.form("users_role"):
        new_role = st.selectbox(tr("auth_users_role", lg), ROLES, index=ROLES.index(acc.role),
                                format_func=role_label, key=f"users_role_{acc.name}")
        if st.form_submit_button(tr("auth_users_change_role", lg), key="users_role_submit"):
            attempt(lambda: accounts.set_role(user, acc.name, new_role) and done)
            st.rerun()
    with c2.form("users_passwd", clear_on_submit=True):
        new_password = st.text_input(tr("auth_users_new_password", lg), type="password", max_chars=256,
                                     key="users_new_password")
        if st.form_submit_button(tr("auth_users_reset_password", lg), key="users_passwd_submit"):
            def reset():
                st.session_state.pop("users_password_once", None)
                secret = new_password or random_password()
                accounts.set_password(user, acc.name, secret)
                if not new_password:
                    st.session_state["users_password_once"] = (acc.name, secret)
                return done
            attempt(reset)
            st.rerun()
    c3, c4 = st.columns(2)
    with c3.form("users_email"):
        new_email = st.text_input(tr("auth_users_email", lg), value=acc.email or "", max_chars=254,
                                  key=f"users_email_{acc.name}")
        if st.form_submit_button(tr("auth_users_set_email", lg), key="users_email_submit"):
            attempt(lambda: accounts.set_email(user, acc.name, new_email or None) and done)
            st.rerun()
    with c4:
        if acc.disabled:
            if st.button(tr("auth_users_enable", lg), key="users_enable"):
                attempt(lambda: accounts.enable(user, acc.name) and done)
                st.rerun()
        elif st.button(tr("auth_users_disable", lg), key="users_disable", type="secondary"):
            attempt(lambda: accounts.disable(user, acc.name) and done)
            st.rerun()
