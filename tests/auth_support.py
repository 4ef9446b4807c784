"""Signed-in sessions for tests: an account in the data directory and the session state the
sign-in gate (pages/auth_ui.py) expects, seeded into an AppTest before its first run."""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from metrics import paths
from metrics.auth import SYSTEM, User
from metrics.auth.accounts import Accounts

PASSWORD = "test-password-1234"   # every account this module creates has it


def ensure_account(data_dir: Path | str, name: str, role: str, password: str = PASSWORD) -> User:
    """The account ``name`` with ``role`` in ``data_dir`` (created, or its role set)."""
    accounts = Accounts(data_dir)
    acc = accounts.get(name)
    if acc is None:
        acc = accounts.add(SYSTEM, name, role, password)
    elif acc.role != role or acc.disabled:
        accounts.enable(SYSTEM, name)
        acc = accounts.set_role(SYSTEM, name, role)
    return acc.user


def sign_in(at: AppTest, data_dir: Path | str | None = None, role: str = "viewer",
            name: str | None = None) -> User:
    """Seed ``at`` with a session signed in as ``name`` (default ``test-<role>``); the account
    goes into ``data_dir`` (default: the live data directory, i.e. ``$RRTT_DATA_DIR``)."""
    user = ensure_account(data_dir or paths.data_dir(), name or f"test-{role}", role)
    at.session_state["user"] = user
    at.session_state["auth_via"] = "password"
    at.session_state["auth_last_seen"] = time.time()
    return user


def browser_sign_in(page, name: str, password: str = PASSWORD) -> None:
    """Playwright: fill the sign-in form the page shows and submit it (waits for the run)."""
    from playwright.sync_api import expect
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="登录", exact=True)).to_be_visible()
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码").fill(password)
    main.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")
