"""Access control in the app (AppTest): the sign-in gate, each role's pages, direct page files,
forged session state, sign-in outcomes, idle expiry, anonymous mode, the admin pages, SSO."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from metrics.auth import User, audit
from metrics.auth.accounts import ACCOUNTS_FILE, Accounts
from tests import auth_support
from tests.auth_support import PASSWORD
from tests.conftest import REPO

APP = str(REPO / "app.py")
VIEWER = {"overview", "indicator", "compare", "report"}
ANALYST = VIEWER | {"upload", "history", "targets"}
ADMIN = ANALYST | {"users", "audit"}
PAGES = sorted(ADMIN)
SSO_SECRETS = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
               "client_id": "rrtt", "client_secret": "y",
               "server_metadata_url": "https://id.example.org/.well-known/openid-configuration"}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """Accounts for each role, hashed once for the module."""
    d = tmp_path_factory.mktemp("accounts")
    for role in ("viewer", "analyst", "admin"):
        auth_support.ensure_account(d, f"test-{role}", role)
    Accounts(d).set_email(User("t", "admin"), "test-analyst", "Boss@Example.org")
    return d


@pytest.fixture
def data_dir(template, tmp_path, monkeypatch):
    for key in ("ANONYMOUS", "LOGIN_MAX_FAILURES", "SESSION_IDLE_HOURS"):
        monkeypatch.delenv(f"RRTT_{key}", raising=False)
    monkeypatch.setenv("RRTT_DATA_DIR", str(tmp_path))
    shutil.copy2(template / ACCOUNTS_FILE, tmp_path / ACCOUNTS_FILE)
    return tmp_path


def new_app(data_dir=None, role: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if role:
        auth_support.sign_in(at, data_dir, role)
    return at


def nav(at: AppTest) -> set[str]:
    """The page files the last run's st.navigation registered (the sign-in page aside)."""
    return {Path(str(info.get("script_path"))).stem for info in at._registered_pages.values()} - {"login"}


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("title", "markdown", "caption", "error", "warning", "info", "success")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def on_sign_in_page(at: AppTest) -> bool:
    return not at.exception and [t.value for t in at.title] == ["登录"] and len(at.get("text_input")) >= 2


def sign_in_form(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="login_name").input(name)
    at.text_input(key="login_password").input(password)
    return at.button(key="login_submit").click().run()


# -- the gate -----------------------------------------------------------------------------------

def test_signed_out_session_has_only_the_sign_in_page(data_dir):
    at = new_app().run()
    assert on_sign_in_page(at)
    assert nav(at) == set()          # the sign-in page, as the only (default) page
    assert not at.sidebar.selectbox, "no region/plan/quarter filters before signing in"
    for page in PAGES:
        with pytest.raises(ValueError):
            at.switch_page(f"pages/{page}.py")


@pytest.mark.parametrize("page", PAGES)
def test_page_file_opened_directly_meets_the_gate(data_dir, page):
    """A URL opened before any session ran st.navigation runs the page file itself (pages/
    folder convention); the page hands over to app.py, whose gate shows the sign-in page."""
    at = new_app()
    at.switch_page(f"pages/{page}.py")   # before the first run: routed by file name
    at.run()
    assert on_sign_in_page(at), texts(at)


@pytest.mark.parametrize("page", ["upload", "history", "targets", "users", "audit"])
def test_page_file_opened_directly_by_a_viewer_shows_the_overview(data_dir, page):
    at = new_app(data_dir, "viewer")
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == ["总览"]
    assert not at.get("file_uploader") and "无权" not in texts(at)


@pytest.mark.parametrize("role, allowed", [("viewer", VIEWER), ("analyst", ANALYST), ("admin", ADMIN)])
def test_each_role_sees_exactly_its_pages(data_dir, role, allowed):
    at = new_app(data_dir, role).run()
    assert not at.exception
    assert nav(at) == allowed
    assert f"test-{role}" in texts(at)
    for page in PAGES:
        if page in allowed:
            at.switch_page(f"pages/{page}.py").run()
            assert not at.exception, (page, at.exception)
            assert "无权访问" not in texts(at), page
        else:
            with pytest.raises(ValueError):
                at.switch_page(f"pages/{page}.py")


def test_page_check_refuses_even_if_navigation_let_a_page_run(data_dir, monkeypatch):
    """Defence in depth: the users page's own st_require stops a viewer."""
    from pages import auth_ui
    at = AppTest.from_string(
        "import streamlit as st\n"
        "from pages import auth_ui\n"
        "auth_ui.st_require('admin')\n"
        "st.title('secret')\n", default_timeout=30)
    at.session_state["user"] = User("test-viewer", "viewer")
    at.run()
    assert [e.value for e in at.error] == ["无权访问此页面。"]
    assert not at.title
    assert auth_ui.USER_KEY == "user"


@pytest.mark.parametrize("forged", [{"name": "test-admin", "role": "admin"}, "test-admin",
                                    ("test-admin", "admin")])
def test_forged_session_values_count_as_nobody(data_dir, forged):
    at = new_app()
    at.session_state["user"] = forged
    at.session_state["auth_via"] = "password"
    at.session_state["auth_last_seen"] = time.time()
    at.run()
    assert on_sign_in_page(at)


def test_session_role_comes_from_the_accounts_file(data_dir):
    at = new_app()
    at.session_state["user"] = User("test-viewer", "admin")   # claims more than the account has
    at.session_state["auth_via"] = "password"
    at.session_state["auth_last_seen"] = time.time()
    at.run()
    assert nav(at) == VIEWER
    ghost = new_app()
    ghost.session_state["user"] = User("ghost", "admin")        # no such account
    ghost.session_state["auth_via"] = "password"
    ghost.run()
    assert on_sign_in_page(ghost) and "已不存在" in texts(ghost)
    without_via = new_app()
    without_via.session_state["user"] = User("test-admin", "admin")  # not signed in through the gate
    without_via.run()
    assert on_sign_in_page(without_via)


# -- signing in and out ---------------------------------------------------------------------------

def test_sign_in_wrong_password_then_right_one_then_sign_out(data_dir):
    at = new_app().run()
    sign_in_form(at, "test-analyst", "not-the-password")
    assert on_sign_in_page(at) and "用户名或密码不正确" in texts(at)
    sign_in_form(at, "nobody", "not-the-password")
    assert "用户名或密码不正确" in texts(at)
    sign_in_form(at, "Test-Analyst", PASSWORD)
    assert not at.exception
    assert [t.value for t in at.title] == ["总览"]
    assert nav(at) == ANALYST
    at.button(key="auth_logout").click().run()
    assert on_sign_in_page(at) and "您已退出登录" in texts(at)
    actions = [e["action"] for e in audit.read(data_dir)]
    assert actions.count("login_failed") == 2 and "login" in actions and "logout" in actions


@pytest.mark.parametrize("role, lands_on", [("analyst", "数据上传"), ("viewer", "总览")])
def test_sign_in_from_a_bookmarked_page(data_dir, role, lands_on):
    """The upload page's URL while signed out: the sign-in page; after signing in, the page
    itself for a role that may use it, the overview for one that may not."""
    at = new_app()
    at.switch_page("pages/upload.py")
    at.run()
    assert on_sign_in_page(at)
    sign_in_form(at, f"test-{role}", PASSWORD)
    assert not at.exception
    assert [t.value for t in at.title] == [lands_on]


def test_disabled_user_cannot_sign_in_and_is_signed_out(data_dir):
    at = new_app(data_dir, "viewer").run()
    assert nav(at) == VIEWER
    Accounts(data_dir).disable(User("t", "admin"), "test-viewer")
    at.run()
    assert on_sign_in_page(at) and "已被停用" in texts(at)
    sign_in_form(at, "test-viewer", PASSWORD)
    assert on_sign_in_page(at) and "该账户已停用" in texts(at)


def test_failed_sign_ins_lock_the_name(data_dir, monkeypatch):
    monkeypatch.setenv("RRTT_LOGIN_MAX_FAILURES", "3")
    at = new_app().run()
    for _ in range(3):
        sign_in_form(at, "test-admin", "guess-guess-guess")
    sign_in_form(at, "test-admin", PASSWORD)
    assert on_sign_in_page(at) and "登录失败次数过多" in texts(at)
    assert "login_locked" in [e["action"] for e in audit.read(data_dir)]


def test_idle_session_expires(data_dir):
    at = new_app(data_dir, "analyst")
    at.session_state["auth_last_seen"] = time.time() - 8 * 3600 - 60
    at.run()
    assert on_sign_in_page(at) and "长时间未操作" in texts(at)
    assert nav(at) == set()
    assert audit.read(data_dir)[-1]["action"] == "session_end"
    fresh = new_app(data_dir, "analyst")
    fresh.session_state["auth_last_seen"] = time.time() - 7 * 3600
    fresh.run()
    assert nav(fresh) == ANALYST


def test_english_sign_in_page(data_dir):
    at = new_app()
    at.query_params["lang"] = "en"
    at.run()
    assert [t.value for t in at.title] == ["Sign in"]
    sign_in_form(at, "test-viewer", "wrong-password")
    assert "Wrong user name or password." in texts(at)


# -- anonymous read-only mode ---------------------------------------------------------------------

def test_anonymous_mode_shows_viewer_pages_only(data_dir, monkeypatch):
    monkeypatch.setenv("RRTT_ANONYMOUS", "1")
    at = new_app().run()
    assert not at.exception and [t.value for t in at.title] == ["总览"]
    assert nav(at) == VIEWER
    assert "匿名只读模式" in texts(at)
    for page in ["upload", "history", "targets", "users", "audit"]:
        with pytest.raises(ValueError):
            at.switch_page(f"pages/{page}.py")
    direct = new_app()                    # the users page's URL: the sign-in form, not the page
    direct.switch_page("pages/users.py")
    direct.run()
    assert on_sign_in_page(direct) and not direct.get("dataframe")
    # an analyst can still sign in from the anonymous screen
    at.switch_page("pages/login.py").run()
    sign_in_form(at, "test-analyst", PASSWORD)
    assert nav(at) == ANALYST


def test_anonymous_mode_is_off_by_default(data_dir):
    assert on_sign_in_page(new_app().run())


# -- admin pages ----------------------------------------------------------------------------------

def test_admin_adds_changes_and_disables_a_user(data_dir):
    at = new_app(data_dir, "admin").run()
    at.switch_page("pages/users.py").run()
    assert not at.exception
    at.text_input(key="users_add_name").input("../evil")
    at.text_input(key="users_add_password").input("long-enough-pw")
    at.button(key="users_add_submit").click().run()
    assert "无效" in texts(at) and Accounts(data_dir).get("../evil") is None
    at.text_input(key="users_add_name").input("wang")
    at.text_input(key="users_add_password").input("short")
    at.button(key="users_add_submit").click().run()
    assert "至少需要 10 个字符" in texts(at) and Accounts(data_dir).get("wang") is None
    at.text_input(key="users_add_name").input("wang")
    at.selectbox(key="users_add_role").select("analyst")
    at.button(key="users_add_submit").click().run()      # empty password: a random one, shown once
    assert not at.exception
    shown = at.get("code")
    assert len(shown) == 1
    generated = shown[0].value
    assert Accounts(data_dir).authenticate("wang", generated) == User("wang", "analyst")
    assert generated not in (data_dir / ACCOUNTS_FILE).read_text()
    at.run()
    assert not at.get("code"), "the generated password is shown only once"
    at.selectbox(key="users_pick").select("wang").run()
    at.button(key="users_disable").click().run()
    assert Accounts(data_dir).get("wang").disabled
    actions = [e["action"] for e in audit.read(data_dir)]
    assert actions.count("user_add") == 1 and "user_disable" in actions


def test_admin_cannot_lock_out_the_last_admin(data_dir):
    at = new_app(data_dir, "admin").run()
    at.switch_page("pages/users.py").run()
    at.selectbox(key="users_pick").select("test-admin").run()
    at.button(key="users_disable").click().run()
    assert "最后一个管理员" in texts(at)
    assert not Accounts(data_dir).get("test-admin").disabled


def test_audit_page_filters_entries(data_dir):
    audit.record(data_dir, User("ann", "analyst"), "publish", snapshot=7)
    audit.record(data_dir, User("bob", "admin"), "user_disable", target="ann")
    at = new_app(data_dir, "admin").run()
    at.switch_page("pages/audit.py").run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 2
    at.multiselect(key="audit_actions").select("publish").run()
    frame = at.dataframe[0].value
    assert len(frame) == 1 and frame.iloc[0].tolist()[1] == "ann"
    assert at.get("download_button"), "the shown entries can be exported"


# -- single sign-on ----------------------------------------------------------------------------

def test_sso_email_maps_to_the_accounts_role(data_dir):
    at = new_app()
    at.secrets["auth"] = SSO_SECRETS
    at.user = {"is_logged_in": True, "email": "boss@example.ORG", "email_verified": True}
    at.run()
    assert not at.exception and [t.value for t in at.title] == ["总览"]
    assert nav(at) == ANALYST and "test-analyst" in texts(at)
    entry = audit.read(data_dir)[-1]
    assert entry["action"] == "login" and entry["via"] == "sso" and entry["user"] == "test-analyst"


def test_sso_unknown_email_gets_no_access(data_dir):
    at = new_app()
    at.secrets["auth"] = SSO_SECRETS
    at.user = {"is_logged_in": True, "email": "stranger@example.org"}
    at.run()
    assert on_sign_in_page(at) and nav(at) == set()
    assert "stranger@example.org" in texts(at) and "未被授权" in texts(at)


def test_sso_button_offered_only_when_configured(data_dir):
    at = new_app()
    at.secrets["auth"] = SSO_SECRETS
    at.user = {"is_logged_in": False}
    at.run()
    assert on_sign_in_page(at)
    assert any("单点登录" in b.label for b in at.button)
    plain = new_app().run()     # AppTest's default st.user has an e-mail but is not signed in
    assert on_sign_in_page(plain) and not any("单点登录" in b.label for b in plain.button)


# -- no password in any file or log ---------------------------------------------------------------

def test_no_password_in_accounts_file_audit_log_or_console(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("RRTT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("RRTT_ANONYMOUS", raising=False)
    at = new_app().run()                      # first start: creates admin, prints its password
    first = (tmp_path / "initial_admin_password.txt").read_text().split()[1]
    sign_in_form(at, "admin", "wrong-guess-AAAA")
    sign_in_form(at, "wrong-guess-BBBB", "wrong-guess-CCCC")
    sign_in_form(at, "admin", first)
    assert nav(at) == ADMIN
    at.switch_page("pages/users.py").run()
    at.text_input(key="users_add_name").input("li")
    at.text_input(key="users_add_password").input("chosen-pw-DDDD")
    at.button(key="users_add_submit").click().run()
    at.selectbox(key="users_pick").select("li").run()
    at.text_input(key="users_new_password").input("chosen-pw-EEEE")
    at.button(key="users_passwd_submit").click().run()
    assert Accounts(tmp_path).authenticate("li", "chosen-pw-EEEE")
    console = capfd.readouterr()
    console = console.out + console.err
    assert console.count(first) == 2, "the first admin's password is printed once (zh + en line)"
    files = {p.name: p.read_text(errors="replace") for p in tmp_path.iterdir() if p.is_file()}
    assert "initial_admin_password.txt" not in files, "removed after the first sign-in"
    for secret in (first, "wrong-guess-AAAA", "wrong-guess-BBBB", "wrong-guess-CCCC",
                   "chosen-pw-DDDD", "chosen-pw-EEEE"):
        for name, content in files.items():
            assert secret not in content, (secret, name)
        if secret != first:
            assert secret not in console, secret


def test_corrupt_accounts_file_is_a_message_not_a_crash(data_dir):
    good = (data_dir / ACCOUNTS_FILE).read_bytes()
    (data_dir / ACCOUNTS_FILE).write_text("{not json")
    at = new_app(data_dir=None).run()
    assert on_sign_in_page(at) and "无法读写账户文件" in texts(at)
    sign_in_form(at, "test-admin", PASSWORD)
    assert on_sign_in_page(at) and not at.exception
    assert (data_dir / ACCOUNTS_FILE).read_text() == "{not json", "never replaced by a fresh admin"
    (data_dir / ACCOUNTS_FILE).write_bytes(good)


def test_user_changes_own_password_in_the_sidebar(data_dir):
    at = new_app(data_dir, "viewer").run()
    at.text_input(key="own_current").input("wrong-current-pw")
    at.text_input(key="own_new").input("my-new-password-1")
    at.button(key="own_submit").click().run()
    assert "当前密码不正确" in texts(at)
    at.text_input(key="own_current").input(PASSWORD)
    at.text_input(key="own_new").input("my-new-password-1")
    at.button(key="own_submit").click().run()
    assert "密码已修改" in texts(at)
    assert Accounts(data_dir).authenticate("test-viewer", "my-new-password-1")
