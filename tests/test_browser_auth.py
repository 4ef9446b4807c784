"""Access control in a real browser: Streamlit + Debian's Chromium.

An anonymous visitor and a signed-in viewer open the upload and users pages' URLs directly and
never see their forms (on a fresh server the first such URL is routed by the pages/ folder
convention, the path that must not bypass the gate); signing in and out; the first-start admin
signs in with the one-time password; anonymous read-only mode. Screenshots: tests/artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests import auth_support
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, streamlit_server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
TIMEOUT = 30_000
pytestmark = pytest.mark.browser
expect.set_options(timeout=TIMEOUT)


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """An empty data directory: the app's first start creates admin; tests add the rest."""
    return tmp_path_factory.mktemp("auth_data")


@pytest.fixture(scope="module")
def server(data_dir, chromium, tmp_path_factory):
    log = tmp_path_factory.mktemp("auth_log") / "streamlit.log"
    with streamlit_server(str(data_dir), log, env={"RRTT_ANONYMOUS": "0"}) as base:
        yield base, log


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1300, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


def idle(page: Page) -> None:
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")


def heading(page: Page, name: str):
    return page.get_by_test_id("stMain").get_by_role("heading", name=name, exact=True)


def assert_no_privileged_form(page: Page) -> None:
    main = page.get_by_test_id("stMain")
    assert heading(page, "数据上传").count() == 0 and heading(page, "用户").count() == 0
    assert main.get_by_test_id("stFileUploader").count() == 0
    assert main.get_by_text("添加用户").count() == 0
    assert main.get_by_test_id("stException").count() == 0


def sign_in(page: Page, name: str, password: str) -> None:
    auth_support.browser_sign_in(page, name, password)
    idle(page)


def test_direct_urls_signed_out_then_as_viewer(server, data_dir, page: Page):
    base, log = server
    # the very first visit to this server is a privileged page's URL (routed by the pages/
    # folder convention); the visitor signs in right there
    page.goto(f"{base}/upload")
    expect(heading(page, "登录")).to_be_visible()
    idle(page)
    assert_no_privileged_form(page)
    auth_support.ensure_account(data_dir, "test-viewer", "viewer")   # after the first start
    page.screenshot(path=str(ARTIFACTS / "auth_direct_url_signed_out.png"))
    sign_in(page, "test-viewer", auth_support.PASSWORD)
    expect(heading(page, "总览")).to_be_visible()
    assert_no_privileged_form(page)
    for path in ("users", "audit"):
        page.goto(f"{base}/{path}")
        expect(heading(page, "登录")).to_be_visible()
        idle(page)
        assert_no_privileged_form(page)

    for path in ("upload", "users"):
        page.goto(f"{base}/{path}")          # a new browser session: sign in there
        sign_in(page, "test-viewer", auth_support.PASSWORD)
        expect(heading(page, "总览")).to_be_visible()
        assert_no_privileged_form(page)
        assert page.get_by_role("link", name="指标详情").count() >= 1   # the viewer's navigation
        assert page.get_by_role("link", name="数据上传").count() == 0
        assert page.get_by_role("link", name="用户").count() == 0
    expect(page.get_by_text("当前用户：test-viewer（查看者）")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "auth_viewer_direct_url.png"))
    assert auth_support.PASSWORD not in log.read_text(errors="replace")


def test_wrong_password_sign_in_and_sign_out(server, data_dir, page: Page):
    base, _ = server
    auth_support.ensure_account(data_dir, "test-analyst", "analyst")
    page.goto(base)
    sign_in(page, "test-analyst", "not-the-password")
    expect(page.get_by_text("用户名或密码不正确。")).to_be_visible()
    sign_in(page, "test-analyst", auth_support.PASSWORD)
    expect(heading(page, "总览")).to_be_visible()
    page.get_by_role("link", name="数据上传").first.click()   # an analyst does get the page
    expect(heading(page, "数据上传")).to_be_visible()
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_text("您已退出登录。")).to_be_visible()
    expect(heading(page, "登录")).to_be_visible()
    assert heading(page, "数据上传").count() == 0


def test_first_start_admin_signs_in_with_the_one_time_password(server, data_dir, page: Page):
    base, log = server
    page.goto(f"{base}/users")
    expect(heading(page, "登录")).to_be_visible()          # the first run created admin
    secret = data_dir / "initial_admin_password.txt"
    password = secret.read_text().split()[1]
    assert log.read_text(errors="replace").count(password) == 2   # printed once (zh + en line)
    sign_in(page, "admin", password)
    expect(heading(page, "用户")).to_be_visible()       # the bookmarked page, now allowed
    expect(page.get_by_text("添加用户", exact=True).first).to_be_visible()
    expect(page.get_by_text("当前用户：admin（管理员）")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "auth_users_page.png"))
    assert not secret.exists(), "the one-time file goes after the first sign-in"


def test_anonymous_mode_never_shows_privileged_pages(data_dir, chromium, tmp_path_factory, page: Page):
    log = tmp_path_factory.mktemp("anon_log") / "streamlit.log"
    with streamlit_server(str(data_dir), log, env={"RRTT_ANONYMOUS": "1"}) as base:
        page.goto(base)
        expect(heading(page, "总览")).to_be_visible()      # viewer pages without signing in
        expect(page.get_by_text("匿名只读模式")).to_be_visible()
        assert page.get_by_role("link", name="数据上传").count() == 0
        for path in ("upload", "users", "audit", "history"):
            page.goto(f"{base}/{path}")
            expect(heading(page, "登录")).to_be_visible()   # the sign-in form, never the page
            idle(page)
            assert_no_privileged_form(page)
        page.screenshot(path=str(ARTIFACTS / "auth_anonymous_direct_url.png"))
        # an analyst signs in from the anonymous screen's sidebar link
        auth_support.ensure_account(data_dir, "test-analyst", "analyst")
        page.goto(base)
        expect(heading(page, "总览")).to_be_visible()
        page.get_by_test_id("stSidebar").get_by_role("link", name="登录").click()
        sign_in(page, "test-analyst", auth_support.PASSWORD)
        expect(heading(page, "总览")).to_be_visible()
        expect(page.get_by_role("link", name="数据上传")).to_be_visible()
        expect(page.get_by_text("当前用户：test-analyst（分析员）")).to_be_visible()
